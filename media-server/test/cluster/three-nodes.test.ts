// Three whole nodes on loopback: what the cluster promises beyond the happy path.
import test from 'ava';
import WebSocket from 'ws';
import { derivedCookie } from '../../src/cluster/dist-cookie.js';
import { decodeServerMessage, encodeServerMessage, ServerEventType } from '../../src/proto/index.js';
import { freePort } from '../support/free-port.js';
import { startTestNode, TOKEN, waitFor, type TestNode } from '../support/test-node.js';

const NAMES = ['a@127.0.0.1', 'b@127.0.0.1', 'c@127.0.0.1'];

async function trio(env: Record<string, string> = {}): Promise<TestNode[]> {
  const mapper = String(await freePort());
  const common = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: mapper, ...env };
  const nodes: TestNode[] = [];
  for (const [i, name] of NAMES.entries()) {
    nodes.push(await startTestNode({ ...common, FJ_DIST_NODE_NAME: name, FJ_HOST: `${name.split('@')[0]}.example:1`, ...(i > 0 ? { FJ_DIST_NODES: NAMES[0]! } : {}) }));
  }
  return nodes;
}

const formed = (nodes: TestNode[]) => waitFor(() => nodes.every((n) => n.node.cluster!.linkedNodes().length === nodes.length - 1), 10_000, 'the cluster to form');
const stopAll = (nodes: TestNode[]) => Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));

test('without FJ_DIST_COOKIE the cookie comes from the API token: same token links, another token is refused', async (t) => {
  t.not(derivedCookie(TOKEN), TOKEN, 'a keyed hash, never the token itself');
  t.is(derivedCookie(TOKEN), derivedCookie(TOKEN));
  const nodes = await trio();
  const mapper = String(nodes[0]!.node.config.dist.portMapperPort);
  const stranger = await startTestNode({ FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: mapper, FJ_DIST_NODE_NAME: 'x@127.0.0.1', FJ_DIST_NODES: NAMES[0]!, FJ_SERVER_API_TOKEN: 'another-token' });
  try {
    await formed(nodes);
    await new Promise((r) => setTimeout(r, 2500)); // the stranger dials a every second
    t.deepEqual(stranger.node.cluster!.linkedNodes(), []);
    for (const n of nodes) t.false(n.node.cluster!.isLinked('x@127.0.0.1'));
  } finally {
    await stranger.stop();
    await stopAll(nodes);
  }
});

test('a burst right after the cluster forms spreads over all nodes; GET /room lists them all, page by page', async (t) => {
  const nodes = await trio({ FJ_DIST_COOKIE: 'trio' });
  try {
    await formed(nodes); // no pause: the load travels in the handshake
    const addresses: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await nodes[1]!.api('/room', { method: 'POST' });
      t.is(r.status, 201);
      addresses.push(r.body.data.fishjam_address);
      ids.push(r.body.data.room.id);
    }
    const counts = ['a', 'b', 'c'].map((n) => addresses.filter((x) => x === `${n}.example:1`).length);
    t.log(`30 creates through b right after forming: ${counts.join('/')}`);
    t.true(Math.max(...counts) / Math.min(...counts) <= 1.3, counts.join('/'));
    // pages of ~1 KiB: several calls for c's ~10 rooms, nothing lost or repeated
    const pages: number[] = [];
    const listed: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = (await nodes[0]!.node.cluster!.request('c@127.0.0.1', 'room.list', { after, maxBytes: 1024 })) as { rooms: { id: string }[]; next?: string };
      pages.push(page.rooms.length);
      listed.push(...page.rooms.map((r) => r.id));
      if (page.next === undefined) break;
      after = page.next;
    }
    t.true(pages.length > 1, `pages: ${pages.join(',')}`);
    t.deepEqual(listed.sort(), [...nodes[2]!.node.registry.list().map((r) => r.id)].sort());
    for (const n of nodes) t.deepEqual(((await n.api('/room')).body.data as { id: string }[]).map((r) => r.id).sort(), [...ids].sort());
  } finally {
    await stopAll(nodes);
  }
});

test('concurrent creates of one chosen id through every node: one 201, the others 400 "already exists"', async (t) => {
  const nodes = await trio({ FJ_DIST_COOKIE: 'trio' });
  try {
    await formed(nodes);
    const ids = Array.from({ length: 12 }, (_, i) => `same-id-${i}`);
    const results = await Promise.all(ids.flatMap((id) => nodes.map((n) => n.api('/room', { method: 'POST', json: { roomId: id } }).then((r) => ({ id, ...r })))));
    for (const id of ids) {
      const mine = results.filter((r) => r.id === id);
      t.deepEqual(mine.map((r) => r.status).sort(), [201, 400, 400], id);
      for (const r of mine.filter((x) => x.status === 400)) t.deepEqual(r.body, { errors: `Cannot add room with id "${id}" - room already exists` });
    }
    t.is(nodes.reduce((n, x) => n + x.node.registry.size, 0), ids.length, 'each id lives on exactly one node');
    // found from every node (one call to its registrar), deleted through any, then free again
    for (const n of nodes) for (const id of ids) t.is((await n.api(`/room/${id}`)).status, 200);
    t.is((await nodes[2]!.api(`/room/${ids[0]}`, { method: 'DELETE' })).status, 204);
    t.is((await nodes[1]!.api('/room', { method: 'POST', json: { roomId: ids[0] } })).status, 201);
    t.is((await nodes[0]!.api('/room', { method: 'POST', json: { roomId: ids[0] } })).status, 400);
  } finally {
    await stopAll(nodes);
  }
});

test('events go only to nodes with server-notification subscribers', async (t) => {
  const nodes = await trio({ FJ_DIST_COOKIE: 'trio' });
  const notifies = new Map<string, number>(NAMES.map((n) => [n, 0]));
  let ws: WebSocket | undefined;
  try {
    await formed(nodes);
    for (const [i, n] of nodes.entries()) n.node.cluster!.on('message', (m) => void (m.t === 'notify' && notifies.set(NAMES[i]!, notifies.get(NAMES[i]!)! + 1)));
    await nodes[1]!.api('/room', { method: 'POST', json: { roomId: 'quiet' } });
    await nodes[2]!.api('/room', { method: 'POST', json: { roomId: 'quiet-2' } });
    await new Promise((r) => setTimeout(r, 300));
    t.deepEqual([...notifies.values()], [0, 0, 0], 'nobody subscribed: no events cross the links');

    ws = new WebSocket(`ws://127.0.0.1:${nodes[0]!.node.httpPort}/socket/server/websocket`);
    const seen: string[] = [];
    ws.on('message', (d) => {
      const m = decodeServerMessage(d as Buffer);
      if (m.ok && 'roomCreated' in m.value) seen.push(m.value.roomCreated.roomId);
      if (m.ok && 'subscribeResponse' in m.value) seen.push('subscribed');
    });
    await new Promise((r) => ws!.once('open', r));
    ws.send(encodeServerMessage({ authRequest: { token: TOKEN } }));
    ws.send(encodeServerMessage({ subscribeRequest: { eventType: ServerEventType.SERVER_NOTIFICATION } }));
    await waitFor(() => seen.includes('subscribed'), 3000, 'subscribed');
    const heard = ['heard-0', 'heard-1', 'heard-2'];
    for (const id of heard) await nodes[1]!.api('/room', { method: 'POST', json: { roomId: id } });
    await waitFor(() => heard.every((id) => seen.includes(id)), 3000, 'RoomCreated of every room, on a');
    const elsewhere = heard.filter((id) => !nodes[0]!.node.registry.has(id)).length;
    t.true(elsewhere >= 1, 'rooms were made on other nodes');
    t.is(notifies.get(NAMES[0]!), elsewhere, 'a got the events of the rooms made elsewhere');
    t.is(notifies.get(NAMES[1]!)! + notifies.get(NAMES[2]!)!, 0, 'b and c, with no subscribers, still get none');
    ws.close();
    await new Promise((r) => setTimeout(r, 300));
    const before = notifies.get(NAMES[0]!)!;
    await nodes[1]!.api('/room', { method: 'POST', json: { roomId: 'after' } });
    await new Promise((r) => setTimeout(r, 300));
    t.is(notifies.get(NAMES[0]!), before, 'the last subscriber gone: a gets no more');
  } finally {
    ws?.terminate();
    await stopAll(nodes);
  }
});
