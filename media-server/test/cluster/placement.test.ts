import test from 'ava';
import { chooseNode, expectedRoomCost, PRIOR_TRACKS_PER_ROOM, type LoadReport } from '../../src/cluster/placement.js';
import { registrarOf } from '../../src/cluster/room-directory.js';
import { generatedRoomId, ownerOfRoomId } from '../../src/cluster/room-owner.js';
import { parseNodeName, withHost } from '../../src/cluster/node-name.js';

const now = 1_000_000;
const report = (node: string, over: Partial<LoadReport> = {}): LoadReport => ({
  node, host: `${node}:5002`, state: 'SERVING', rooms: 0, peers: 0, forwardedTracks: 0, cpu: 0, receivedAt: now, ...over,
});
const opts = { now, maxAgeMs: 2000, reserved: new Map<string, number>() };

// Each row: the reports (rooms, forwarded tracks), reservations, and the node that must win.
const table: Array<{ name: string; reports: LoadReport[]; reserved?: Record<string, number>; prefer?: string; winner: string | undefined }> = [
  { name: 'equal empty nodes: the name decides', reports: [report('b'), report('a')], winner: 'a' },
  { name: 'equal empty nodes: the entry node wins the tie (no hop)', reports: [report('a'), report('b')], prefer: 'b', winner: 'b' },
  { name: 'fewer forwarded tracks wins when rooms are equal', reports: [report('a', { rooms: 2, forwardedTracks: 30 }), report('b', { rooms: 2, forwardedTracks: 8 })], winner: 'b' },
  { name: 'empty rooms count at the expected cost: 10 fresh rooms outweigh 2 rooms with 6 tracks', reports: [report('a', { rooms: 10 }), report('b', { rooms: 2, forwardedTracks: 6 })], winner: 'b' },
  { name: 'heavy rooms count by their tracks', reports: [report('a', { rooms: 2, forwardedTracks: 200 }), report('b', { rooms: 10, forwardedTracks: 20 })], winner: 'b' },
  { name: 'rooms placed since the last report count at the expected cost', reports: [report('a'), report('b', { rooms: 1 })], reserved: { a: 3 }, winner: 'b' },
  { name: 'the entry preference never beats a lower score', reports: [report('a'), report('b', { rooms: 1 })], prefer: 'b', winner: 'a' },
  { name: 'draining, starting and stopping nodes are never chosen', reports: [report('a', { state: 'DRAINING' }), report('b', { state: 'STARTING' }), report('c', { state: 'STOPPING' }), report('d', { forwardedTracks: 99 })], winner: 'd' },
  { name: 'a stale report is never chosen', reports: [report('a', { receivedAt: now - 2001 }), report('b', { rooms: 50 })], winner: 'b' },
  { name: 'no usable node', reports: [report('a', { state: 'DRAINING' })], winner: undefined },
  // component processes (ffmpeg) take CPU the tracks do not show: their share of the cores times the track capacity
  { name: 'an idle node whose ffmpeg takes 20% of its cores weighs 100 tracks (capacity 500)', reports: [report('a', { componentCpu: 0.2, capacity: 500 }), report('b', { rooms: 20 })], winner: 'b' },
  { name: 'the same node without its ffmpeg wins', reports: [report('a', { componentCpu: 0, capacity: 500 }), report('b', { rooms: 20 })], winner: 'a' },
  { name: 'component CPU breaks an otherwise equal tie', reports: [report('a', { rooms: 2, componentCpu: 0.01, capacity: 500 }), report('b', { rooms: 2, capacity: 500 })], prefer: 'a', winner: 'b' },
  { name: 'garbage component figures count as nothing', reports: [report('a', { componentCpu: Number.NaN, capacity: 500 }), report('b', { componentCpu: 0.5, capacity: -1, rooms: 1 })], winner: 'a' },
  { name: 'a share above 1 counts as the whole capacity', reports: [report('a', { componentCpu: 7, capacity: 100 }), report('b', { rooms: 24 })], winner: 'b' },
];
for (const row of table) {
  test(`placement: ${row.name}`, (t) => {
    const reserved = new Map(Object.entries(row.reserved ?? {}));
    t.is(chooseNode(row.reports, { ...opts, reserved, ...(row.prefer ? { prefer: row.prefer } : {}) })?.node, row.winner);
  });
}

test('the expected room cost is learned from real rooms, with a non-zero prior', (t) => {
  t.is(expectedRoomCost([]), PRIOR_TRACKS_PER_ROOM);
  t.is(expectedRoomCost([report('a'), report('b')]), PRIOR_TRACKS_PER_ROOM);
  // 1000 rooms forwarding 12 tracks each: the prior hardly matters any more
  t.true(Math.abs(expectedRoomCost([report('a', { rooms: 500, forwardedTracks: 6000 }), report('b', { rooms: 500, forwardedTracks: 6000 })]) - 12) < 0.2);
  // rooms without tracks pull it down, never below 1
  t.true(expectedRoomCost([report('a', { rooms: 100000 })]) >= 1);
});

/**
 * Replays a burst of `n` creates through one entry over equal nodes: every `perReport` creates each node reports its
 * real rooms (tracks still 0: the rooms are brand new), which clears the entry's reservations for it.
 */
function replayBurst(k: number, n: number, perReport: number, tracksPerRoomLater = 0): number[] {
  const nodes = Array.from({ length: k }, (_, i) => `n${String(i).padStart(3, '0')}`);
  const rooms = new Map(nodes.map((x) => [x, 0]));
  const reported = new Map(nodes.map((x) => [x, 0]));
  const reserved = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if (i % perReport === 0) {
      for (const x of nodes) reported.set(x, rooms.get(x)!);
      reserved.clear();
    }
    const reports = nodes.map((x) => report(x, { rooms: reported.get(x)!, forwardedTracks: reported.get(x)! * tracksPerRoomLater }));
    const node = chooseNode(reports, { ...opts, reserved, prefer: nodes[0] })!.node;
    rooms.set(node, rooms.get(node)! + 1);
    reserved.set(node, (reserved.get(node) ?? 0) + 1);
  }
  return nodes.map((x) => rooms.get(x)!);
}

test('a burst through one entry spreads about evenly, also after the nodes report', (t) => {
  for (const [k, n, perReport] of [[3, 200, 1000], [3, 200, 30], [3, 200, 1], [10, 1000, 50], [100, 1000, 7]] as const) {
    const counts = replayBurst(k, n, perReport);
    t.true(Math.max(...counts) / Math.max(1, Math.min(...counts)) <= 1.3 || Math.max(...counts) - Math.min(...counts) <= 1, `k=${k} n=${n} report every ${perReport}: ${counts.join('/')}`);
    t.is(counts.reduce((a, b) => a + b, 0), n);
  }
  // rooms that did fill up (4 tracks each) change nothing for equal nodes
  const filled = replayBurst(3, 300, 20, 4);
  t.true(Math.max(...filled) - Math.min(...filled) <= 1, filled.join('/'));
});

/**
 * Replays a burst through one entry over nodes that already carry `base` rooms of `tracksPerBaseRoom` tracks each, the
 * way ClusterRoomService sees it: the entry's own rooms count live (it reads its own load), every other node's only
 * when it reports (every `perReport` creates), until then as reservations.
 */
function replayLoadedBurst(k: number, n: number, perReport: number, base: number, tracksPerBaseRoom: number): number[] {
  const nodes = Array.from({ length: k }, (_, i) => `n${String(i).padStart(3, '0')}`);
  const entry = nodes[0]!;
  const created = new Map(nodes.map((x) => [x, 0]));
  const reported = new Map(created);
  const reserved = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if (i % perReport === 0) {
      for (const x of nodes) reported.set(x, created.get(x)!);
      reserved.clear();
    }
    const reports = nodes.map((x) => report(x, { rooms: base + (x === entry ? created : reported).get(x)!, forwardedTracks: base * tracksPerBaseRoom }));
    const node = chooseNode(reports, { ...opts, reserved, prefer: entry })!.node;
    created.set(node, created.get(node)! + 1);
    if (node !== entry) reserved.set(node, (reserved.get(node) ?? 0) + 1);
  }
  return nodes.map((x) => created.get(x)!);
}

test('a burst through one entry over loaded nodes: the entry\'s own new rooms weigh as much as the ones it reserved elsewhere', (t) => {
  // measured in bench/cluster-sim.ts before: 3 nodes of 1000 rooms with 4 tracks each, 1000 creates: 427/286/287
  for (const [k, perReport] of [[3, 100_000], [3, 50], [30, 100_000], [100, 100_000], [100, 7]] as const) {
    const counts = replayLoadedBurst(k, 1000, perReport, 1000, 4);
    t.true(Math.max(...counts) / Math.max(1, Math.min(...counts)) <= 1.3, `k=${k} report every ${perReport}: ${counts.join('/')}`);
  }
});

test('nodes already tried for this create are skipped', (t) => {
  t.is(chooseNode([report('a'), report('b')], { ...opts, exclude: new Set(['a']) })?.node, 'b');
});

test('rendezvous hashing: every node names the same registrar, and few ids move when a node joins', (t) => {
  const nodes = Array.from({ length: 10 }, (_, i) => `fishjam@10.0.0.${i + 1}`);
  const ids = Array.from({ length: 1000 }, (_, i) => `room-${i}`);
  const before = ids.map((id) => registrarOf(id, nodes));
  t.deepEqual(ids.map((id) => registrarOf(id, [...nodes].reverse())), before, 'order of the member list does not matter');
  const perNode = nodes.map((n) => before.filter((r) => r === n).length);
  t.true(Math.min(...perNode) > 50 && Math.max(...perNode) < 150, `spread: ${perNode.join(',')}`);
  const after = ids.map((id) => registrarOf(id, [...nodes, 'fishjam@10.0.0.99']));
  const moved = after.filter((r, i) => r !== before[i]);
  t.true(moved.every((r) => r === 'fishjam@10.0.0.99'), 'ids move only to the new node');
  t.true(moved.length > 40 && moved.length < 160, `${moved.length} of 1000 moved`);
});

test('generated room ids carry their owner; chosen ids do not', (t) => {
  const id = generatedRoomId('0f8fad5b-d9cb-469f-a165-70867728950e', 'fishjam@10.0.0.7');
  t.regex(id, /^[a-zA-Z0-9-_]+$/);
  t.is(ownerOfRoomId(id), 'fishjam@10.0.0.7');
  t.is(ownerOfRoomId('my-room'), undefined);
  t.is(ownerOfRoomId('0f8fad5b-d9cb-469f-a165-70867728950e'), undefined);
  t.is(ownerOfRoomId('0f8fad5b-d9cb-469f-a165-70867728950e-zz'), undefined);
});

test('node names: <name>@<host>, and DNS nodes known by IP', (t) => {
  t.deepEqual(parseNodeName('f1@localhost'), { name: 'f1', host: 'localhost', full: 'f1@localhost' });
  t.is(parseNodeName('f1'), undefined);
  t.is(parseNodeName('a@b@c'), undefined);
  t.is(withHost(parseNodeName('fishjam@app.default.svc')!, '10.1.2.3').full, 'fishjam@10.1.2.3');
});
