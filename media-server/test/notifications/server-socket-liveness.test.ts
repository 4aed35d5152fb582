// The server notification socket's supervision with its real parts (event bus, notification hub, the node's
// websocket routing) and 300 ms deadlines: a socket that never authenticates is closed 1000 "invalid auth request", a
// subscriber that stops answering pings is terminated and unsubscribed, one that answers stays, and a subscription
// whose handling throws closes only that socket 1011.
import test from 'ava';
import type { WebSocket } from 'ws';
import { decodeServerMessage, encodeServerMessage, ServerEventType, type ServerMessage } from '../../src/proto/index.js';
import { EventBus } from '../../src/rooms/event-bus.js';
import { NotificationHub } from '../../src/notifications/notification-hub.js';
import { handleServerSocket } from '../../src/notifications/server-socket.js';
import { connect, recordingLogger, serveSockets, sleep, type Client, type Endpoint } from '../support/socket-endpoint.js';
import { waitFor } from '../support/test-node.js';

const TOKEN = 'server-token';
const DEADLINE_MS = 300;
const PATH = '/socket/server/websocket';

/** A hub whose next subscription throws, as a broken subscriber store would. */
class FailingOnceHub extends NotificationHub {
  armed = false;

  override subscribe(eventType: number, listener: (message: ServerMessage) => void): () => void {
    if (this.armed) {
      this.armed = false;
      throw new Error('subscription store broken');
    }
    return super.subscribe(eventType, listener);
  }
}

async function setup(): Promise<{ bus: EventBus; hub: FailingOnceHub; endpoint: Endpoint; records: Array<Record<string, unknown>> }> {
  const bus = new EventBus();
  const hub = new FailingOnceHub(bus);
  const { logger, records } = recordingLogger();
  const endpoint = await serveSockets({
    [PATH]: (socket: WebSocket) => handleServerSocket(socket, { token: TOKEN, hub, logger, liveness: { authTimeoutMs: DEADLINE_MS, pingIntervalMs: DEADLINE_MS } }),
  });
  return { bus, hub, endpoint, records };
}

const messages = (client: Client): ServerMessage[] => client.frames.flatMap((f) => {
  const decoded = decodeServerMessage(f);
  return decoded.ok ? [decoded.value] : [];
});

async function subscribed(endpoint: Endpoint, options: { autoPong?: boolean } = {}): Promise<Client> {
  const client = await connect(endpoint.url(PATH), options);
  client.ws.send(encodeServerMessage({ authRequest: { token: TOKEN } }));
  client.ws.send(encodeServerMessage({ subscribeRequest: { eventType: ServerEventType.SERVER_NOTIFICATION } }));
  await waitFor(() => messages(client).some((m) => 'subscribeResponse' in m), 10_000, 'subscribe_response');
  return client;
}

test('a server socket that never sends auth_request is closed 1000 "invalid auth request" after the deadline', async (t) => {
  const { endpoint } = await setup();
  try {
    const client = await connect(endpoint.url(PATH));
    const closed = await client.closed(10_000);
    t.deepEqual([closed.code, closed.reason], [1000, 'invalid auth request']);
    t.true(closed.afterMs >= DEADLINE_MS / 2 && closed.afterMs < DEADLINE_MS + 1500, `closed after ${closed.afterMs} ms`);
  } finally {
    await endpoint.close();
  }
});

test('an authenticated subscriber that answers pings stays open past both deadlines and is notified', async (t) => {
  const { bus, endpoint } = await setup();
  try {
    const client = await subscribed(endpoint);
    await sleep(DEADLINE_MS * 5);
    t.true(client.isOpen);
    bus.publish({ type: 'roomCreated', roomId: 'late-room' });
    const notified = () => messages(client).some((m) => 'roomCreated' in m && m.roomCreated.roomId === 'late-room');
    await waitFor(notified, 3000, 'RoomCreated').catch(() => undefined);
    t.true(notified(), 'RoomCreated reached the subscriber after both deadlines');
    client.ws.close();
  } finally {
    await endpoint.close();
  }
});

test('a subscriber that stops answering pings is terminated and its subscription dropped', async (t) => {
  const { hub, endpoint, records } = await setup();
  try {
    const client = await subscribed(endpoint, { autoPong: false });
    t.true(hub.hasSubscribers(ServerEventType.SERVER_NOTIFICATION));
    const closed = await client.closed(10_000);
    t.is(closed.code, 1006, 'terminated: no close frame');
    t.true(closed.afterMs < 3 * DEADLINE_MS + 3000, `terminated after ${closed.afterMs} ms`);
    await waitFor(() => !hub.hasSubscribers(ServerEventType.SERVER_NOTIFICATION), 2000, 'the subscription to go');
    t.true(records.some((r) => r.msg === 'server socket: no pong since the last ping; terminating'));
  } finally {
    await endpoint.close();
  }
});

test('a subscribe_request whose handling throws closes that socket 1011; other subscribers go on', async (t) => {
  const { bus, hub, endpoint, records } = await setup();
  try {
    const bystander = await subscribed(endpoint);
    const victim = await connect(endpoint.url(PATH));
    victim.ws.send(encodeServerMessage({ authRequest: { token: TOKEN } }));
    await waitFor(() => messages(victim).some((m) => 'authenticated' in m), 3000, 'authenticated');
    hub.armed = true;
    victim.ws.send(encodeServerMessage({ subscribeRequest: { eventType: ServerEventType.SERVER_NOTIFICATION } }));
    const closed = await victim.closed(3000);
    t.deepEqual([closed.code, closed.reason], [1011, 'Internal server error']);
    t.is(records.find((r) => r.msg === 'server socket: handling a message failed; closing the socket')?.err, 'subscription store broken');
    bus.publish({ type: 'roomCreated', roomId: 'after-failure' });
    await waitFor(() => messages(bystander).some((m) => 'roomCreated' in m && m.roomCreated.roomId === 'after-failure'), 3000, 'RoomCreated');
    t.true(bystander.isOpen);
    const late = await subscribed(endpoint);
    t.true(late.isOpen, 'new subscribers are accepted');
    bystander.ws.close();
    late.ws.close();
  } finally {
    await endpoint.close();
  }
});
