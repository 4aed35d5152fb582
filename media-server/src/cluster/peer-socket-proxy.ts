// Peer sockets for a room held by another node are carried to it over the dist link (so they are as protected as
// any dist traffic, and need no extra port): the entry node reads the room from the first frame's token, then relays
// frames both ways; the owner runs the ordinary peer socket handler on a virtual socket. The original Fishjam could
// not do this (its peer_websocket_url had to point at the right node).
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { decodePeerMessage } from '../proto/index.js';
import { peekPeerTokenRoom } from '../rooms/peer-token.js';
import type { ClusterNode } from './cluster-node.js';

export type PeerSocketHandler = (socket: WebSocket) => void;

/** The part of a `ws` WebSocket the peer socket handler uses, backed by dist-link messages. */
class RelayedSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CONNECTING = 0;
  readyState = 1;

  constructor(private readonly sendFrame: (data: Buffer) => void, private readonly sendClose: (code: number, reason: string) => void) {
    super();
  }

  send(data: Uint8Array): void {
    if (this.readyState === 1) this.sendFrame(Buffer.from(data));
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.sendClose(code, reason);
    this.emit('close', code, Buffer.from(reason));
  }

  remoteClosed(): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.emit('close', 1000, Buffer.from(''));
  }

  ping(): void {}

  terminate(): void {
    this.close(1006, '');
  }
}

export class PeerSocketProxy {
  /** sockets relayed from this entry node: sid -> client socket */
  private readonly outbound = new Map<string, { socket: WebSocket; node: string }>();
  /** sockets relayed to this owner node: sid -> virtual socket */
  private readonly inbound = new Map<string, { socket: RelayedSocket; node: string }>();

  constructor(
    private readonly cluster: ClusterNode,
    private readonly locate: (roomId: string) => Promise<string>,
    private readonly handleLocally: PeerSocketHandler,
    private readonly logger: Logger,
  ) {
    cluster.on('message', (message, from) => {
      if (message.t === 'ps') this.onRelay(message as unknown as RelayMessage, from);
    });
    cluster.on('linkDown', (node) => {
      for (const [sid, o] of this.outbound) {
        if (o.node !== node) continue;
        this.outbound.delete(sid);
        o.socket.close(1011, 'Fishjam instance holding the room is unreachable');
      }
      for (const [sid, i] of this.inbound) {
        if (i.node !== node) continue;
        this.inbound.delete(sid);
        i.socket.remoteClosed();
      }
    });
  }

  /** Entry point for every peer socket on this node. */
  accept(socket: WebSocket): void {
    // Frames that arrive while the owner is being located are held and replayed in order.
    const held: Array<[Buffer, boolean]> = [];
    const hold = (data: WebSocket.RawData, isBinary: boolean) => held.push([Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), isBinary]);
    socket.on('message', hold);
    socket.once('message', (data, isBinary) => {
      const first = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      const decoded = isBinary ? decodePeerMessage(first) : undefined;
      const roomId = decoded?.ok && 'authRequest' in decoded.value ? peekPeerTokenRoom(decoded.value.authRequest.token) : undefined;
      void (roomId !== undefined ? this.locate(roomId) : Promise.resolve(this.cluster.self.full)).then((owner) => {
        socket.off('message', hold);
        if (owner === this.cluster.self.full || !this.cluster.isLinked(owner)) {
          this.handleLocally(socket);
        } else {
          this.relay(socket, owner);
        }
        for (const [bytes, binary] of held) socket.emit('message', bytes, binary);
      });
    });
  }

  private relay(socket: WebSocket, node: string): void {
    const sid = randomUUID();
    this.outbound.set(sid, { socket, node });
    this.cluster.send(node, { t: 'ps', op: 'open', sid });
    this.logger.debug({ sid, node }, 'relaying a peer socket to the room owner');
    socket.on('message', (data) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      this.cluster.send(node, { t: 'ps', op: 'data', sid, d: bytes.toString('base64') });
    });
    socket.on('close', () => {
      if (this.outbound.delete(sid)) this.cluster.send(node, { t: 'ps', op: 'close', sid, code: 1000, reason: '' });
    });
    socket.on('error', () => socket.terminate());
  }

  private onRelay(message: RelayMessage, from: string): void {
    if (message.op === 'open') {
      const virtual = new RelayedSocket(
        (data) => this.cluster.send(from, { t: 'ps', op: 'data', sid: message.sid, d: data.toString('base64') }),
        (code, reason) => {
          this.inbound.delete(message.sid);
          this.cluster.send(from, { t: 'ps', op: 'close', sid: message.sid, code, reason });
        },
      );
      this.inbound.set(message.sid, { socket: virtual, node: from });
      this.handleLocally(virtual as unknown as WebSocket);
      return;
    }
    const inbound = this.inbound.get(message.sid);
    const outbound = this.outbound.get(message.sid);
    if (message.op === 'data') {
      const bytes = Buffer.from(message.d ?? '', 'base64');
      if (inbound) inbound.socket.emit('message', bytes, true);
      else if (outbound) outbound.socket.send(bytes);
    } else if (message.op === 'close') {
      if (inbound) {
        this.inbound.delete(message.sid);
        inbound.socket.remoteClosed();
      } else if (outbound) {
        this.outbound.delete(message.sid);
        outbound.socket.close(message.code ?? 1000, message.reason ?? '');
      }
    }
  }
}

interface RelayMessage {
  t: 'ps';
  op: 'open' | 'data' | 'close';
  sid: string;
  d?: string;
  code?: number;
  reason?: string;
}
