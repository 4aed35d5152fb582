// /socket/peer/websocket: one peer's socket. Before authentication only an auth_request is accepted (anything else
// closes 1000 "unauthenticated"); the token is checked against the room's registry (close reasons as Fishjam's).
// After it, media events go to the room's signalling and garbage frames are ignored, never fatal.
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { decodePeerMessage, encodePeerMessage } from '../proto/index.js';
import { verifyPeerToken } from '../rooms/peer-token.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { SignalingHub } from './signaling-hub.js';

const HEARTBEAT_MS = 30_000;

export interface PeerSocketDeps {
  readonly registry: RoomRegistry;
  readonly hub: SignalingHub;
  readonly secretKeyBase: string;
  readonly logger: Logger;
  readonly now?: () => number;
}

export function handlePeerSocket(socket: WebSocket, deps: PeerSocketDeps): void {
  let joined: { roomId: string; peerId: string } | undefined;
  const heartbeat = setInterval(() => socket.ping(), HEARTBEAT_MS).unref();
  const close = (code: number, reason: string): void => {
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, reason);
  };

  socket.on('message', (data, isBinary) => {
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
  });

  function authenticate(token: string): string | undefined {
    const claims = verifyPeerToken(token, deps.secretKeyBase, (deps.now ?? Date.now)());
    if (!claims.ok) return claims.reason;
    const room = deps.registry.find(claims.roomId);
    if (!room) return 'room not found';
    const peer = room.peers.get(claims.peerId);
    if (!peer) return 'peer not found';
    if (peer.status === 'connected' || deps.hub.isAttached(claims.roomId, claims.peerId)) return 'peer already connected';
    joined = { roomId: claims.roomId, peerId: claims.peerId };
    socket.send(encodePeerMessage({ authenticated: {} }));
    deps.hub.attach(claims.roomId, claims.peerId, {
      send: (data) => {
        if (socket.readyState === socket.OPEN) socket.send(encodePeerMessage({ mediaEvent: { data } }));
      },
      close,
    });
    deps.registry.markConnected(claims.roomId, claims.peerId);
    return undefined;
  }

  socket.on('close', () => {
    clearInterval(heartbeat);
    if (joined) {
      deps.hub.detach(joined.roomId, joined.peerId);
      deps.registry.markDisconnected(joined.roomId, joined.peerId);
    }
  });
  socket.on('error', (error) => {
    deps.logger.warn({ err: error.message }, 'peer socket error');
    socket.terminate();
  });
}
