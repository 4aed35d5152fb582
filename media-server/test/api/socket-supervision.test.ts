// Socket supervision on its own, over real websockets (the node's websocket routing, `ws` clients): the auth
// deadline, the pong deadline and the per-message error boundary, with 300 ms deadlines.
import test from 'ava';
import { connect, sleep } from '../support/socket-endpoint.js';
import { DEADLINE_MS, echoEndpoint } from '../support/echo-socket.js';

test('a socket that does not authenticate is closed 1000 with the reason after the auth deadline', async (t) => {
  const { endpoint, records } = await echoEndpoint();
  try {
    const client = await connect(endpoint.url('/echo'));
    client.ws.send('not auth');
    const closed = await client.closed(3000);
    t.is(closed.code, 1000);
    t.is(closed.reason, 'unauthenticated');
    t.true(closed.afterMs >= DEADLINE_MS / 2 && closed.afterMs < DEADLINE_MS + 1500, `closed after ${closed.afterMs} ms`);
    t.true(records.some((r) => r.msg === 'echo socket: not authenticated in time; closing'));
  } finally {
    await endpoint.close();
  }
});

test('an authenticated socket that answers pings stays open; the pings are sent', async (t) => {
  const { endpoint, records } = await echoEndpoint();
  try {
    const client = await connect(endpoint.url('/echo'));
    let pings = 0;
    client.ws.on('ping', () => pings++);
    client.ws.send('auth');
    await sleep(DEADLINE_MS * 5);
    t.true(client.isOpen, 'open well past both deadlines');
    t.true(pings >= 3, `${pings} pings`);
    client.ws.send('still here');
    await sleep(100);
    t.true(client.frames.some((f) => f.toString() === 'echo:still here'));
    t.false(records.some((r) => typeof r.msg === 'string' && r.msg.startsWith('echo socket: no pong')));
    client.ws.close();
  } finally {
    await endpoint.close();
  }
});

test('a client that stops answering pings is terminated within two ping intervals', async (t) => {
  const { endpoint, records } = await echoEndpoint();
  try {
    const client = await connect(endpoint.url('/echo'), { autoPong: false });
    let pings = 0;
    client.ws.on('ping', () => pings++);
    client.ws.send('auth');
    const closed = await client.closed(3000);
    t.is(closed.code, 1006, 'terminated: no close frame');
    t.true(closed.afterMs >= 1.5 * DEADLINE_MS && closed.afterMs < 3 * DEADLINE_MS + 3000, `terminated after ${closed.afterMs} ms`);
    // one unanswered ping, then the end (one more if this busy process stalled in between: see the next test)
    t.true(pings >= 1 && pings <= 3, `${pings} pings`);
    t.true(records.some((r) => r.msg === 'echo socket: no pong since the last ping; terminating'));
  } finally {
    await endpoint.close();
  }
});

test('a message handler that throws closes only its socket 1011; the others are served', async (t) => {
  const { endpoint, records } = await echoEndpoint();
  try {
    const [victim, bystander] = [await connect(endpoint.url('/echo')), await connect(endpoint.url('/echo'))];
    victim.ws.send('auth');
    bystander.ws.send('auth');
    victim.ws.send('throw');
    const closed = await victim.closed(3000);
    t.deepEqual([closed.code, closed.reason], [1011, 'Internal server error']);
    const failure = records.find((r) => r.msg === 'echo socket: handling a message failed; closing the socket');
    t.is(failure?.err, 'boom');
    t.is(failure?.level, 50, 'logged as an error');
    bystander.ws.send('after');
    await sleep(100);
    t.true(bystander.isOpen);
    t.true(bystander.frames.some((f) => f.toString() === 'echo:after'));
    const late = await connect(endpoint.url('/echo'));
    late.ws.send('hello');
    await sleep(100);
    t.true(late.frames.some((f) => f.toString() === 'echo:hello'), 'new sockets are accepted');
    bystander.ws.close();
    late.ws.close();
  } finally {
    await endpoint.close();
  }
});
