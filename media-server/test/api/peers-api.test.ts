import test from 'ava';
import { verifyPeerToken } from '../../src/rooms/peer-token.js';
import { validateAgainst } from '../support/openapi-validator.js';
import { startTestNode, type TestNode } from '../support/test-node.js';

let n: TestNode;
test.before(async () => {
  n = await startTestNode();
});
test.after.always(async () => {
  await n?.stop();
});

async function room(body: Record<string, unknown> = {}): Promise<string> {
  const res = await n.api('/room', { method: 'POST', json: body });
  return res.body.data.room.id as string;
}

test('POST /room/:id/peer -> 201 with peer, a token signed for it, and the websocket URL', async (t) => {
  const id = await room();
  const res = await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc', options: { enableSimulcast: true } } });
  t.is(res.status, 201);
  t.deepEqual(validateAgainst('PeerDetailsResponse', res.body), []);
  const { peer, token, peer_websocket_url } = res.body.data;
  t.deepEqual(peer, { id: peer.id, type: 'webrtc', status: 'disconnected', tracks: [], metadata: null });
  t.is(peer_websocket_url, `${n.node.config.host}/socket/peer/websocket`);
  const claims = verifyPeerToken(token, n.node.config.secretKeyBase, Date.now());
  t.deepEqual(claims, { ok: true, roomId: id, peerId: peer.id });
  const shown = await n.api(`/room/${id}`);
  t.deepEqual(shown.body.data.peers, [peer]);
});

test('options may be omitted; enableSimulcast must be a boolean', async (t) => {
  const id = await room();
  t.is((await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc' } })).status, 201);
  const bad = await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc', options: { enableSimulcast: 'yes' } } });
  t.is(bad.status, 400);
  t.deepEqual(bad.body, { errors: 'Expected enableSimulcast to be a boolean, got: "yes"' });
});

test('peer errors: body structure, type, unknown room, limit, unknown peer', async (t) => {
  const id = await room({ maxPeers: 1 });
  const noType = await n.api(`/room/${id}/peer`, { method: 'POST', json: { options: {} } });
  t.deepEqual([noType.status, noType.body], [400, { errors: 'Invalid request body structure' }]);
  const badType = await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'carrier-pigeon', options: {} } });
  t.deepEqual([badType.status, badType.body], [400, { errors: 'Invalid peer type' }]);
  const badOptions = await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc', options: [1] } });
  t.deepEqual([badOptions.status, badOptions.body], [400, { errors: 'Invalid request body structure' }]);
  const noRoom = await n.api('/room/ghost/peer', { method: 'POST', json: { type: 'webrtc', options: {} } });
  t.deepEqual([noRoom.status, noRoom.body], [404, { errors: 'Room ghost does not exist' }]);
  t.is((await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } })).status, 201);
  const full = await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  t.deepEqual([full.status, full.body], [503, { errors: `Reached webrtc peers limit in room ${id}` }]);
  const noPeer = await n.api(`/room/${id}/peer/ghost`, { method: 'DELETE' });
  t.deepEqual([noPeer.status, noPeer.body], [404, { errors: 'Peer ghost does not exist' }]);
  const noRoomPeer = await n.api('/room/ghost/peer/x', { method: 'DELETE' });
  t.deepEqual([noRoomPeer.status, noRoomPeer.body], [404, { errors: 'Room ghost does not exist' }]);
});

test('DELETE /room/:id/peer/:pid -> 204 and frees the slot', async (t) => {
  const id = await room({ maxPeers: 1 });
  const added = await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  const pid = added.body.data.peer.id as string;
  const del = await n.api(`/room/${id}/peer/${pid}`, { method: 'DELETE' });
  t.is(del.status, 204);
  t.deepEqual((await n.api(`/room/${id}`)).body.data.peers, []);
  t.is((await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } })).status, 201);
});

test('webrtc peers can be disabled (FJ_WEBRTC_USED=false) with the original message', async (t) => {
  const off = await startTestNode({ FJ_WEBRTC_USED: 'false' });
  try {
    const id = (await off.api('/room', { method: 'POST' })).body.data.room.id;
    const res = await off.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
    t.deepEqual([res.status, res.body], [400, { errors: 'Peers of type webrtc are disabled on this Fishjam' }]);
  } finally {
    await off.stop();
  }
});
