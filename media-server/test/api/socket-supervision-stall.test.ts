// Socket supervision when this process itself stalls: its own file, since blocking the event loop would disturb the
// timing of every other test running beside it in one process.
import test from 'ava';
import { connect, sleep } from '../support/socket-endpoint.js';
import { DEADLINE_MS, echoEndpoint } from '../support/echo-socket.js';

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
