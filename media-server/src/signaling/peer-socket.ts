// /socket/peer/websocket: one peer's socket. Before authentication only an auth_request is accepted (anything else
// closes 1000 "unauthenticated"); the token is checked against the room's registry (close reasons as Fishjam's).
// After it, media events go to the room's signalling and garbage frames are ignored, never fatal.
// Supervised (../api/socket-supervision.ts): a socket not authenticated within the auth deadline closes 1000
// "unauthenticated"; one that misses a pong is terminated, which leaves its peer `disconnected` (so the room's
// peerDisconnectedTimeout starts); a message whose handling throws closes this socket 1011, never the node.
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { closeSocket, watchSocket, withErrorBoundary, type LivenessTimings } from '../api/socket-supervision.js';
import { decodePeerMessage, encodePeerMessage } from '../proto/index.js';
import { verifyPeerToken } from '../rooms/peer-token.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { SignalingHub } from './signaling-hub.js';

/** Outgoing bytes a peer socket may have waiting before the client counts as not reading. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface PeerSocketDeps {
  readonly registry: RoomRegistry;
  readonly hub: SignalingHub;
  readonly secretKeyBase: string;
  readonly logger: Logger;
  readonly now?: () => number;
  /** auth deadline and ping interval (defaults: 5 s, 30 s) */
  readonly liveness?: Partial<LivenessTimings>;
}

export function handlePeerSocket(socket: WebSocket, deps: PeerSocketDeps): void {
  let joined: { roomId: string; peerId: string } | undefined;
  const watch = watchSocket(socket, { timings: deps.liveness, unauthenticatedReason: 'unauthenticated', logger: deps.logger, what: 'peer socket' });
  const close = (code: number, reason: string): void => closeSocket(socket, code, reason);

  socket.on('message', withErrorBoundary(socket, deps.logger, 'peer socket', (data, isBinary) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    const decoded = isBinary ? decodePeerMessage(bytes) : undefined;
    if (!joined) {
      if (!decoded?.ok || !('authRequest' in decoded.value)) return close(1000, 'unauthenticated');
      const failure = authenticate(decoded.value.authRequest.token);
      if (failure) {
        deps.logger.warn({ reason: failure }, 'peer authentication failed');
        return close(1000, failure);
      }
      return;
    }
    if (!decoded?.ok || !('mediaEvent' in decoded.value)) {
      deps.logger.debug({ peer: joined.peerId }, 'ignoring a peer frame that is not a media event');
      return;
    }
    deps.hub.receive(joined.roomId, joined.peerId, decoded.value.mediaEvent.data);
  }));

  function authenticate(token: string): string | undefined {
    const claims = verifyPeerToken(token, deps.secretKeyBase, (deps.now ?? Date.now)());
    if (!claims.ok) return claims.reason;
    const room = deps.registry.find(claims.roomId);
    if (!room) return 'room not found';
    const peer = room.peers.get(claims.peerId);
    if (!peer) return 'peer not found';
    if (peer.status === 'connected' || deps.hub.isAttached(claims.roomId, claims.peerId)) return 'peer already connected';
    joined = { roomId: claims.roomId, peerId: claims.peerId };
    watch.authenticated();
    socket.send(encodePeerMessage({ authenticated: {} }));
    deps.hub.attach(claims.roomId, claims.peerId, {
      send: (data) => {
        if (socket.readyState !== socket.OPEN) return;
        // A client that stops reading its socket must not make the node buffer for it without end.
        if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          deps.logger.warn({ peer: claims.peerId, buffered: socket.bufferedAmount }, 'peer socket not reading; closing it');
          socket.terminate();
          return;
        }
        socket.send(encodePeerMessage({ mediaEvent: { data } }));
      },
      close,
    });
    deps.registry.markConnected(claims.roomId, claims.peerId);
    return undefined;
  }

  socket.on('close', withErrorBoundary(socket, deps.logger, 'peer socket close', () => {
    if (!joined) return;
    const { roomId, peerId } = joined;
    try {
      deps.hub.detach(roomId, peerId);
    } finally {
      deps.registry.markDisconnected(roomId, peerId);
    }
  }));
  socket.on('error', (error) => {
    deps.logger.warn({ err: error.message }, 'peer socket error');
    socket.terminate();
  });
}
