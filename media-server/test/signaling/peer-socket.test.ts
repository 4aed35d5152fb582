// The peer websocket (/socket/peer/websocket, binary fishjam.PeerMessage) driven by a raw `ws` client against a whole
// node: every close reason before authentication, the closes the server initiates afterwards, garbage frames after
// authentication (ignored, never fatal) and a reconnect with the same token.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { DomainEvent } from '../../src/rooms/event-bus.js';
import { signPeerToken } from '../../src/rooms/peer-token.js';
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

async function room(): Promise<string> {
  const res = await n.api('/room', { method: 'POST', json: {} });
  if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.room.id as string;
}

async function peer(roomId: string): Promise<{ peerId: string; token: string }> {
  const res = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  if (res.status !== 201) throw new Error(`add peer: ${res.status} ${JSON.stringify(res.body)}`);
  return { peerId: res.body.data.peer.id as string, token: res.body.data.token as string };
}

async function peerStatus(roomId: string, peerId: string): Promise<string | undefined> {
  const res = await n.api(`/room/${roomId}`);
  return (res.body?.data?.peers as Array<{ id: string; status: string }> | undefined)?.find((p) => p.id === peerId)?.status;
}

async function authFails(token: string): Promise<{ code: number; reason: string; authenticated: boolean }> {
  const socket = await PeerSocket.open(n.base);
  socket.send({ authRequest: { token } });
  const closed = await socket.closeResult();
  return { ...closed, authenticated: socket.received.some((m) => 'authenticated' in m) };
}

const secret = (): string => n.node.config.secretKeyBase;

// --- before authentication ---------------------------------------------------------------------------------

test('a malformed token, or one signed with another secret, closes 1000 "invalid token"', async (t) => {
  const roomId = await room();
  const { peerId, token } = await peer(roomId);
  t.deepEqual(await authFails('not-a-token'), { code: 1000, reason: 'invalid token', authenticated: false });
  t.deepEqual(await authFails(''), { code: 1000, reason: 'invalid token', authenticated: false });
  t.deepEqual(await authFails(signPeerToken({ roomId, peerId }, 'y'.repeat(48), Date.now())), { code: 1000, reason: 'invalid token', authenticated: false });
  t.deepEqual(await authFails(`${token}x`), { code: 1000, reason: 'invalid token', authenticated: false });
  t.is(await peerStatus(roomId, peerId), 'disconnected');
});

test('a token older than 24 h closes 1000 "expired token"', async (t) => {
  const roomId = await room();
  const { peerId } = await peer(roomId);
  const old = signPeerToken({ roomId, peerId }, secret(), Date.now() - 25 * 60 * 60 * 1000);
  t.deepEqual(await authFails(old), { code: 1000, reason: 'expired token', authenticated: false });
  t.is(await peerStatus(roomId, peerId), 'disconnected');
});

test('a valid token for a room that does not exist (any more) closes 1000 "room not found"', async (t) => {
  t.deepEqual(await authFails(signPeerToken({ roomId: 'no-such-room', peerId: 'p' }, secret(), Date.now())), { code: 1000, reason: 'room not found', authenticated: false });
  const roomId = await room();
  const { token } = await peer(roomId);
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  t.deepEqual(await authFails(token), { code: 1000, reason: 'room not found', authenticated: false });
});

test('a valid token for a peer that does not exist (any more) closes 1000 "peer not found"', async (t) => {
  const roomId = await room();
  t.deepEqual(await authFails(signPeerToken({ roomId, peerId: 'no-such-peer' }, secret(), Date.now())), { code: 1000, reason: 'peer not found', authenticated: false });
  const { peerId, token } = await peer(roomId);
  t.is((await n.api(`/room/${roomId}/peer/${peerId}`, { method: 'DELETE' })).status, 204);
  t.deepEqual(await authFails(token), { code: 1000, reason: 'peer not found', authenticated: false });
});

test('a second socket for a connected peer closes 1000 "peer already connected"; the first keeps working', async (t) => {
  const roomId = await room();
  const { peerId, token } = await peer(roomId);
  const first = await PeerSocket.open(n.base);
  await first.authenticate(token);
  t.deepEqual(await authFails(token), { code: 1000, reason: 'peer already connected', authenticated: false });
  t.true(first.isOpen);
  first.sendMediaEvent({ type: 'connect', data: { metadata: { name: 'first' } } });
  const connected = await first.waitForMediaEvent('connected', 5000);
  t.is(connected.data.id, peerId);
  t.is(await peerStatus(roomId, peerId), 'connected');
  await first.close();
});

test('a first frame that is not auth_request closes 1000 "unauthenticated"', async (t) => {
  const roomId = await room();
  const { peerId, token } = await peer(roomId);
  const cases: Array<[string, (s: PeerSocket) => void]> = [
    ['a media event', (s) => s.sendMediaEvent({ type: 'connect', data: { metadata: null } })],
    ['an authenticated message', (s) => s.send({ authenticated: {} })],
    ['a text frame', (s) => s.sendRaw('hello', false)],
    ['a text frame holding a valid auth_request', (s) => s.sendRaw(Buffer.from(JSON.stringify({ authRequest: { token } })).toString(), false)],
    ['bytes that are not a PeerMessage', (s) => s.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff]))],
    ['an empty binary frame', (s) => s.sendRaw(Buffer.alloc(0))],
  ];
  for (const [what, send] of cases) {
    const socket = await PeerSocket.open(n.base);
    send(socket);
    t.deepEqual(await socket.closeResult(), { code: 1000, reason: 'unauthenticated' }, what);
    t.false(socket.received.some((m) => 'authenticated' in m), what);
  }
  // None of these touched the peer: it can still join.
  t.is(await peerStatus(roomId, peerId), 'disconnected');
  const socket = await PeerSocket.open(n.base);
  await socket.authenticate(token);
  t.is(await peerStatus(roomId, peerId), 'connected');
  await socket.close();
});

// --- after authentication: closes the server initiates -----------------------------------------------------

test('deleting the peer over REST closes its socket 1000 "Peer removed"', async (t) => {
  const roomId = await room();
  const { peerId, token } = await peer(roomId);
  const other = await peer(roomId);
  const [socket, bystander] = [await PeerSocket.open(n.base), await PeerSocket.open(n.base)];
  await socket.authenticate(token);
  await bystander.authenticate(other.token);
  socket.sendMediaEvent({ type: 'connect', data: { metadata: null } });
  await socket.waitForMediaEvent('connected', 5000);
  bystander.sendMediaEvent({ type: 'connect', data: { metadata: null } });
  const seen = await bystander.waitForMediaEvent('connected', 5000);
  t.deepEqual(seen.data.otherEndpoints.map((e: { id: string }) => e.id), [peerId]);
  t.is((await n.api(`/room/${roomId}/peer/${peerId}`, { method: 'DELETE' })).status, 204);
  t.deepEqual(await socket.closeResult(), { code: 1000, reason: 'Peer removed' });
  // the other endpoint is told, and its own socket stays open
  const removed = await bystander.waitForMediaEvent('endpointRemoved', 5000);
  t.is(removed.data.id, peerId);
  t.true(bystander.isOpen);
  t.is(await peerStatus(roomId, other.peerId), 'connected');
  await bystander.close();
});

test('deleting the room closes every peer socket 1000 "Room stopped"', async (t) => {
  const roomId = await room();
  const peers = [await peer(roomId), await peer(roomId)];
  const sockets = [await PeerSocket.open(n.base), await PeerSocket.open(n.base)];
  await sockets[0]!.authenticate(peers[0]!.token);
  await sockets[1]!.authenticate(peers[1]!.token);
  sockets[0]!.sendMediaEvent({ type: 'connect', data: { metadata: null } });
  await sockets[0]!.waitForMediaEvent('connected', 5000);
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  for (const socket of sockets) t.deepEqual(await socket.closeResult(), { code: 1000, reason: 'Room stopped' });
});

test('deleting a room of 30 connected endpoints sends none of them endpointRemoved (no N^2 goodbyes into closing sockets)', async (t) => {
  const roomId = await room();
  const sockets: PeerSocket[] = [];
  for (let i = 0; i < 30; i++) {
    const { token } = await peer(roomId);
    const socket = await PeerSocket.open(n.base);
    await socket.authenticate(token);
    socket.sendMediaEvent({ type: 'connect', data: { metadata: null } });
    await socket.waitForMediaEvent('connected', 5000);
    sockets.push(socket);
  }
  await waitFor(() => sockets[0]!.mediaEvents().filter((e) => e.type === 'endpointAdded').length === 29, 5000, 'everyone joined');
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  for (const socket of sockets) t.deepEqual(await socket.closeResult(), { code: 1000, reason: 'Room stopped' });
  const goodbyes = sockets.reduce((sum, s) => sum + s.mediaEvents().filter((e) => e.type === 'endpointRemoved').length, 0);
  t.is(goodbyes, 0);
});

// --- after authentication: garbage is ignored ---------------------------------------------------------------

test('garbage frames after authentication are ignored: the socket stays open and media events still work', async (t) => {
  const roomId = await room();
  const { peerId, token } = await peer(roomId);
  const socket = await PeerSocket.open(n.base);
  await socket.authenticate(token);
  const garbage: Array<Uint8Array | string> = [
    randomBytes(1),
    randomBytes(64),
    randomBytes(4096),
    Buffer.from([0xff, 0xff, 0xff, 0xff]),
    Buffer.alloc(0),
  ];
  for (const bytes of garbage) socket.sendRaw(bytes, true);
  socket.sendRaw('a text frame', false);
  socket.sendRaw(JSON.stringify({ type: 'connect', data: { metadata: null } }), false); // a media event, but as text
  socket.send({ authRequest: { token } }); // a second auth_request
  socket.send({ authRequest: { token: 'garbage' } });
  socket.send({ authenticated: {} });
  for (const data of [
    '{not json',
    '',
    'null',
    '42',
    '[]',
    '{"data":{}}',
    '{"type":"noSuchEvent","data":{}}',
    '{"type":"custom","data":{"type":"noSuchCustomEvent","data":{}}}',
    '{"type":"custom","data":"not an object"}',
    '{"type":"custom"}',
    '{"type":"updateTrackMetadata","data":{"trackId":42}}',
    '{"type":"sdpOffer","data":{}}', // a custom event outside its envelope
    '{"type":"custom","data":{"type":"sdpOffer","data":{"sdpOffer":{"type":"offer","sdp":"v=0 garbage"}}}}', // before connect
    '{"type":"custom","data":{"type":"renegotiateTracks"}}', // before connect
    '{"type":"disconnect"}', // before connect
  ]) {
    socket.sendMediaEvent(data);
  }
  // A ping-pong round trip after all of it: the server has read every frame above.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pong')), 5000);
    socket.ws.once('pong', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.ws.ping();
  });
  t.true(socket.isOpen);
  t.is(socket.mediaEvents().length, 0, 'nothing was answered');
  t.is(await peerStatus(roomId, peerId), 'connected');

  socket.sendMediaEvent({ type: 'connect', data: { metadata: { name: 'after garbage' } } });
  const connected = await socket.waitForMediaEvent('connected', 5000);
  t.deepEqual(connected.data, { id: peerId, otherEndpoints: [] });

  // after connect too: a broken sdpOffer is answered with an error media event, never a close
  socket.sendMediaEvent({ type: 'custom', data: { type: 'sdpOffer', data: { sdpOffer: { type: 'offer', sdp: 'v=0 garbage' }, midToTrackId: {} } } });
  const error = await socket.waitForMediaEvent('error', 5000);
  t.regex(String(error.data.message), /Negotiation failed/);
  for (const bytes of garbage) socket.sendRaw(bytes, true);
  socket.sendMediaEvent('{not json');
  socket.sendMediaEvent({ type: 'updateEndpointMetadata', data: { metadata: { name: 'renamed' } } });
  await waitFor(async () => (await n.api(`/room/${roomId}`)).body.data.peers[0].metadata?.name === 'renamed', 5000, 'metadata update after garbage');
  t.true(socket.isOpen);
  await socket.close();
});

// --- reconnecting ---------------------------------------------------------------------------------------------

test('after the socket drops, the peer is disconnected and may reconnect with the same token', async (t) => {
  const roomId = await room();
  const { peerId, token } = await peer(roomId);
  const mine = (): string[] => events.filter((e) => e.roomId === roomId && 'peerId' in e && e.peerId === peerId).map((e) => e.type);

  const first = await PeerSocket.open(n.base);
  await first.authenticate(token);
  first.sendMediaEvent({ type: 'connect', data: { metadata: null } });
  await first.waitForMediaEvent('connected', 5000);
  t.is(await peerStatus(roomId, peerId), 'connected');

  first.ws.terminate(); // dropped: no close frame
  await waitFor(async () => (await peerStatus(roomId, peerId)) === 'disconnected', 5000, 'the peer to be disconnected');
  t.deepEqual(mine(), ['peerAdded', 'peerConnected', 'peerDisconnected']);

  const second = await PeerSocket.open(n.base);
  await second.authenticate(token);
  t.is(await peerStatus(roomId, peerId), 'connected');
  second.sendMediaEvent({ type: 'connect', data: { metadata: { again: true } } });
  const connected = await second.waitForMediaEvent('connected', 5000);
  t.is(connected.data.id, peerId);

  // a clean close, then a third socket with the same token
  await second.close();
  await waitFor(async () => (await peerStatus(roomId, peerId)) === 'disconnected', 5000, 'the peer to be disconnected again');
  const third = await PeerSocket.open(n.base);
  await third.authenticate(token);
  t.is(await peerStatus(roomId, peerId), 'connected');
  // (the second socket's `connect` carried metadata: announced as PeerMetadataUpdated, as the original does)
  t.deepEqual(mine(), ['peerAdded', 'peerConnected', 'peerDisconnected', 'peerConnected', 'peerMetadataUpdated', 'peerDisconnected', 'peerConnected']);
  await third.close();
});
