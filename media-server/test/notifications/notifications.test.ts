// Server notifications end to end on a whole node: a /socket/server/websocket subscriber and a webhook receiver see
// the same events of a room in the same order; the server socket's authentication and subscriptions; METRICS reports
// every second; webhook retries are bounded and never block the room.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/logging/logger.js';
import { WebhookSender } from '../../src/notifications/webhook-sender.js';
import { ServerEventType, ServerTrackType, serverMessageKind, type ServerMessage } from '../../src/proto/index.js';
import { startTestNode, TOKEN, waitFor, type TestNode } from '../support/test-node.js';
import { PeerSocket, ServerSocket, terminateAll } from './support/sockets.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';
import { publishAudio, type Publisher } from './support/werift-publisher.js';

let n: TestNode;
let hooks: WebhookReceiver;
let webhooks: WebhookSender;
const publishers: Publisher[] = [];

test.before(async () => {
  hooks = await startWebhookReceiver();
  n = await startTestNode();
  // The node's own sender refuses the loopback receivers (FJ_WEBHOOK_ALLOW_PRIVATE is off by default); this one is
  // built like node.ts builds it, on the node's bus and rooms, and allowed to reach them.
  const quiet = createLogger({ level: 'error', structured: true, destination: { write: () => undefined } });
  webhooks = new WebhookSender(n.node.bus, (roomId) => n.node.registry.find(roomId)?.config.webhookUrl, quiet, { allowPrivate: true });
});

test.after.always(async () => {
  for (const p of publishers) await p.close().catch(() => undefined);
  terminateAll();
  await n?.stop();
  webhooks?.close();
  await hooks?.close();
});

/** The room a notification is about, if any. */
function roomOf(message: ServerMessage): string | undefined {
  const content = Object.values(message)[0] as { roomId?: unknown };
  return typeof content?.roomId === 'string' ? content.roomId : undefined;
}

async function createRoom(json: Record<string, unknown> = {}): Promise<string> {
  const res = await n.api('/room', { method: 'POST', json });
  if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.room.id as string;
}

async function addPeer(roomId: string): Promise<{ peerId: string; token: string }> {
  const res = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  if (res.status !== 201) throw new Error(`add peer: ${res.status} ${JSON.stringify(res.body)}`);
  return { peerId: res.body.data.peer.id as string, token: res.body.data.token as string };
}

test('a server-socket subscriber and a webhook see RoomCreated ... TrackAdded ... PeerDeleted, RoomDeleted in order', async (t) => {
  const subscriber = await ServerSocket.open(n.base);
  await subscriber.subscribe(TOKEN, [ServerEventType.SERVER_NOTIFICATION]);
  const roomId = await createRoom({ webhookUrl: hooks.url('/hook/sequence') });
  const { peerId, token } = await addPeer(roomId);
  const publisher = await publishAudio(n.base, token, 'werift-audio', { kind: 'audio', source: 'werift' });
  publishers.push(publisher);
  publisher.socket.sendMediaEvent({ type: 'updateEndpointMetadata', data: { metadata: { name: 'renamed' } } });
  await waitFor(async () => (await n.api(`/room/${roomId}`)).body.data.peers[0].metadata?.name === 'renamed', 5000, 'metadata update');
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  t.deepEqual(await publisher.socket.closeResult(), { code: 1000, reason: 'Room stopped' });

  const expected: ServerMessage[] = [
    { roomCreated: { roomId } },
    { peerAdded: { roomId, peerId } },
    { peerConnected: { roomId, peerId } },
    // metadata given with `connect` is announced like an update (as the original does)
    { peerMetadataUpdated: { roomId, peerId, metadata: JSON.stringify({ name: 'werift' }) } },
    { trackAdded: { roomId, peerId, track: { id: 'werift-audio', type: ServerTrackType.AUDIO, metadata: JSON.stringify({ kind: 'audio', source: 'werift' }) } } },
    { peerMetadataUpdated: { roomId, peerId, metadata: JSON.stringify({ name: 'renamed' }) } },
    { peerDeleted: { roomId, peerId } },
    { roomDeleted: { roomId } },
  ];
  const ours = (): ServerMessage[] => subscriber.received.filter((m) => roomOf(m) === roomId);
  await waitFor(() => ours().some((m) => 'roomDeleted' in m), 5000, 'RoomDeleted on the server socket');
  t.deepEqual(ours(), expected, 'server socket');
  t.deepEqual(subscriber.undecodable, []);

  await waitFor(() => hooks.deliveries('/hook/sequence').some((d) => d.message && 'roomDeleted' in d.message), 5000, 'RoomDeleted at the webhook');
  const deliveries = hooks.deliveries('/hook/sequence');
  t.deepEqual(deliveries.map((d) => d.message), expected, 'webhook');
  t.true(deliveries.every((d) => d.contentType === 'application/x-protobuf'));
  t.true(deliveries.every((d) => d.status === 200));
  await subscriber.close();
});

test('a peer that drops and comes back is PeerDisconnected then PeerConnected for subscribers and webhooks', async (t) => {
  const subscriber = await ServerSocket.open(n.base);
  await subscriber.subscribe(TOKEN, [ServerEventType.SERVER_NOTIFICATION]);
  const roomId = await createRoom({ webhookUrl: hooks.url('/hook/reconnect') });
  const { peerId, token } = await addPeer(roomId);
  const first = await PeerSocket.open(n.base);
  await first.authenticate(token);
  first.ws.terminate();
  await waitFor(() => subscriber.received.some((m) => 'peerDisconnected' in m && m.peerDisconnected.peerId === peerId), 5000, 'PeerDisconnected');
  const second = await PeerSocket.open(n.base);
  await second.authenticate(token);
  t.is((await n.api(`/room/${roomId}/peer/${peerId}`, { method: 'DELETE' })).status, 204);
  t.deepEqual(await second.closeResult(), { code: 1000, reason: 'Peer removed' });
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);

  // Removing a connected peer: PeerDisconnected, then PeerDeleted (as the original).
  const kinds = ['roomCreated', 'peerAdded', 'peerConnected', 'peerDisconnected', 'peerConnected', 'peerDisconnected', 'peerDeleted', 'roomDeleted'];
  await waitFor(() => subscriber.received.some((m) => 'roomDeleted' in m && m.roomDeleted.roomId === roomId), 5000, 'RoomDeleted');
  t.deepEqual(subscriber.received.filter((m) => roomOf(m) === roomId).map(serverMessageKind), kinds);
  await waitFor(() => hooks.deliveries('/hook/reconnect').length === kinds.length, 5000, 'every webhook');
  t.deepEqual(hooks.deliveries('/hook/reconnect').map((d) => serverMessageKind(d.message!)), kinds);
  await subscriber.close();
});

test('the server socket: a bad token closes 1000 "invalid token"; other first frames and later garbage close it too', async (t) => {
  const bad = await ServerSocket.open(n.base);
  bad.send({ authRequest: { token: 'not-the-token' } });
  t.deepEqual(await bad.closeResult(), { code: 1000, reason: 'invalid token' });
  t.deepEqual(bad.received, []);

  const empty = await ServerSocket.open(n.base);
  empty.send({ authRequest: { token: '' } });
  t.deepEqual(await empty.closeResult(), { code: 1000, reason: 'invalid token' });

  for (const first of [(s: ServerSocket) => s.send({ subscribeRequest: { eventType: ServerEventType.SERVER_NOTIFICATION } }), (s: ServerSocket) => s.sendRaw(TOKEN, false), (s: ServerSocket) => s.sendRaw(Buffer.from([0xff, 0xff, 0xff]))]) {
    const socket = await ServerSocket.open(n.base);
    first(socket);
    t.deepEqual(await socket.closeResult(), { code: 1000, reason: 'invalid auth request' });
  }

  // an unauthenticated socket hears nothing of what happens meanwhile
  const silent = await ServerSocket.open(n.base);
  const roomId = await createRoom();
  await n.api(`/room/${roomId}`, { method: 'DELETE' });
  silent.send({ authRequest: { token: TOKEN } });
  await silent.waitFor((m) => 'authenticated' in m, 5000, 'authenticated');
  t.deepEqual(silent.received.map(serverMessageKind), ['authenticated']);

  // after authentication, anything but subscribe_request closes 1003 "operation not allowed"
  silent.sendRaw(Buffer.from([0xff, 0xff, 0xff]));
  t.deepEqual(await silent.closeResult(), { code: 1003, reason: 'operation not allowed' });
});

test('subscriptions are per event type: METRICS only gets a MetricsReport about every second, keyed "room_id=<id>"', async (t) => {
  const metrics = await ServerSocket.open(n.base);
  await metrics.subscribe(TOKEN, [ServerEventType.METRICS, ServerEventType.METRICS]); // a repeated subscription is harmless
  const notifications = await ServerSocket.open(n.base);
  await notifications.subscribe(TOKEN, [ServerEventType.SERVER_NOTIFICATION]);

  const roomId = await createRoom();
  const { peerId, token } = await addPeer(roomId);
  const publisher = await publishAudio(n.base, token, 'metrics-audio', null);
  publishers.push(publisher);
  // from here on this socket only gets metrics reports: time each one
  const seen = metrics.received.length;
  const times: number[] = [];
  metrics.ws.on('message', () => times.push(Date.now()));
  await waitFor(() => times.length >= 4, 6000, 'four metrics reports');
  const reports = metrics.received.slice(seen).filter((m): m is { metricsReport: { metrics: string } } => 'metricsReport' in m);
  t.true(reports.length >= 4, `${reports.length} reports`);
  // about every second
  const gaps = times.slice(1).map((at, i) => at - times[i]!);
  // (on average: a report held back by a busy machine is followed by one sooner, e.g. 130, 1044, 1042 ms)
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  t.true(mean > 500 && mean < 2000 && gaps.every((g) => g < 3000), `gaps between reports: ${gaps.join(', ')} ms`);

  const last = JSON.parse(reports.at(-1)!.metricsReport.metrics) as Record<string, Record<string, Record<string, number>>>;
  t.true(Object.keys(last).every((k) => k.startsWith('room_id=')), Object.keys(last).join(', '));
  const room = last[`room_id=${roomId}`];
  t.truthy(room, `room_id=${roomId} in ${JSON.stringify(last)}`);
  const peer = room![`endpoint_id=${peerId}`]!;
  t.truthy(peer);
  for (const key of ['ingress.bytes', 'egress.bytes', 'ingress.bitrate', 'egress.bitrate', 'ingress.packet_loss', 'egress.available_bitrate']) {
    t.is(typeof peer[key], 'number', key);
  }
  t.true(peer['ingress.bytes']! > 0, 'the werift RTP is counted');

  // a METRICS subscriber gets no notifications, a SERVER_NOTIFICATION subscriber no metrics
  t.deepEqual([...new Set(metrics.received.map(serverMessageKind))].sort(), ['authenticated', 'metricsReport', 'subscribeResponse']);
  t.true(notifications.received.some((m) => 'trackAdded' in m && m.trackAdded.roomId === roomId));
  t.false(notifications.received.some((m) => 'metricsReport' in m));

  // an unsubscribed (closed) socket stops the reports: the hub has no METRICS listener left
  await metrics.close();
  await waitFor(() => !n.node.notifications.hasSubscribers(ServerEventType.METRICS), 2000, 'the METRICS subscription to go');
  await notifications.close();
});

test('a webhook answering 500 is retried and gets every event in order; the room does not wait for it', async (t) => {
  // The first attempt is answered 500 only once the REST calls below are done (later ones 200 at once): if the room
  // waited for its webhook, the calls could never finish. Ordering, not timing, so a busy machine cannot fail it.
  let restFinished!: () => void;
  const restDonePromise = new Promise<void>((resolve) => (restFinished = resolve));
  hooks.behave('/hook/flaky', (i) => (i === 0 ? { status: 500, until: restDonePromise } : { status: 200 }));
  const rest = (async () => {
    const roomId = await createRoom({ webhookUrl: hooks.url('/hook/flaky') });
    const { peerId } = await addPeer(roomId);
    t.is((await n.api(`/room/${roomId}/peer/${peerId}`, { method: 'DELETE' })).status, 204);
    t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
    return roomId;
  })();
  const outcome = await Promise.race([rest.then(() => 'done' as const), sleep(30_000).then(() => 'stuck' as const)]);
  const restDone = Date.now();
  t.is(hooks.deliveries('/hook/flaky').length, 0, 'no attempt was answered before the REST calls were done');
  restFinished();
  t.is(outcome, 'done', 'the REST calls finished while the first webhook attempt was still unanswered');
  await rest;

  await waitFor(() => hooks.deliveries('/hook/flaky').length === 5, 8000, 'five webhook requests');
  const deliveries = hooks.deliveries('/hook/flaky');
  t.deepEqual(
    deliveries.map((d) => [serverMessageKind(d.message!), d.status]),
    [['roomCreated', 500], ['roomCreated', 200], ['peerAdded', 200], ['peerDeleted', 200], ['roomDeleted', 200]],
  );
  // the 500 went out at restDone; the retry came after the sender's back-off (200 ms base)
  t.true(deliveries[1]!.at - restDone >= 150, `retried after a back-off (${deliveries[1]!.at - restDone} ms)`);
  t.deepEqual(deliveries[0]!.raw, deliveries[1]!.raw, 'the same body again');
});

test('a webhook that keeps failing is tried a bounded number of times, then dropped; other rooms are not held up', async (t) => {
  let down = true;
  hooks.behave('/hook/down', () => ({ status: down ? 503 : 200 }));
  const droppedBefore = webhooks.dropped;
  const downRoom = await createRoom({ webhookUrl: hooks.url('/hook/down') });
  const okRoom = await createRoom({ webhookUrl: hooks.url('/hook/ok') });
  await addPeer(okRoom);
  // the healthy receiver gets its events at once while the other is being retried
  await waitFor(() => hooks.deliveries('/hook/ok').length === 2, 1000, 'the healthy webhook');
  t.true(hooks.deliveries('/hook/down').length < 5);

  await waitFor(() => webhooks.dropped > droppedBefore, 8000, 'the notification to be dropped');
  const attempts = hooks.deliveries('/hook/down');
  t.is(attempts.length, 5, 'bounded attempts');
  t.true(attempts.every((d) => d.message !== undefined && 'roomCreated' in d.message && d.status === 503));
  // growing back-off between attempts: each gap at least the doubling delay (200, 400, 800, 1600 ms); a busy machine
  // can only stretch a gap, so lower bounds are what the schedule guarantees
  const gaps = attempts.slice(1).map((d, i) => d.at - attempts[i]!.at);
  t.true(gaps.every((g, i) => g >= 200 * 2 ** i - 20), `gaps ${gaps.join(', ')} ms`);
  await new Promise((r) => setTimeout(r, 500));
  t.is(hooks.deliveries('/hook/down').length, 5, 'no attempt after giving up');

  // the room was never blocked, and once the receiver is back it gets the next events
  t.is((await n.api(`/room/${downRoom}`)).status, 200);
  down = false;
  await addPeer(downRoom);
  t.is((await n.api(`/room/${downRoom}`, { method: 'DELETE' })).status, 204);
  await waitFor(() => hooks.deliveries('/hook/down').length === 8, 5000, 'the later events');
  t.deepEqual(hooks.deliveries('/hook/down').slice(5).map((d) => serverMessageKind(d.message!)), ['peerAdded', 'peerDeleted', 'roomDeleted']);
  await n.api(`/room/${okRoom}`, { method: 'DELETE' });
});
