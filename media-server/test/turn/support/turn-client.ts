// A minimal TURN client over UDP (RFC 5389 STUN framing, RFC 5766 TURN) for tests: Allocate with long-term
// credentials (401 -> realm and nonce -> retry with MESSAGE-INTEGRITY; 438 stale nonce -> retry), CreatePermission,
// Send indications and received Data indications, Refresh with lifetime 0. IPv4 only.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

const MAGIC = 0x2112a442;
const Method = {
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
} as const;
type Method = (typeof Method)[keyof typeof Method];
const Attr = {
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedTransport: 0x0019,
  XorMappedAddress: 0x0020,
} as const;
export const UDP = 17;
export const TCP = 6;

export interface Address {
  ip: string;
  port: number;
}

export interface StunMessage {
  type: number;
  transactionId: Buffer;
  attributes: Map<number, Buffer>;
}

/** A failed request: the server's error code (e.g. 403 Forbidden, 442 Unsupported Transport Protocol). */
export class TurnError extends Error {
  constructor(
    readonly code: number,
    reason: string,
  ) {
    super(`TURN error ${code} ${reason}`);
  }
}

export class TurnClient {
  private readonly socket = dgram.createSocket('udp4');
  private readonly pending = new Map<string, (m: StunMessage) => void>();
  private readonly dataListeners: Array<(from: Address, data: Buffer) => void> = [];
  private realm = '';
  private nonce = '';
  private key = Buffer.alloc(0);

  private constructor(
    private readonly server: Address,
    private readonly username: string,
    private readonly password: string,
  ) {
    this.socket.on('message', (packet) => this.onPacket(packet));
  }

  /** bindIp: the client's own address (loopback by default; a namespace's address in network tests) */
  static async open(server: Address, username: string, password: string, bindIp = '127.0.0.1'): Promise<TurnClient> {
    const client = new TurnClient(server, username, password);
    await new Promise<void>((resolve) => client.socket.bind(0, bindIp, resolve));
    return client;
  }

  /** Allocates a relay; returns the relayed address. Rejects with TurnError on an error response. */
  async allocate(transport = UDP): Promise<Address> {
    const requested = Buffer.alloc(4);
    requested[0] = transport;
    const response = await this.authenticated(Method.Allocate, [[Attr.RequestedTransport, requested]]);
    return decodeXorAddress(response.attributes.get(Attr.XorRelayedAddress)!);
  }

  async createPermission(peer: Address): Promise<void> {
    await this.authenticated(Method.CreatePermission, [[Attr.XorPeerAddress, encodeXorAddress(peer)]]);
  }

  /** A Send indication: the server relays `data` to `peer` if a permission for the peer's IP exists (no answer). */
  send(peer: Address, data: Buffer): void {
    const message = encode(Method.Send | 0x0010, randomBytes(12), [
      [Attr.XorPeerAddress, encodeXorAddress(peer)],
      [Attr.Data, data],
    ]);
    this.socket.send(message, this.server.port, this.server.ip);
  }

  onData(listener: (from: Address, data: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  /** Resolves with the first Data indication matching `predicate`, or undefined after `timeoutMs`. */
  nextData(timeoutMs: number, predicate: (from: Address, data: Buffer) => boolean = () => true): Promise<{ from: Address; data: Buffer } | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.onData((from, data) => {
        if (!predicate(from, data)) return;
        clearTimeout(timer);
        resolve({ from, data });
      });
    });
  }

  async close(): Promise<void> {
    try {
      if (this.nonce) await this.authenticated(Method.Refresh, [[Attr.Lifetime, Buffer.from([0, 0, 0, 0])]]);
    } catch {
      // no allocation (or already gone): nothing to free
    }
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** A request with long-term credentials, learning realm and nonce from a 401 (or a fresh nonce from a 438). */
  private async authenticated(method: Method, attributes: Array<[number, Buffer]>): Promise<StunMessage> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const withAuth: Array<[number, Buffer]> = this.nonce
        ? [...attributes, [Attr.Username, Buffer.from(this.username)], [Attr.Realm, Buffer.from(this.realm)], [Attr.Nonce, Buffer.from(this.nonce)]]
        : attributes;
      const response = await this.request(method, withAuth, this.nonce ? this.key : undefined);
      const klass = response.type & 0x0110;
      if (klass === 0x0100) return response;
      const { code, reason } = decodeError(response.attributes.get(Attr.ErrorCode));
      if ((code === 401 && !this.nonce) || code === 438) {
        this.realm = response.attributes.get(Attr.Realm)?.toString() ?? this.realm;
        this.nonce = response.attributes.get(Attr.Nonce)?.toString() ?? '';
        this.key = createHash('md5').update(`${this.username}:${this.realm}:${this.password}`).digest();
        continue;
      }
      throw new TurnError(code, reason);
    }
    throw new Error('TURN authentication did not converge');
  }

  private request(method: Method, attributes: Array<[number, Buffer]>, key: Buffer | undefined): Promise<StunMessage> {
    const transactionId = randomBytes(12);
    const message = encode(method, transactionId, attributes, key);
    return new Promise((resolve, reject) => {
      let tries = 0;
      const resend = () => {
        if (tries++ >= 6) {
          clearInterval(timer);
          this.pending.delete(transactionId.toString('hex'));
          reject(new Error(`no answer to TURN method 0x${method.toString(16)}`));
          return;
        }
        this.socket.send(message, this.server.port, this.server.ip);
      };
      const timer = setInterval(resend, 500);
      this.pending.set(transactionId.toString('hex'), (m) => {
        clearInterval(timer);
        resolve(m);
      });
      resend();
    });
  }

  private onPacket(packet: Buffer): void {
    const message = decode(packet);
    if (!message) return;
    if (message.type === (Method.Data | 0x0010)) {
      const from = decodeXorAddress(message.attributes.get(Attr.XorPeerAddress)!);
      const data = message.attributes.get(Attr.Data) ?? Buffer.alloc(0);
      for (const listener of this.dataListeners) listener(from, data);
      return;
    }
    const key = message.transactionId.toString('hex');
    const waiter = this.pending.get(key);
    if (waiter) {
      this.pending.delete(key);
      waiter(message);
    }
  }
}

function encode(type: number, transactionId: Buffer, attributes: Array<[number, Buffer]>, key?: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const [attrType, value] of attributes) parts.push(attribute(attrType, value));
  let body = Buffer.concat(parts);
  const header = (length: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(MAGIC, 4);
    transactionId.copy(h, 8);
    return h;
  };
  if (key) {
    // the length in the header counts MESSAGE-INTEGRITY (24 bytes) while the HMAC covers what precedes it
    const hmac = createHmac('sha1', key).update(Buffer.concat([header(body.length + 24), body])).digest();
    body = Buffer.concat([body, attribute(Attr.MessageIntegrity, hmac)]);
  }
  return Buffer.concat([header(body.length), body]);
}

function attribute(type: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

function decode(packet: Buffer): StunMessage | undefined {
  if (packet.length < 20 || packet.readUInt32BE(4) !== MAGIC) return undefined;
  const attributes = new Map<number, Buffer>();
  const end = Math.min(packet.length, 20 + packet.readUInt16BE(2));
  for (let offset = 20; offset + 4 <= end; ) {
    const type = packet.readUInt16BE(offset);
    const length = packet.readUInt16BE(offset + 2);
    if (!attributes.has(type)) attributes.set(type, packet.subarray(offset + 4, offset + 4 + length));
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  return { type: packet.readUInt16BE(0), transactionId: packet.subarray(8, 20), attributes };
}

function encodeXorAddress({ ip, port }: Address): Buffer {
  const value = Buffer.alloc(8);
  value[1] = 0x01;
  value.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const octets = ip.split('.').map(Number);
  value.writeUInt32BE((((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) ^ MAGIC) >>> 0, 4);
  return value;
}

function decodeXorAddress(value: Buffer): Address {
  const port = value.readUInt16BE(2) ^ (MAGIC >>> 16);
  const raw = (value.readUInt32BE(4) ^ MAGIC) >>> 0;
  return { ip: [raw >>> 24, (raw >>> 16) & 255, (raw >>> 8) & 255, raw & 255].join('.'), port };
}

function decodeError(value: Buffer | undefined): { code: number; reason: string } {
  if (!value || value.length < 4) return { code: 0, reason: 'no ERROR-CODE' };
  return { code: (value[2]! & 0x07) * 100 + value[3]!, reason: value.subarray(4).toString() };
}
