// How nodes dial each other: one dial per pair when a cluster forms through a seed (the smaller name of a pair first
// heard of through another member dials; the other waits), and backoff for a node that cannot be reached.
import test from 'ava';
import { dialBackoffMs, type ClusterNode } from '../../src/cluster/cluster-node.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/test-node.js';
import { clusterNode, fullMesh } from './cluster-support.js';

test('nodes joining through one seed form the full mesh with one dial per pair', async (t) => {
  const mapperPort = await freePort();
  const names = Array.from({ length: 6 }, (_, i) => `d${i}@127.0.0.1`);
  const nodes: ClusterNode[] = [];
  try {
    for (const [i, name] of names.entries()) {
      const node = clusterNode(name, mapperPort, i === 0 ? [] : [names[0]!]);
      await node.start();
      nodes.push(node);
    }
    await waitFor(fullMesh(nodes), 15_000, 'full mesh');
    const pairs = (names.length * (names.length - 1)) / 2;
    const dials = nodes.reduce((s, n) => s + n.dialsStarted, 0);
    // Both ends of every pair found only through the seed used to dial each other (25 dials for 15 links here).
    t.true(dials <= pairs + 2, `${dials} dials for ${pairs} pairs`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

test('a node that cannot be reached is redialed with backoff, not every second', async (t) => {
  const mapperPort = await freePort();
  const node = clusterNode('lonely@127.0.0.1', mapperPort, ['ghost@127.0.0.1']);
  try {
    await node.start();
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 6500));
    // at about 0, 1, 3 and 7 s (± 25 %); every dial round (1 s) would be 7
    t.true(node.dialsStarted <= 4, `${node.dialsStarted} dials in ${Date.now() - started} ms`);
    t.true(node.dialsStarted >= 2, `${node.dialsStarted} dials`);
  } finally {
    await node.stop();
  }
});

test('dial backoff: 1, 2, 4 s, then 5 s at most, spread by ± 25 %', (t) => {
  const rows: Array<[failures: number, random: number, ms: number]> = [
    [1, 0.5, 1000], [2, 0.5, 2000], [3, 0.5, 4000], [4, 0.5, 5000], [30, 0.5, 5000], [1, 0, 750], [4, 1, 6250],
  ];
  for (const [failures, random, ms] of rows) t.is(dialBackoffMs(failures, () => random), ms, `after ${failures} failures`);
});

test('a member list of thousands of unknown names from a linked peer: at most 1024 wanted, dials bounded, given up after leftAfterMs', async (t) => {
  const mapperPort = await freePort();
  const a = clusterNode('ga@127.0.0.1', mapperPort, [], { leftAfterMs: 4000 });
  const b = clusterNode('gb@127.0.0.1', mapperPort, ['ga@127.0.0.1']);
  try {
    await a.start();
    await b.start();
    await waitFor(fullMesh([a, b]), 15_000, 'a and b linked');
    const before = a.dialsStarted;
    // b speaks for a confused or hostile peer: one load message listing 3000 nodes that do not exist
    const members = Array.from({ length: 3000 }, (_, i) => `zz${i}@127.0.0.1`);
    b.send('ga@127.0.0.1', { t: 'load', report: { host: 'gb@127.0.0.1:5002', state: 'SERVING', rooms: 0, peers: 0, forwardedTracks: 0, cpu: 0 }, members });
    await waitFor(() => a.gossipedWanted() > 0, 10_000, 'the names are wanted');
    t.true(a.gossipedWanted() <= 1024, `${a.gossipedWanted()} gossiped names wanted`);
    // unreachable for longer than leftAfterMs (4 s): given up, while the real link stays
    await waitFor(() => a.gossipedWanted() === 0, 30_000, 'the unreachable names given up');
    t.true(a.isLinked('gb@127.0.0.1'), 'the real member is still linked');
    const dials = a.dialsStarted - before;
    t.log(`${dials} dials for 1024 unreachable names until given up`);
    // each given-up name was dialed a handful of times (backoff 1, 2, 4 s), never thousands of names at once
    t.true(dials <= 1024 * 6, `${dials} dials`);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
