// Negotiation races with real mediasoup: a peer leaves (socket closed, `disconnect` media event, or removed over REST)
// at swept moments while its publish or subscribe is in flight, or its publisher leaves while it subscribes. After
// each, every transport, producer and consumer is closed on the worker, and no observer heard of a track of a peer
// after it was told that peer left. Also: one renegotiation at a time (no offerData before the sdpAnswer), and a
// receive-only peer leaving makes nobody renegotiate.
import test from 'ava';
import { PeerSocket, terminateAll, type MediaEvent } from '../notifications/support/sockets.js';
import { weriftOffer } from './sdp/sdp-fixtures.js';
import { startTestNode, waitFor, workerObjectTotals, type TestNode } from '../support/test-node.js';

let n: TestNode;

test.before(async () => {
  n = await startTestNode();
});

test.after.always(async () => {
  terminateAll();
  await n?.stop();
});

async function room(): Promise<string> {
  const res = await n.api('/room', { method: 'POST', json: {} });
  if (res.status !== 201) throw new Error(`create room: ${res.status}`);
  return res.body.data.room.id as string;
}

async function joined(roomId: string): Promise<Peer> {
  const res = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  if (res.status !== 201) throw new Error(`add peer: ${res.status}`);
  const socket = await PeerSocket.open(n.base);
  await socket.authenticate(res.body.data.token as string);
  socket.sendMediaEvent({ type: 'connect', data: { metadata: null } });
  await socket.waitForMediaEvent('connected', 5000);
  return { peerId: res.body.data.peer.id as string, socket };
}

/** werift's offer: sendonly audio (mid 0) and simulcast video (mid 1), recvonly audio (2) and video (3). */
function sendOffer(socket: PeerSocket, tag: string): void {
  socket.sendMediaEvent({
    type: 'custom',
    data: {
      type: 'sdpOffer',
      data: {
        sdpOffer: { type: 'offer', sdp: weriftOffer },
        trackIdToTrackMetadata: { [`${tag}:audio`]: null, [`${tag}:video`]: null },
        trackIdToTrackBitrates: {},
        midToTrackId: { '0': `${tag}:audio`, '1': `${tag}:video` },
      },
    },
  });
}

/** A publisher whose offer is answered, and a subscriber that has been told to offer (its offer not sent yet). */
async function publisherThenSubscriber(roomId: string): Promise<{ publisher: Peer; subscriber: Peer }> {
  const publisher = await joined(roomId);
  sendOffer(publisher.socket, 'pub');
  await publisher.socket.waitForMediaEvent('sdpAnswer', 5000);
  const subscriber = await joined(roomId);
  await subscriber.socket.waitForMediaEvent('offerData', 5000);
  return { publisher, subscriber };
}

type Peer = { peerId: string; socket: PeerSocket };

type Leave = 'socket closed' | 'disconnect event' | 'removed over REST';

async function leave(how: Leave, roomId: string, peer: Peer): Promise<void> {
  if (how === 'socket closed') peer.socket.ws.terminate();
  else if (how === 'disconnect event') peer.socket.sendMediaEvent({ type: 'disconnect' });
  else await n.api(`/room/${roomId}/peer/${peer.peerId}`, { method: 'DELETE' });
}

const workerTotals = () => workerObjectTotals(n.node);

/** Events that mention a track of `peerId` after the observer was told `peerId` left (there must be none). */
function lateTrackEvents(events: MediaEvent[], peerId: string): MediaEvent[] {
  const removedAt = events.findIndex((e) => e.type === 'endpointRemoved' && e.data?.id === peerId);
  if (removedAt < 0) return [];
  return events.slice(removedAt + 1).filter((e) => e.type === 'tracksAdded' && e.data?.endpointId === peerId);
}

const DELAYS_MS = [0, 1, 2, 4, 7, 12, 20, 35];
const HOW: Leave[] = ['socket closed', 'disconnect event', 'removed over REST'];

test.serial('a publisher leaving at any moment of its first offer leaves nothing behind, and is never announced after it left', async (t) => {
  for (const how of HOW) {
    for (const delay of DELAYS_MS) {
      const roomId = await room();
      const observer = await joined(roomId);
      const publisher = await joined(roomId);
      sendOffer(publisher.socket, `pub-${delay}`);
      await new Promise((r) => setTimeout(r, delay));
      await leave(how, roomId, publisher);
      await waitFor(() => observer.socket.mediaEvents().some((e) => e.type === 'endpointRemoved' && e.data?.id === publisher.peerId), 5000, `${how} at ${delay} ms: endpointRemoved`);
      // Whatever was in flight finishes within this time; it must then have closed what it made.
      await new Promise((r) => setTimeout(r, 100));
      t.deepEqual(lateTrackEvents(observer.socket.mediaEvents(), publisher.peerId), [], `${how} at ${delay} ms: tracksAdded after endpointRemoved`);
      const peers = (await n.api(`/room/${roomId}`)).body.data.peers as Array<{ id: string; tracks: unknown[] }>;
      t.deepEqual(peers.find((p) => p.id === publisher.peerId)?.tracks ?? [], [], `${how} at ${delay} ms: no tracks left in REST`);
      await observer.socket.close();
      await publisher.socket.close();
      t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
      await waitFor(() => workerTotals().transports === 0, 3000, `${how} at ${delay} ms: transports closed`).catch(() => undefined);
      t.deepEqual(workerTotals(), { transports: 0, producers: 0, consumers: 0 }, `${how} at ${delay} ms`);
    }
  }
});

test.serial('a subscriber leaving, or its publisher leaving, while consumers are being made leaves nothing behind', async (t) => {
  for (const who of ['subscriber', 'publisher'] as const) {
    for (const how of HOW) {
      for (const delay of DELAYS_MS) {
        const roomId = await room();
        const { publisher, subscriber } = await publisherThenSubscriber(roomId);
        // The subscriber's offer makes consumers of the publisher's tracks on its recvonly m-lines.
        sendOffer(subscriber.socket, 'sub');
        await new Promise((r) => setTimeout(r, delay));
        await leave(how, roomId, who === 'subscriber' ? subscriber : publisher);
        await new Promise((r) => setTimeout(r, 150));
        await subscriber.socket.close();
        await publisher.socket.close();
        t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
        await waitFor(() => workerTotals().transports === 0, 3000, 'transports closed').catch(() => undefined);
        t.deepEqual(workerTotals(), { transports: 0, producers: 0, consumers: 0 }, `${who} ${how} at ${delay} ms`);
      }
    }
  }
});

test.serial('while a peer still has its objects, the worker counts them (the leak checks above can fail)', async (t) => {
  const roomId = await room();
  const { publisher, subscriber } = await publisherThenSubscriber(roomId);
  sendOffer(subscriber.socket, 'sub');
  await subscriber.socket.waitForMediaEvent('sdpAnswer', 5000);
  t.deepEqual(workerTotals(), { transports: 2, producers: 4, consumers: 2 });
  await subscriber.socket.close();
  await publisher.socket.close();
  await n.api(`/room/${roomId}`, { method: 'DELETE' });
  await waitFor(() => workerTotals().transports === 0, 3000, 'transports closed');
  t.deepEqual(workerTotals(), { transports: 0, producers: 0, consumers: 0 });
});

test.serial('one negotiation at a time: offerData never reaches a peer between its sdpOffer and the sdpAnswer', async (t) => {
  const roomId = await room();
  const subscriber = await joined(roomId);
  const publishers = await Promise.all(Array.from({ length: 13 }, () => joined(roomId)));
  const kinds = (): string[] => subscriber.socket.mediaEvents().map((e) => e.type);
  sendOffer(publishers[0]!.socket, 'pub0');
  let glare = 0;
  for (let i = 1; i < publishers.length; i++) {
    // Like the SDK, the subscriber offers only when told to; around that moment another publisher's tracks arrive,
    // so their announcement may land while the subscriber's offer is being answered: it must wait for the answer.
    await waitFor(() => kinds().filter((k) => k === 'offerData').length >= i, 5000, `offerData ${i}`);
    const mark = kinds().length;
    // the publisher's offer first, the subscriber's 0-22 ms later: some round lands the announcement mid-answer
    sendOffer(publishers[i]!.socket, `pub${i}`);
    await new Promise((r) => setTimeout(r, 2 * (i - 1)));
    sendOffer(subscriber.socket, 'sub');
    await waitFor(() => kinds().slice(mark).includes('sdpAnswer'), 5000, `sdpAnswer ${i}`);
    const before = kinds().slice(mark);
    if (before.slice(0, before.indexOf('sdpAnswer')).includes('offerData')) glare++;
  }
  t.is(glare, 0, `offerData before the sdpAnswer in ${glare} of ${publishers.length - 1} rounds: ${kinds().filter((k) => k === 'offerData' || k === 'sdpAnswer').join(',')}`);
  for (const p of [subscriber, ...publishers]) await p.socket.close();
  await n.api(`/room/${roomId}`, { method: 'DELETE' });
});

test.serial('a receive-only peer leaving makes nobody renegotiate; a publisher leaving does', async (t) => {
  const roomId = await room();
  const publisher = await joined(roomId);
  sendOffer(publisher.socket, 'pub');
  await publisher.socket.waitForMediaEvent('sdpAnswer', 5000);
  const viewer = await joined(roomId);
  await viewer.socket.waitForMediaEvent('offerData', 5000);
  const before = publisher.socket.mediaEvents().length;
  await viewer.socket.close();
  await waitFor(() => publisher.socket.mediaEvents().some((e) => e.type === 'endpointRemoved'), 5000, 'endpointRemoved');
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(publisher.socket.mediaEvents().slice(before).map((e) => e.type), ['endpointRemoved']);

  const second = await joined(roomId);
  await second.socket.waitForMediaEvent('offerData', 5000);
  sendOffer(second.socket, 'second');
  await waitFor(() => second.socket.mediaEvents().filter((e) => e.type === 'sdpAnswer').length >= 1, 5000, 'answer');
  const mark = second.socket.mediaEvents().length;
  await publisher.socket.close();
  await waitFor(() => second.socket.mediaEvents().slice(mark).some((e) => e.type === 'offerData'), 5000, 'offerData after the publisher left');
  t.deepEqual(second.socket.mediaEvents().slice(mark).map((e) => e.type).filter((x) => x !== 'vadNotification'), ['tracksRemoved', 'offerData', 'endpointRemoved']);
  await second.socket.close();
  await n.api(`/room/${roomId}`, { method: 'DELETE' });
});

test.serial("a peer cannot take over another peer's track id; a flood of offers closes only the flooding socket", async (t) => {
  const roomId = await room();
  const { publisher, subscriber } = await publisherThenSubscriber(roomId);
  sendOffer(subscriber.socket, 'sub');
  await subscriber.socket.waitForMediaEvent('sdpAnswer', 5000);
  // An intruder offers send m-lines named like the publisher's tracks.
  const intruder = await joined(roomId);
  await intruder.socket.waitForMediaEvent('offerData', 5000);
  sendOffer(intruder.socket, 'pub');
  await waitFor(() => intruder.socket.mediaEvents().some((e) => e.type === 'sdpAnswer'), 5000, "the intruder's answer");
  await new Promise((r) => setTimeout(r, 200));
  const claimed = subscriber.socket.mediaEvents().filter((e) => e.type === 'tracksAdded' && e.data?.endpointId === intruder.peerId);
  t.deepEqual(claimed, [], 'nobody was told the intruder publishes the publisher\'s tracks');
  const peers = (await n.api(`/room/${roomId}`)).body.data.peers as Array<{ id: string; tracks: Array<{ id: string }> }>;
  t.deepEqual(peers.find((p) => p.id === intruder.peerId)?.tracks, []);
  t.deepEqual(peers.find((p) => p.id === publisher.peerId)?.tracks.map((x) => x.id).sort(), ['pub:audio', 'pub:video']);
  t.is(workerObjectTotals(n.node).producers, 4, "only the publisher's and the subscriber's producers");

  // Twenty offers at once from the intruder: the socket is closed, the others go on.
  for (let i = 0; i < 20; i++) sendOffer(intruder.socket, `flood${i}`);
  t.deepEqual(await intruder.socket.closeResult(5000), { code: 1008, reason: 'too many offers' });
  t.true(publisher.socket.isOpen && subscriber.socket.isOpen);
  for (const p of [publisher, subscriber]) await p.socket.close();
  await n.api(`/room/${roomId}`, { method: 'DELETE' });
  await waitFor(() => workerTotals().transports === 0, 3000, 'transports closed');
  t.deepEqual(workerTotals(), { transports: 0, producers: 0, consumers: 0 });
});
