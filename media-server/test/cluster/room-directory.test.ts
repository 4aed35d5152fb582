// The registrar of chosen room ids keeps only current entries: those of a node purged from membership go, and so do
// those whose registrar moved to another member (else an old holder wins over the true one when the id's registrar
// moves back). Real ClusterNodes in-process, each with a RoomDirectory over a set of chosen ids it "holds".
import test from 'ava';
import { pino } from 'pino';
import type { ClusterNode } from '../../src/cluster/cluster-node.js';
import { RoomDirectory, registrarOf } from '../../src/cluster/room-directory.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/test-node.js';
import { clusterNode, fullMesh } from './cluster-support.js';

interface Member {
  cluster: ClusterNode;
  directory: RoomDirectory;
  holds: Set<string>;
}

async function member(name: string, mapperPort: number, seeds: string[], leftAfterMs?: number): Promise<Member> {
  const cluster = clusterNode(name, mapperPort, seeds, leftAfterMs === undefined ? {} : { leftAfterMs });
  await cluster.start();
  const holds = new Set<string>();
  const directory = new RoomDirectory(cluster, async (id) => holds.has(id), async () => [...holds], pino({ level: 'silent' }));
  // what a node's room service answers for its rooms (the registrar verifies a holder with it)
  cluster.onRequest('room.get', async (p) => {
    if (!holds.has((p as { roomId: string }).roomId)) throw Object.assign(new Error('no such room'), { status: 404 });
    return {};
  });
  return { cluster, directory, holds };
}

/** A chosen id whose registrar is `want(...)` under each of the given memberships. */
function idWith(memberships: Array<[nodes: string[], registrar: string]>): string {
  for (let i = 0; ; i++) {
    const id = `room-${i}`;
    if (memberships.every(([nodes, r]) => registrarOf(id, nodes) === r)) return id;
  }
}

test('a registrar forgets the ids of a node that left the cluster', async (t) => {
  const mapperPort = await freePort();
  const [a, b, c] = ['ra@127.0.0.1', 'rb@127.0.0.1', 'rc@127.0.0.1'];
  const members: Member[] = [];
  try {
    members.push(await member(a, mapperPort, [], 500));
    members.push(await member(b, mapperPort, [a], 500));
    const id = idWith([[[a, b, c], a], [[a, b], a]]);
    const holder = await member(c, mapperPort, [a], 500);
    holder.holds.add(id);
    members.push(holder);
    await waitFor(fullMesh(members.map((m) => m.cluster)), 10_000, 'full mesh');
    // c registers its id with the registrar (a) after the membership change
    await waitFor(() => members[0]!.directory.size === 1, 5000, 'registered at a');
    t.is(await members[0]!.directory.lookup(id), c);
    await holder.cluster.stop();
    members.pop();
    // out at once (closed link), purged after leftAfterMs (checked every second)
    await waitFor(() => !members[0]!.cluster.isKnown(c), 5000, 'c purged');
    t.is(members[0]!.directory.size, 0, 'no entry left for the purged node');
    t.is(await members[0]!.directory.lookup(id), undefined);
  } finally {
    await Promise.all(members.map((m) => m.cluster.stop()));
  }
});

test('when an id\'s registrar moves away and back, the holder registered meanwhile wins', async (t) => {
  const mapperPort = await freePort();
  const [a, b, c, d] = ['ma@127.0.0.1', 'mb@127.0.0.1', 'mc@127.0.0.1', 'md@127.0.0.1'];
  const id = idWith([[[a, b, c], c], [[a, b, c, d], d]]);
  const nodes: Member[] = [];
  try {
    for (const name of [a, b, c]) nodes.push(await member(name, mapperPort, name === a ? [] : [a]));
    const [ma, mb, mc] = nodes as [Member, Member, Member];
    await waitFor(fullMesh(nodes.map((m) => m.cluster)), 10_000, 'mesh of 3');
    // b holds the id; its registrar is c
    await ma.directory.claim(id, 'k1');
    mb.holds.add(id);
    mb.directory.confirm(id, 'k1', b);
    await waitFor(() => mc.directory.size === 1, 5000, 'registered at c');
    t.is(await ma.directory.lookup(id), b);
    // d joins: the id's registrar is d now (b registers it there)
    const md = await member(d, mapperPort, [a]);
    nodes.push(md);
    await waitFor(fullMesh(nodes.map((m) => m.cluster)), 10_000, 'mesh of 4');
    await waitFor(() => md.directory.size === 1, 5000, 'registered at d');
    // meanwhile the room moves: b deletes it, a creates it again
    mb.holds.delete(id);
    mb.directory.release(id);
    await waitFor(() => md.directory.size === 0, 5000, 'released at d');
    await ma.directory.claim(id, 'k2');
    ma.holds.add(id);
    ma.directory.confirm(id, 'k2', a);
    await waitFor(() => md.directory.size === 1, 5000, 'a registered at d');
    t.is(await mb.directory.lookup(id), a);
    // d leaves: the registrar is c again, and a registers its id there
    await md.cluster.stop();
    nodes.pop();
    await waitFor(() => nodes.every((m) => m.cluster.linkedNodes().length === 2), 5000, 'd out');
    await new Promise((r) => setTimeout(r, 1000)); // re-registration runs 300 ms after the change
    t.is(await mb.directory.lookup(id), a, 'c answers the holder registered last, not the one it knew before');
    t.is(mc.directory.size, 1);
  } finally {
    await Promise.all(nodes.map((m) => m.cluster.stop()));
  }
});
