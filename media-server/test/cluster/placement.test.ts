import test from 'ava';
import { chooseNode, rankNodes, type LoadReport } from '../../src/cluster/placement.js';
import { generatedRoomId, ownerOfRoomId } from '../../src/cluster/room-owner.js';
import { parseNodeName, withHost } from '../../src/cluster/node-name.js';

const now = 1_000_000;
const report = (node: string, over: Partial<LoadReport> = {}): LoadReport => ({
  node, host: `${node}:5002`, state: 'SERVING', rooms: 0, peers: 0, forwardedTracks: 0, cpu: 0, receivedAt: now, ...over,
});
const opts = { now, maxAgeMs: 2000, reserved: new Map<string, number>() };

test('fewest forwarded tracks wins, then fewer rooms, then name', (t) => {
  t.is(chooseNode([report('a', { forwardedTracks: 10 }), report('b', { forwardedTracks: 3, rooms: 9 })], opts)?.node, 'b');
  t.is(chooseNode([report('a', { rooms: 2 }), report('b', { rooms: 1 })], opts)?.node, 'b');
  t.is(chooseNode([report('b'), report('a')], opts)?.node, 'a');
});

test('draining, starting and stale nodes are never chosen', (t) => {
  const ranked = rankNodes([report('a', { state: 'DRAINING' }), report('b', { receivedAt: now - 2001 }), report('c', { state: 'STARTING' }), report('d', { forwardedTracks: 99 })], opts);
  t.deepEqual(ranked.map((r) => r.node), ['d']);
  t.is(chooseNode([report('a', { state: 'DRAINING' })], opts), undefined);
});

test('rooms placed since the last report count, so a burst spreads instead of herding', (t) => {
  const reports = [report('a'), report('b'), report('c')];
  const reserved = new Map<string, number>();
  const placed: string[] = [];
  for (let i = 0; i < 6; i++) {
    const node = chooseNode(reports, { ...opts, reserved })!.node;
    placed.push(node);
    reserved.set(node, (reserved.get(node) ?? 0) + 1);
  }
  t.deepEqual(placed, ['a', 'b', 'c', 'a', 'b', 'c']);
});

test('nodes already tried for this create are skipped', (t) => {
  t.is(chooseNode([report('a'), report('b')], { ...opts, exclude: new Set(['a']) })?.node, 'b');
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
