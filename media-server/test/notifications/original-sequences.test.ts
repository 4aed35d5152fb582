// Three notification sequences of the original's server-notification tests, seen on the server socket and at the
// webhook alike: removing a connected peer over REST (PeerDisconnected, then PeerDeleted), `connect` with metadata
// (PeerMetadataUpdated), and a METRICS report naming a room whose peer is connected over its socket but has no
// WebRTC media yet.
import test from 'ava';
import { ServerEventType, serverMessageKind, type ServerMessage } from '../../src/proto/index.js';
import { startTestNode, TOKEN, waitFor, type TestNode } from '../support/test-node.js';
import { PeerSocket, ServerSocket, terminateAll } from './support/sockets.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

let n: TestNode;
let hooks: WebhookReceiver;

test.before(async () => {
  hooks = await startWebhookReceiver();
  // the webhook receiver listens on loopback: allowed for this test only
  n = await startTestNode({ FJ_WEBHOOK_ALLOW_PRIVATE: 'true' });
});

test.after.always(async () => {
  terminateAll();
  await n?.stop();
  await hooks?.close();
});

const roomOf = (m: ServerMessage): string | undefined => (Object.values(m)[0] as { roomId?: string } | undefined)?.roomId;

async function roomWithPeer(hook: string): Promise<{ roomId: string; peerId: string; token: string }> {
  const room = await n.api('/room', { method: 'POST', json: { webhookUrl: hooks.url(hook) } });
  const roomId = room.body.data.room.id as string;
  const peer = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  return { roomId, peerId: peer.body.data.peer.id as string, token: peer.body.data.token as string };
}

test('a connected peer removed over REST: PeerDisconnected then PeerDeleted; connect with metadata: PeerMetadataUpdated', async (t) => {
  const subscriber = await ServerSocket.open(n.base);
  await subscriber.subscribe(TOKEN, [ServerEventType.SERVER_NOTIFICATION]);
  const { roomId, peerId, token } = await roomWithPeer('/hook/removed');
  const socket = await PeerSocket.open(n.base);
  await socket.authenticate(token);
  socket.sendMediaEvent({ type: 'connect', data: { metadata: { name: 'alice', seat: 3 } } });
  await socket.waitForMediaEvent('connected', 5000);
  t.is((await n.api(`/room/${roomId}/peer/${peerId}`, { method: 'DELETE' })).status, 204);
  t.deepEqual(await socket.closeResult(), { code: 1000, reason: 'Peer removed' });
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);

  const expected: ServerMessage[] = [
    { roomCreated: { roomId } },
    { peerAdded: { roomId, peerId } },
    { peerConnected: { roomId, peerId } },
    { peerMetadataUpdated: { roomId, peerId, metadata: JSON.stringify({ name: 'alice', seat: 3 }) } },
    { peerDisconnected: { roomId, peerId } },
    { peerDeleted: { roomId, peerId } },
    { roomDeleted: { roomId } },
  ];
  await waitFor(() => subscriber.received.some((m) => 'roomDeleted' in m && m.roomDeleted.roomId === roomId), 5000, 'RoomDeleted');
  t.deepEqual(subscriber.received.filter((m) => roomOf(m) === roomId), expected, 'server socket');
  await waitFor(() => hooks.deliveries('/hook/removed').length >= expected.length, 5000, 'every webhook');
  t.deepEqual(hooks.deliveries('/hook/removed').map((d) => d.message), expected, 'webhook');
  await subscriber.close();
});

test('connect without metadata announces none; a disconnected peer removed over REST is only PeerDeleted', async (t) => {
  const subscriber = await ServerSocket.open(n.base);
  await subscriber.subscribe(TOKEN, [ServerEventType.SERVER_NOTIFICATION]);
  const { roomId, peerId, token } = await roomWithPeer('/hook/plain');
  const socket = await PeerSocket.open(n.base);
  await socket.authenticate(token);
  socket.sendMediaEvent({ type: 'connect', data: { metadata: null } });
  await socket.waitForMediaEvent('connected', 5000);
  socket.ws.terminate();
  await waitFor(() => subscriber.received.some((m) => 'peerDisconnected' in m && m.peerDisconnected.peerId === peerId), 5000, 'PeerDisconnected');
  t.is((await n.api(`/room/${roomId}/peer/${peerId}`, { method: 'DELETE' })).status, 204);
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  const kinds = ['roomCreated', 'peerAdded', 'peerConnected', 'peerDisconnected', 'peerDeleted', 'roomDeleted'];
  await waitFor(() => subscriber.received.some((m) => 'roomDeleted' in m && m.roomDeleted.roomId === roomId), 5000, 'RoomDeleted');
  t.deepEqual(subscriber.received.filter((m) => roomOf(m) === roomId).map(serverMessageKind), kinds, 'server socket');
  await waitFor(() => hooks.deliveries('/hook/plain').length >= kinds.length, 5000, 'every webhook');
  t.deepEqual(hooks.deliveries('/hook/plain').map((d) => serverMessageKind(d.message!)), kinds, 'webhook');
  await subscriber.close();
});

test('METRICS names a room whose peer is connected over its socket before it has any WebRTC media, within a second', async (t) => {
  const metrics = await ServerSocket.open(n.base);
  await metrics.subscribe(TOKEN, [ServerEventType.METRICS]);
  const { roomId, peerId, token } = await roomWithPeer('/hook/metrics');
  const socket = await PeerSocket.open(n.base);
  await socket.authenticate(token);
  const connectedAt = Date.now();
  const key = (m: ServerMessage): boolean => {
    if (!('metricsReport' in m)) return false;
    const report = JSON.parse(m.metricsReport.metrics) as Record<string, Record<string, Record<string, number>>>;
    return report[`room_id=${roomId}`]?.[`endpoint_id=${peerId}`] !== undefined;
  };
  const report = await metrics.waitFor(key, 2500, 'a MetricsReport naming the peer');
  const reportedIn = Date.now() - connectedAt;
  t.true(reportedIn <= 1500, `reported ${reportedIn} ms after the socket authenticated`);
  const figures = JSON.parse((report as { metricsReport: { metrics: string } }).metricsReport.metrics)[`room_id=${roomId}`][`endpoint_id=${peerId}`];
  t.is(figures['ingress.bytes'], 0);
  t.is(figures['egress.bytes'], 0);
  // once the socket is gone, the peer is no longer reported
  socket.ws.terminate();
  await waitFor(async () => !(await n.api(`/room/${roomId}`)).body.data.peers.some((p: { status: string }) => p.status === 'connected'), 5000, 'disconnected');
  const mark = metrics.received.length;
  // (a report already being collected when the socket closed may still name it: look at the second one after)
  await waitFor(() => metrics.received.slice(mark).filter((m) => 'metricsReport' in m).length >= 2, 4000, 'two later reports');
  t.false(key(metrics.received.slice(mark).filter((m) => 'metricsReport' in m)[1]!));
  await metrics.close();
  await n.api(`/room/${roomId}`, { method: 'DELETE' });
});
