// One authenticated connection between two nodes: a WebSocket (wss when FJ_DIST_TLS_* is set) on the dist port.
// Both sides prove they know FJ_DIST_COOKIE with HMAC challenge/response over fresh nonces; the cookie itself never
// crosses the wire; each side's first load report rides in the handshake, so a node is usable the moment its link
// is up. After the handshake, JSON messages flow both ways.
// Liveness: anything heard from the other node (a message or a pong) counts; a link silent for a while is pinged, and
// one silent for `silentAfterMs` is terminated (a frozen node keeps its sockets open; TCP alone would wait minutes).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';

export type DistMessage = Record<string, unknown> & { t: string };

const HANDSHAKE_TIMEOUT_MS = 5000;

/** The largest message either end of a dist link accepts (both ends use it: the server's and the client's ws). */
export const DIST_MAX_PAYLOAD = 16 * 1024 * 1024;

export class PayloadTooLargeError extends Error {
  constructor(readonly bytes: number) {
    super(`message of ${bytes} bytes exceeds the dist link limit of ${DIST_MAX_PAYLOAD} bytes`);
  }
}

export interface LinkTimings {
  /** ping when nothing was heard for this long */
  readonly pingAfterMs: number;
  /** terminate when nothing was heard for this long */
  readonly silentAfterMs: number;
  readonly checkEveryMs: number;
}

export const DEFAULT_LINK_TIMINGS: LinkTimings = { pingAfterMs: 500, silentAfterMs: 2000, checkEveryMs: 250 };

export class DistLink extends EventEmitter<{ message: [DistMessage]; close: [] }> {
  private closed = false;
  /** last time anything (message or pong) came from the other node */
  lastHeard = Date.now();
  private lastPing = 0;
  private lastCheck = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  /** why the link closed, for logs */
  closeReason = 'closed';
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    readonly peer: string,
    private readonly socket: WebSocket,
    readonly initiatedHere: boolean,
    private readonly timings: LinkTimings = DEFAULT_LINK_TIMINGS,
  ) {
    super();
    socket.on('message', (data) => {
      this.lastHeard = Date.now();
      const text = String(data);
      this.bytesIn += text.length;
      try {
        const message = JSON.parse(text) as DistMessage;
        if (typeof message.t === 'string') this.emit('message', message);
      } catch {
        // a peer that passed the handshake sends JSON; anything else is dropped
      }
    });
    socket.on('pong', () => (this.lastHeard = Date.now()));
    socket.on('ping', () => (this.lastHeard = Date.now()));
    socket.on('close', () => this.markClosed());
    socket.on('error', () => socket.terminate());
    this.watchdog = setInterval(() => this.check(), timings.checkEveryMs);
    this.watchdog.unref();
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends if open; throws PayloadTooLargeError for a message the other end would refuse (it would close the link). */
  send(message: DistMessage): void {
    if (!this.open) return;
    const text = JSON.stringify(message);
    // JSON is mostly ASCII: the byte length is checked only when the character count comes near the limit
    if (text.length * 3 > DIST_MAX_PAYLOAD) {
      const bytes = Buffer.byteLength(text);
      if (bytes > DIST_MAX_PAYLOAD) throw new PayloadTooLargeError(bytes);
    }
    this.bytesOut += text.length;
    this.socket.send(text);
  }

  close(): void {
    this.socket.close(1000, 'closing');
    this.markClosed();
  }

  private check(): void {
    const now = Date.now();
    const stalled = now - this.lastCheck > this.timings.silentAfterMs / 2;
    this.lastCheck = now;
    // This process itself was stalled (frozen, or a long blocking task): what the other node sent meanwhile is still
    // unread in the socket, and timers run before the loop reads sockets. So the verdict waits for this turn's reads
    // (setImmediate runs after them) instead of excusing the silence: an excuse granted on every stalled check meant
    // that a node whose loop lagged on every check never dropped a dead peer (seen in bench/cluster-sim.ts).
    if (stalled) setImmediate(() => this.judge());
    else this.judge();
  }

  private judge(): void {
    if (this.closed) return;
    const now = Date.now();
    const silence = now - this.lastHeard;
    if (silence > this.timings.silentAfterMs) {
      this.closeReason = `silent for ${silence} ms`;
      this.socket.terminate();
      this.markClosed();
    } else if (silence >= this.timings.pingAfterMs && now - this.lastPing >= this.timings.pingAfterMs) {
      this.lastPing = now;
      this.bytesOut += 2;
      this.socket.ping();
    }
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.emit('close');
  }
}

function proof(cookie: string, role: 'client' | 'server', ...parts: string[]): string {
  return createHmac('sha256', cookie).update(`${role}|${parts.join('|')}`).digest('hex');
}

function sameProof(a: string, b: unknown): boolean {
  if (typeof b !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Handshake messages, queued from the moment the socket exists: the other side's first message can arrive in the
 * same TCP segment as the HTTP upgrade answer and be emitted before any later listener is attached.
 */
export class HandshakeInbox {
  private readonly queue: DistMessage[] = [];
  private waiter: ((m: DistMessage | Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(private readonly socket: WebSocket) {
    socket.on('message', this.onMessage);
    socket.on('close', this.onClose);
  }

  private readonly onMessage = (data: WebSocket.RawData): void => {
    let message: DistMessage | Error;
    try {
      message = JSON.parse(String(data)) as DistMessage;
    } catch {
      message = new Error('handshake message is not JSON');
    }
    if (this.waiter) this.waiter(message);
    else if (message instanceof Error) this.failure = message;
    else this.queue.push(message);
  };

  private readonly onClose = (code: number, reason: Buffer): void => {
    const error = new Error(`closed during handshake: ${code} ${reason.toString()}`);
    if (this.waiter) this.waiter(error);
    else this.failure = error;
  };

  next(timeoutMs: number): Promise<DistMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error('handshake timed out')), timeoutMs);
      const settle = (m: DistMessage | Error) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (m instanceof Error) reject(m);
        else resolve(m);
      };
      this.waiter = settle;
    });
  }

  /** Stop listening: after the handshake the DistLink reads the socket. */
  detach(): void {
    this.socket.off('message', this.onMessage);
    this.socket.off('close', this.onClose);
  }
}

export interface Handshake {
  /** the other node's name */
  readonly peer: string;
  /** what the other node sent along (its load report) */
  readonly hello: unknown;
}

/** Accepting side: challenge the connecting node; resolves with its name once it proved the cookie. `hello` (this
 *  node's load) goes out only after the other node proved the cookie. */
export async function acceptHandshake(socket: WebSocket, self: string, cookie: string, hello: () => unknown = () => undefined): Promise<Handshake> {
  const inbox = new HandshakeInbox(socket);
  try {
    return await accept(socket, inbox, self, cookie, hello);
  } finally {
    inbox.detach();
  }
}

async function accept(socket: WebSocket, inbox: HandshakeInbox, self: string, cookie: string, hello: () => unknown): Promise<Handshake> {
  const serverNonce = randomBytes(16).toString('hex');
  socket.send(JSON.stringify({ t: 'challenge', name: self, nonce: serverNonce }));
  const auth = await inbox.next(HANDSHAKE_TIMEOUT_MS);
  if (auth.t !== 'auth' || typeof auth.name !== 'string' || typeof auth.nonce !== 'string') throw new Error('malformed auth message');
  if (!sameProof(proof(cookie, 'client', serverNonce, auth.name, auth.nonce), auth.proof)) {
    socket.close(4001, 'authentication failed');
    throw new Error(`node ${auth.name} failed authentication (wrong FJ_DIST_COOKIE?)`);
  }
  socket.send(JSON.stringify({ t: 'welcome', proof: proof(cookie, 'server', auth.nonce, self, serverNonce), hello: hello() }));
  return { peer: auth.name, hello: auth.hello };
}

/** Connecting side: answer the challenge and check the other node's proof; resolves with its name. The inbox must
 *  have been created together with the socket. */
export async function initiateHandshake(socket: WebSocket, inbox: HandshakeInbox, self: string, cookie: string, hello: () => unknown = () => undefined): Promise<Handshake> {
  try {
    return await initiate(socket, inbox, self, cookie, hello);
  } finally {
    inbox.detach();
  }
}

async function initiate(socket: WebSocket, inbox: HandshakeInbox, self: string, cookie: string, hello: () => unknown): Promise<Handshake> {
  const challenge = await inbox.next(HANDSHAKE_TIMEOUT_MS);
  if (challenge.t !== 'challenge' || typeof challenge.nonce !== 'string' || typeof challenge.name !== 'string') {
    throw new Error('malformed challenge');
  }
  const clientNonce = randomBytes(16).toString('hex');
  // The load sent here is read by the other side only once this proof checks out.
  socket.send(JSON.stringify({ t: 'auth', name: self, nonce: clientNonce, proof: proof(cookie, 'client', challenge.nonce, self, clientNonce), hello: hello() }));
  const welcome = await inbox.next(HANDSHAKE_TIMEOUT_MS);
  if (welcome.t !== 'welcome' || !sameProof(proof(cookie, 'server', clientNonce, challenge.name, challenge.nonce), welcome.proof)) {
    socket.close(4001, 'authentication failed');
    throw new Error(`node ${challenge.name} failed authentication (wrong FJ_DIST_COOKIE?)`);
  }
  return { peer: challenge.name, hello: welcome.hello };
}
