// Two nodes on loopback, each a whole node with real parts: they link with the cookie, place rooms by load, serve
// each other's rooms (REST and peer sockets), share server notifications, and respect draining.
import test from 'ava';
import WebSocket from 'ws';
import { decodePeerMessage, decodeServerMessage, encodePeerMessage, encodeServerMessage, ServerEventType, type ServerMessage } from '../../src/proto/index.js';
import { freePort } from '../support/free-port.js';
import { startTestNode, TOKEN, waitFor, type TestNode } from '../support/test-node.js';


async function pair(extra: Record<string, string> = {}, extraB: Record<string, string> = {}): Promise<[TestNode, TestNode]> {
  const mapper = String(await freePort());
  const common = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: mapper, FJ_DIST_COOKIE: 'test-cookie', ...extra };
  const a = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'a@127.0.0.1', FJ_HOST: 'a.example:5002' });
  const b = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'b@127.0.0.1', FJ_DIST_NODES: 'a@127.0.0.1', FJ_HOST: 'b.example:5002', ...extraB });
  return [a, b];
}

const linked = (n: TestNode, count: number) => waitFor(() => n.node.cluster!.linkedNodes().length === count, 8000, `${count} linked node(s)`);

test('two nodes link, spread rooms, and serve each other\'s rooms over REST', async (t) => {
  const [a, b] = await pair();
  try {
    await Promise.all([linked(a, 1), linked(b, 1)]);
    t.is((await a.api('/health')).body.data.distribution.nodesInCluster, 2);
    await waitFor(() => a.node.cluster!.reports().length === 1 && b.node.cluster!.reports().length === 1, 3000, 'load reports');
    const hosts: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await b.api('/room', { method: 'POST' });
      t.is(res.status, 201);
      hosts.push(res.body.data.fishjam_address);
      ids.push(res.body.data.room.id);
    }
    t.deepEqual([...new Set(hosts)].sort(), ['a.example:5002', 'b.example:5002'], 'rooms land on both nodes');
    t.is(a.node.registry.size + b.node.registry.size, 4);
    const listed = await a.api('/room');
    t.deepEqual(listed.body.data.map((r: { id: string }) => r.id).sort(), [...ids].sort(), 'GET /room lists the whole cluster');
    const onB = ids.find((id) => b.node.registry.has(id))!;
    t.is((await a.api(`/room/${onB}`)).status, 200, 'a serves b\'s room');
    const peer = await a.api(`/room/${onB}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
    t.is(peer.status, 201);
    t.is(peer.body.data.peer_websocket_url, 'b.example:5002/socket/peer/websocket');
    const missing = await a.api(`/room/${onB}/peer/nope`, { method: 'DELETE' });
    t.deepEqual([missing.status, missing.body], [404, { errors: 'Peer nope does not exist' }], 'the owner\'s errors come back as they are');
    t.is((await a.api(`/room/${onB}`, { method: 'DELETE' })).status, 204);
    t.false(b.node.registry.has(onB));
    t.is((await a.api('/room', { method: 'POST', json: { roomId: 'chosen' } })).status, 201);
    await new Promise((r) => setTimeout(r, 1300)); // one load report carries the id to the other node
    const dup = await b.api('/room', { method: 'POST', json: { roomId: 'chosen' } });
    t.deepEqual([dup.status, dup.body], [400, { errors: 'Cannot add room with id "chosen" - room already exists' }], 'chosen ids are unique cluster-wide');
    t.is((await b.api('/room/chosen')).status, 200, 'a chosen id is found through the holder\'s reports');
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('a peer socket opened on a node that does not hold the room is carried to its owner', async (t) => {
  const [a, b] = await pair();
  const sockets: WebSocket[] = [];
  try {
    await Promise.all([linked(a, 1), linked(b, 1)]);
    await b.api('/room', { method: 'POST', json: { roomId: 'on-b' } });
    t.true(b.node.registry.has('on-b'));
    const token = (await b.api('/room/on-b/peer', { method: 'POST', json: { type: 'webrtc', options: {} } })).body.data.token;
    const ws = new WebSocket(`ws://127.0.0.1:${a.node.httpPort}/socket/peer/websocket`);
    sockets.push(ws);
    const frames: ReturnType<typeof decodePeerMessage>[] = [];
    ws.on('message', (d) => frames.push(decodePeerMessage(d as Buffer)));
    await new Promise((r) => ws.once('open', r));
    ws.send(encodePeerMessage({ authRequest: { token } }));
    await waitFor(() => frames.some((f) => f.ok && 'authenticated' in f.value), 5000, 'authenticated through node a');
    ws.send(encodePeerMessage({ mediaEvent: { data: JSON.stringify({ type: 'connect', data: { metadata: { via: 'a' } } }) } }));
    await waitFor(() => frames.some((f) => f.ok && 'mediaEvent' in f.value && f.value.mediaEvent.data.includes('"connected"')), 5000, 'connected media event');
    t.is((await b.api('/room/on-b')).body.data.peers[0].status, 'connected', 'the owner sees its peer connected');
    const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, reason.toString()])));
    await b.api('/room/on-b', { method: 'DELETE' });
    t.deepEqual(await closed, [1000, 'Room stopped'], 'close reasons travel back through the relay');
  } finally {
    for (const s of sockets) s.terminate();
    await b.stop();
    await a.stop();
  }
});

test('server notifications are cluster-wide', async (t) => {
  const [a, b] = await pair();
  const ws = new WebSocket(`ws://127.0.0.1:${a.node.httpPort}/socket/server/websocket`);
  const opened = new Promise((r) => ws.once('open', r));
  try {
    await Promise.all([linked(a, 1), linked(b, 1)]);
    const seen: ServerMessage[] = [];
    ws.on('message', (d) => {
      const m = decodeServerMessage(d as Buffer);
      if (m.ok) seen.push(m.value);
    });
    await opened;
    ws.send(encodeServerMessage({ authRequest: { token: TOKEN } }));
    ws.send(encodeServerMessage({ subscribeRequest: { eventType: ServerEventType.SERVER_NOTIFICATION } }));
    await waitFor(() => seen.some((m) => 'subscribeResponse' in m), 3000, 'subscribed');
    await b.api('/room', { method: 'POST', json: { roomId: 'made-on-b' } });
    await waitFor(() => seen.some((m) => 'roomCreated' in m && m.roomCreated.roomId === 'made-on-b'), 3000, 'RoomCreated from node b on node a');
    t.true(b.node.registry.has('made-on-b'));
  } finally {
    ws.terminate();
    await b.stop();
    await a.stop();
  }
});

test('a draining node gets no new rooms; its rooms go on; creates through it land elsewhere', async (t) => {
  const [a, b] = await pair({ FJ_DRAIN_TIMEOUT: '20' });
  try {
    await Promise.all([linked(a, 1), linked(b, 1)]);
    await a.api('/room', { method: 'POST', json: { roomId: 'stays-on-a' } });
    t.is((await a.api('/admin/drain', { method: 'POST' })).status, 202);
    await new Promise((r) => setTimeout(r, 1300)); // a's next load report says DRAINING
    for (let i = 0; i < 3; i++) {
      const viaA = await a.api('/room', { method: 'POST' });
      const viaB = await b.api('/room', { method: 'POST' });
      t.is(viaA.body.data.fishjam_address, 'b.example:5002');
      t.is(viaB.body.data.fishjam_address, 'b.example:5002');
    }
    t.is((await b.api('/room/stays-on-a/peer', { method: 'POST', json: { type: 'webrtc', options: {} } })).status, 201, 'its rooms still take peers');
    const drained = a.node.drain();
    await b.api('/room/stays-on-a', { method: 'DELETE' });
    t.is(await drained, 'empty');
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('a node with the wrong cookie is refused', async (t) => {
  const [a, b] = await pair({}, { FJ_DIST_COOKIE: 'not-the-cookie' });
  try {
    await new Promise((r) => setTimeout(r, 2500));
    t.deepEqual(a.node.cluster!.linkedNodes(), []);
    t.deepEqual(b.node.cluster!.linkedNodes(), []);
    t.is((await b.api('/health')).body.data.distribution.nodesInCluster, 1);
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('rooms of a node that stopped answering get 503; creates keep succeeding on the others', async (t) => {
  const [a, b] = await pair();
  let bStopped = false;
  try {
    await Promise.all([linked(a, 1), linked(b, 1)]);
    await b.api('/room', { method: 'POST', json: {} });
    const onB = (await b.api('/room', { method: 'POST' })).body.data.room.id;
    const owner = b.node.registry.has(onB) ? b : a;
    const other = owner === b ? a : b;
    await owner.stop();
    bStopped = true;
    await waitFor(() => other.node.cluster!.linkedNodes().length === 0, 2000, 'the link to drop');
    const res = await other.api(`/room/${onB}`);
    t.deepEqual([res.status, res.body], [503, { errors: `Unable to reach Fishjam instance holding room ${onB}` }]);
    for (let i = 0; i < 5; i++) t.is((await other.api('/room', { method: 'POST' })).status, 201);
    if (owner === a) [a, b].reverse();
  } finally {
    if (!bStopped) await b.stop();
    await a.stop().catch(() => undefined);
    await b.stop().catch(() => undefined);
  }
});
