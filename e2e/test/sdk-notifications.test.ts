// Server notifications with the real SDK: a peer in headless Chromium (unmodified @fishjam-dev/ts-client 0.5.0)
// publishes camera and microphone, then leaves; a /socket/server/websocket subscriber and a webhook receiver both see
// RoomCreated, PeerAdded, PeerConnected, TrackAdded (audio, video), TrackRemoved, PeerDisconnected, PeerDeleted,
// RoomDeleted, in that order. The node runs in-process (media-server sources, real workers and coturn).
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { ServerEventType, ServerTrackType, serverMessageKind, type ServerMessage } from '../../media-server/src/proto/index.js';
import { ServerSocket, terminateAll } from '../../media-server/test/notifications/support/sockets.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../media-server/test/notifications/support/webhook-receiver.js';
import { startTestNode, TOKEN, waitFor, type TestNode } from '../../media-server/test/support/test-node.js';
import { launchChromium, openPeerPage, servePage } from '../support/browser.js';

let n: TestNode;
let hooks: WebhookReceiver;
let browser: Browser;
let page: { url: string; close: () => Promise<void> };

test.before(async () => {
  hooks = await startWebhookReceiver();
  n = await startTestNode({ FJ_WEBRTC_LISTEN_IP: '127.0.0.1', FJ_WEBHOOK_ALLOW_PRIVATE: 'true' }); // the webhook receiver is on loopback
  page = await servePage();
  browser = await launchChromium();
});

test.after.always(async () => {
  terminateAll();
  await browser?.close();
  await page?.close();
  await n?.stop();
  await hooks?.close();
});

const roomOf = (m: ServerMessage): string | undefined => (Object.values(m)[0] as { roomId?: string } | undefined)?.roomId;

test('an SDK peer that publishes and leaves: the server socket and the webhook see the same events in order', async (t) => {
  const subscriber = await ServerSocket.open(n.base);
  await subscriber.subscribe(TOKEN, [ServerEventType.SERVER_NOTIFICATION]);
  const created = await n.api('/room', { method: 'POST', json: { videoCodec: 'vp8', webhookUrl: hooks.url('/hook/sdk') } });
  t.is(created.status, 201);
  const roomId = created.body.data.room.id as string;
  const added = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  const token = added.body.data.token as string;
  const peerId = added.body.data.peer.id as string;

  let p: Page | undefined;
  try {
    p = await openPeerPage(browser, page.url);
    const joinedId = await p.evaluate((o) => (window as any).fishjam.join(o), { host: `127.0.0.1:${n.node.httpPort}`, token, name: 'sdk', audio: true, video: true, simulcast: false });
    t.is(joinedId, peerId);
    await waitFor(() => subscriber.received.filter((m) => 'trackAdded' in m && m.trackAdded.roomId === roomId).length === 2, 20_000, 'two TrackAdded');
    const shown = await n.api(`/room/${roomId}`);
    t.deepEqual(shown.body.data.peers.map((x: any) => [x.status, x.tracks.map((tr: any) => tr.type).sort()]), [['connected', ['audio', 'video']]]);
    await p.evaluate(() => (window as any).fishjam.leave());
    await waitFor(() => subscriber.received.some((m) => 'peerDisconnected' in m && m.peerDisconnected.roomId === roomId), 10_000, 'PeerDisconnected');
  } finally {
    await p?.close();
  }
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);

  // the SDK connects with metadata ({name}): announced as PeerMetadataUpdated right after PeerConnected
  const kinds = ['roomCreated', 'peerAdded', 'peerConnected', 'peerMetadataUpdated', 'trackAdded', 'trackAdded', 'trackRemoved', 'trackRemoved', 'peerDisconnected', 'peerDeleted', 'roomDeleted'];
  await waitFor(() => subscriber.received.some((m) => 'roomDeleted' in m && m.roomDeleted.roomId === roomId), 5000, 'RoomDeleted');
  const seen = subscriber.received.filter((m) => roomOf(m) === roomId);
  t.deepEqual(seen.map(serverMessageKind), kinds, 'server socket');

  // the tracks: audio then video, with the SDK's metadata ({kind}), removed as they were added
  const tracks = seen.flatMap((m) => ('trackAdded' in m ? [m.trackAdded] : 'trackRemoved' in m ? [m.trackRemoved] : []));
  t.true(tracks.every((x) => x.peerId === peerId));
  t.deepEqual(tracks.map((x) => x.track?.type), [ServerTrackType.AUDIO, ServerTrackType.VIDEO, ServerTrackType.AUDIO, ServerTrackType.VIDEO]);
  t.deepEqual(tracks.map((x) => JSON.parse(x.track!.metadata).kind), ['audio', 'video', 'audio', 'video']);
  t.is(new Set(tracks.map((x) => x.track!.id)).size, 2);
  t.true(seen.every((m) => !('peerId' in (Object.values(m)[0] as object)) || (Object.values(m)[0] as { peerId: string }).peerId === peerId));

  await waitFor(() => hooks.deliveries('/hook/sdk').length === kinds.length, 5000, 'every webhook');
  const deliveries = hooks.deliveries('/hook/sdk');
  t.deepEqual(deliveries.map((d) => d.message), seen, 'the webhook got the same messages');
  t.true(deliveries.every((d) => d.contentType === 'application/x-protobuf' && d.status === 200));
  await subscriber.close();
});
