// Peer sockets for a room held by another node are carried to it over the dist link (so they are as protected as
// any dist traffic, and need no extra port): the entry node reads the room from the first frame's token, then relays
// frames both ways; the owner runs the ordinary peer socket handler on a virtual socket. The original Fishjam could
// not do this (its peer_websocket_url had to point at the right node).
// The entry node supervises the client's socket (../api/socket-supervision.ts): the auth deadline runs until the owner
// answers `authenticated`, and a client that misses a pong is terminated there, which closes the relayed session at
// the owner (its peer turns `disconnected`). The owner's virtual socket answers its own pings at once: the client's
// liveness is the entry node's job, the link's the dist link's.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { closeSocket, HANDLER_FAILURE, watchSocket, withErrorBoundary, type LivenessTimings, type SocketWatch } from '../api/socket-supervision.js';
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

  ping(): void {
    queueMicrotask(() => this.emit('pong'));
  }

  terminate(): void {
    this.close(1006, '');
  }
}

export class PeerSocketProxy {
  /** sockets relayed from this entry node: sid -> client socket */
  private readonly outbound = new Map<string, { socket: WebSocket; node: string; watch: SocketWatch; authenticated: boolean }>();
  /** sockets relayed to this owner node: sid -> virtual socket */
  private readonly inbound = new Map<string, { socket: RelayedSocket; node: string }>();

  constructor(
    private readonly cluster: ClusterNode,
    private readonly locate: (roomId: string) => Promise<string>,
    private readonly handleLocally: PeerSocketHandler,
    private readonly logger: Logger,
    /** auth deadline and ping interval of client sockets (defaults: 5 s, 30 s) */
    private readonly liveness?: Partial<LivenessTimings>,
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
    // Supervised from the start: a socket that sends nothing is closed "unauthenticated" like any other.
    const watch = watchSocket(socket, { timings: this.liveness, unauthenticatedReason: 'unauthenticated', logger: this.logger, what: 'peer socket' });
    socket.on('error', () => socket.terminate());
    // Frames that arrive while the owner is being located are held and replayed in order.
    const held: Array<[Buffer, boolean]> = [];
    const hold = (data: WebSocket.RawData, isBinary: boolean) => held.push([Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), isBinary]);
    socket.on('message', hold);
    socket.once('message', withErrorBoundary(socket, this.logger, 'peer socket', (data, isBinary) => {
      const first = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      const decoded = isBinary ? decodePeerMessage(first) : undefined;
      const roomId = decoded?.ok && 'authRequest' in decoded.value ? peekPeerTokenRoom(decoded.value.authRequest.token) : undefined;
      (roomId !== undefined ? this.locate(roomId) : Promise.resolve(this.cluster.self.full))
        .then((owner) => {
          socket.off('message', hold);
          // Gone while its owner was looked up: nothing to hand over (an open at the owner would never be closed).
          if (socket.readyState !== socket.OPEN) return watch.stop();
          if (owner === this.cluster.self.full || !this.cluster.isLinked(owner)) {
            watch.stop(); // the local handler supervises the socket itself
            this.handleLocally(socket);
          } else {
            this.relay(socket, owner, watch);
          }
          for (const [bytes, binary] of held) socket.emit('message', bytes, binary);
        })
        .catch((error: unknown) => {
          this.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'peer socket: handing the socket over failed; closing it');
          closeSocket(socket, HANDLER_FAILURE.code, HANDLER_FAILURE.reason);
        });
    }));
  }

  private relay(socket: WebSocket, node: string, watch: SocketWatch): void {
    const sid = randomUUID();
    this.outbound.set(sid, { socket, node, watch, authenticated: false });
    this.cluster.send(node, { t: 'ps', op: 'open', sid });
    this.logger.debug({ sid, node }, 'relaying a peer socket to the room owner');
    socket.on('message', withErrorBoundary(socket, this.logger, 'relayed peer socket', (data) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      this.cluster.send(node, { t: 'ps', op: 'data', sid, d: bytes.toString('base64') });
    }));
    socket.on('close', () => {
      if (this.outbound.delete(sid)) this.cluster.send(node, { t: 'ps', op: 'close', sid, code: 1000, reason: '' });
    });
  }

  /** One relay message in its own error boundary: a failure closes that relayed socket 1011, nothing else. */
  private onRelay(message: RelayMessage, from: string): void {
    try {
      this.handleRelay(message, from);
    } catch (error) {
      this.logger.error({ sid: message.sid, op: message.op, err: error instanceof Error ? error.message : String(error) }, 'relayed peer socket: handling a relay message failed; closing it');
      const outbound = this.outbound.get(message.sid);
      if (outbound) closeSocket(outbound.socket, HANDLER_FAILURE.code, HANDLER_FAILURE.reason);
      this.inbound.get(message.sid)?.socket.close(HANDLER_FAILURE.code, HANDLER_FAILURE.reason);
    }
  }

  private handleRelay(message: RelayMessage, from: string): void {
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
      else if (outbound) {
        if (!outbound.authenticated && isAuthenticated(bytes)) {
          outbound.authenticated = true;
          outbound.watch.authenticated();
        }
        outbound.socket.send(bytes);
      }
    } else if (message.op === 'close') {
      if (inbound) {
        this.inbound.delete(message.sid);
        inbound.socket.remoteClosed();
      } else if (outbound) {
        this.outbound.delete(message.sid);
        const code = message.code ?? 1000;
        // 1006 is the owner's terminate(): no close frame for the client either (ws refuses to send 1005/1006/1015).
        if (sendableCloseCode(code)) closeSocket(outbound.socket, code, message.reason ?? '');
        else outbound.socket.terminate();
      }
    }
  }
}

function isAuthenticated(bytes: Buffer): boolean {
  const decoded = decodePeerMessage(bytes);
  return decoded.ok && 'authenticated' in decoded.value;
}

/** Close codes a close frame may carry (RFC 6455 7.4; what `ws` accepts). */
function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

interface RelayMessage {
  t: 'ps';
  op: 'open' | 'data' | 'close';
  sid: string;
  d?: string;
  code?: number;
  reason?: string;
}
