// A websocket endpoint supervised as the node's sockets are (api/socket-supervision.ts), with 300 ms deadlines, for
// the supervision tests: "auth" authenticates, "throw" throws inside the message handler, anything else is echoed.
import type { WebSocket } from 'ws';
import { watchSocket, withErrorBoundary } from '../../src/api/socket-supervision.js';
import { recordingLogger, serveSockets, type Endpoint } from './socket-endpoint.js';

export const DEADLINE_MS = 300;

/** An echo socket: "auth" authenticates, "throw" throws inside the message handler. */
export async function echoEndpoint(): Promise<{ endpoint: Endpoint; records: Array<Record<string, unknown>> }> {
  const { logger, records } = recordingLogger();
  const endpoint = await serveSockets({
    '/echo': (socket: WebSocket) => {
      const watch = watchSocket(socket, { timings: { authTimeoutMs: DEADLINE_MS, pingIntervalMs: DEADLINE_MS }, unauthenticatedReason: 'unauthenticated', logger, what: 'echo socket' });
      socket.on('message', withErrorBoundary(socket, logger, 'echo socket', (data) => {
        const text = String(data);
        if (text === 'auth') watch.authenticated();
        if (text === 'throw') throw new Error('boom');
        socket.send(`echo:${text}`);
      }));
    },
  });
  return { endpoint, records };
}
