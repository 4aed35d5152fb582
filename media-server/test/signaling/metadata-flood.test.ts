// A peer that loops metadata updates (16 KiB each, as fast as its socket takes them) must not make the node write
// every one of them to every other peer: that N-fold amplification filled the receivers' socket buffers until the
// node closed them. Updates are coalesced (latest wins): the others get a bounded number of endpointUpdated events,
// the last of which carries the last metadata, and every socket stays open.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DomainEvent } from '../../src/rooms/event-bus.js';
import { PeerSocket, terminateAll } from '../notifications/support/sockets.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';

let n: TestNode;
const events: DomainEvent[] = [];

test.before(async () => {
  n = await startTestNode();
  n.node.bus.subscribe((e) => events.push(e));
});

test.after.always(async () => {
  terminateAll();
  await n?.stop();
});

const UPDATES = 2000;
const RECEIVERS = 4;

test(`${UPDATES} metadata updates of 16 KiB from one peer reach ${RECEIVERS} others coalesced, the last one last, no socket closed`, async (t) => {
  const roomId = (await n.api('/room', { method: 'POST', json: {} })).body.data.room.id as string;
  const sockets: PeerSocket[] = [];
  const ids: string[] = [];
  for (let i = 0; i <= RECEIVERS; i++) {
    const res = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
    const socket = await PeerSocket.open(n.base);
    await socket.authenticate(res.body.data.token as string);
    socket.sendMediaEvent({ type: 'connect', data: { metadata: { i } } });
    await socket.waitForMediaEvent('connected', 5000);
    sockets.push(socket);
    ids.push(res.body.data.peer.id as string);
  }
  const [flooder, ...receivers] = sockets;
  const filler = 'x'.repeat(16 * 1024 - 100);
  const started = Date.now();
  for (let k = 1; k <= UPDATES; k++) flooder!.sendMediaEvent({ type: 'updateEndpointMetadata', data: { metadata: { k, filler } } });
  const lastValue = (s: PeerSocket) => s.mediaEvents().filter((e) => e.type === 'endpointUpdated' && e.data.id === ids[0]).at(-1)?.data.metadata?.k;
  await waitFor(() => receivers.every((s) => lastValue(s) === UPDATES), 20_000, 'the last metadata at every receiver');
  await sleep(300); // nothing straggles in after the last one
  const elapsed = Date.now() - started;
  for (const [i, s] of receivers.entries()) {
    const updates = s.mediaEvents().filter((e) => e.type === 'endpointUpdated' && e.data.id === ids[0]);
    // at most one per 100 ms interval (5 endpoints: the minimum interval), plus the first and the trailing one
    t.true(updates.length <= Math.ceil(elapsed / 100) + 2, `receiver ${i} got ${updates.length} updates in ${elapsed} ms`);
    t.is(updates.at(-1)!.data.metadata.k, UPDATES, `receiver ${i} ends with the last value`);
    t.true(s.isOpen, `receiver ${i} still connected`);
  }
  t.true(flooder!.isOpen, 'coalescing is not a punishment: the sender stays connected too');
  const peers = (await n.api(`/room/${roomId}`)).body.data.peers as Array<{ id: string; metadata: { k: number } }>;
  t.is(peers.find((p) => p.id === ids[0])!.metadata.k, UPDATES, 'GET /room shows the last metadata');
  const notified = events.filter((e) => e.type === 'peerMetadataUpdated' && (e as { peerId?: string }).peerId === ids[0]).length;
  t.true(notified <= Math.ceil(elapsed / 100) + 3, `server notifications coalesced too (${notified})`);
  console.log(`[metadata-flood] ${UPDATES} updates sent; each receiver got ${receivers.map((s) => s.mediaEvents().filter((e) => e.type === 'endpointUpdated').length).join('/')} in ${elapsed} ms; ${notified} PeerMetadataUpdated`);
  for (const s of sockets) await s.close();
});

test('metadata pending when its peer leaves is never sent', async (t) => {
  const roomId = (await n.api('/room', { method: 'POST', json: {} })).body.data.room.id as string;
  const open = async (): Promise<{ socket: PeerSocket; id: string }> => {
    const res = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
    const socket = await PeerSocket.open(n.base);
    await socket.authenticate(res.body.data.token as string);
    socket.sendMediaEvent({ type: 'connect', data: { metadata: null } });
    await socket.waitForMediaEvent('connected', 5000);
    return { socket, id: res.body.data.peer.id as string };
  };
  const a = await open();
  const b = await open();
  a.socket.sendMediaEvent({ type: 'updateEndpointMetadata', data: { metadata: { v: 1 } } });
  a.socket.sendMediaEvent({ type: 'updateEndpointMetadata', data: { metadata: { v: 2 } } });
  a.socket.sendMediaEvent({ type: 'disconnect' });
  await b.socket.waitForMediaEvent('endpointRemoved', 5000);
  await sleep(300);
  const seen = b.socket.mediaEvents().filter((e) => e.type === 'endpointUpdated').map((e) => e.data.metadata?.v);
  t.deepEqual(seen, [1], 'the pending second update died with the endpoint');
  const after = b.socket.mediaEvents().findIndex((e) => e.type === 'endpointRemoved');
  t.false(b.socket.mediaEvents().slice(after).some((e) => e.type === 'endpointUpdated'), 'nothing about the peer after endpointRemoved');
  await a.socket.close();
  await b.socket.close();
});
