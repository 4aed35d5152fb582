// /socket/server/websocket: Fishjam's server notification socket. The first frame must be an auth_request with the
// server API token (else close 1000 "invalid token" / "invalid auth request"); then subscribe_request frames choose
// SERVER_NOTIFICATION and/or METRICS; anything else closes 1003 "operation not allowed".
// Supervised (../api/socket-supervision.ts): no auth_request within the auth deadline closes 1000 "invalid auth
// request"; a missed pong terminates the socket; a message whose handling throws closes it 1011, never the node.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { closeSocket, watchSocket, withErrorBoundary, type LivenessTimings } from '../api/socket-supervision.js';
import { decodeServerMessage, encodeServerMessage, ServerEventType, type ServerMessage } from '../proto/index.js';
import type { NotificationHub } from './notification-hub.js';

export interface ServerSocketDeps {
  readonly token: string;
  readonly hub: NotificationHub;
  readonly logger: Logger;
  /** auth deadline and ping interval (defaults: 5 s, 30 s) */
  readonly liveness?: Partial<LivenessTimings>;
}

export function handleServerSocket(socket: WebSocket, deps: ServerSocketDeps): void {
  const expected = createHash('sha256').update(deps.token).digest();
  let authenticated = false;
  const subscriptions = new Map<number, () => void>();
  const send = (message: ServerMessage): void => {
    if (socket.readyState === socket.OPEN) socket.send(encodeServerMessage(message));
  };
  const watch = watchSocket(socket, { timings: deps.liveness, unauthenticatedReason: 'invalid auth request', logger: deps.logger, what: 'server socket' });

  socket.on('message', withErrorBoundary(socket, deps.logger, 'server socket', (data, isBinary) => {
    const bytes = data instanceof Buffer ? data : Buffer.concat(data as Buffer[]);
    const decoded = isBinary ? decodeServerMessage(bytes) : undefined;
    if (!authenticated) {
      if (!decoded?.ok || !('authRequest' in decoded.value)) {
        deps.logger.warn('server socket: first message is not auth_request; closing');
        return closeSocket(socket, 1000, 'invalid auth request');
      }
      const given = createHash('sha256').update(decoded.value.authRequest.token).digest();
      if (!timingSafeEqual(given, expected)) {
        deps.logger.warn('server socket: invalid token; closing');
        return closeSocket(socket, 1000, 'invalid token');
      }
      authenticated = true;
      watch.authenticated();
      return send({ authenticated: {} });
    }
    if (!decoded?.ok || !('subscribeRequest' in decoded.value)) {
      deps.logger.warn('server socket: unexpected message; closing');
      return closeSocket(socket, 1003, 'operation not allowed');
    }
    const { eventType } = decoded.value.subscribeRequest;
    // A repeated subscription is a no-op (as in the original), so nothing is delivered twice.
    if ((eventType === ServerEventType.SERVER_NOTIFICATION || eventType === ServerEventType.METRICS) && !subscriptions.has(eventType)) {
      subscriptions.set(eventType, deps.hub.subscribe(eventType, send));
    }
    send({ subscribeResponse: { eventType } });
  }));
  socket.on('close', withErrorBoundary(socket, deps.logger, 'server socket close', () => {
    for (const off of subscriptions.values()) off();
  }));
  socket.on('error', () => socket.terminate());
}
