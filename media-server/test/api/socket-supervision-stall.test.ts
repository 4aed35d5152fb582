// Socket supervision when this process itself stalls: its own file, since blocking the event loop would disturb the
// timing of every other test running beside it in one process.
import test from 'ava';
import type { WebSocket } from 'ws';
import { watchSocket, withErrorBoundary } from '../../src/api/socket-supervision.js';
import { connect, recordingLogger, serveSockets, sleep, type Endpoint } from '../support/socket-endpoint.js';

const DEADLINE_MS = 300;

/** An echo socket: "auth" authenticates, "throw" throws inside the message handler. */
async function echoEndpoint(): Promise<{ endpoint: Endpoint; records: Array<Record<string, unknown>> }> {
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

test('a stall of this process (a blocked event loop) does not terminate clients whose pongs wait unread', async (t) => {
  const { endpoint, records } = await echoEndpoint();
  try {
    const client = await connect(endpoint.url('/echo'));
    client.ws.send('auth');
    await sleep(DEADLINE_MS * 2);
    for (let stall = 0; stall < 3; stall++) {
      // Blocks everything, the client's pong included, for four ping intervals; when the loop runs again the
      // heartbeat timer fires before the pong is read.
      const until = Date.now() + DEADLINE_MS * 4;
      while (Date.now() < until) {
        // busy
      }
      await sleep(DEADLINE_MS * 2);
    }
    t.true(client.isOpen, 'still open after three stalls');
    t.false(records.some((r) => typeof r.msg === 'string' && r.msg.startsWith('echo socket: no pong')));
    client.ws.close();
  } finally {
    await endpoint.close();
  }
});
