// Simulation of the cluster layer without mediasoup: N ClusterNodes in this process on loopback (NODES_LIST naming
// only the first node; the rest is found transitively), each reporting a synthetic load of 1000 rooms. Measures:
// - convergence after start (every node has N-1 members) and after a late join;
// - idle cluster traffic per node (bytes/s of dist messages and heartbeat frames sent, without TCP overhead);
// - a silent death: one node stops answering (its sockets stay open, nothing is read or sent): time until every
//   other node has dropped it;
// - placement spread of a 1000-create burst through one entry (placement.ts over the nodes' reports, each node
//   reporting its real count every 50 creates).
// Usage: node --import tsx bench/cluster-sim.ts [N ...]   (default 3 30)
import { pino } from 'pino';
import type { DistConfig } from '../src/config/config.js';
import { ClusterNode } from '../src/cluster/cluster-node.js';
import { chooseNode, type LoadReport } from '../src/cluster/placement.js';
import { freePort } from '../test/support/free-port.js';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (check()) return Date.now() - start;
    await sleep(20);
  }
  return undefined;
}

function node(i: number, mapperPort: number, first: string): ClusterNode {
  const name = `n${i}@127.0.0.1`;
  const dist: DistConfig = {
    enabled: true, strategy: 'NODES_LIST', mode: 'sname', nodeName: name, cookie: 'sim', cookieIsDefault: false,
    nodes: i === 0 ? [] : [first], query: undefined, pollingIntervalMs: 5000, minPort: undefined, maxPort: undefined,
    tls: undefined, portMapperPort: mapperPort,
  };
  return new ClusterNode({
    dist, bindIp: '127.0.0.1', publicHost: `n${i}:1`, portMapperPort: mapperPort, reportIntervalMs: 1000, staleAfterMs: 2000,
    leftAfterMs: 15_000, logger,
    localLoad: () => ({ state: 'SERVING', rooms: 1000, peers: 2000, forwardedTracks: 4000, cpu: 0.3 }),
  });
}

function burstSpread(k: number, n = 1000, perReport = 50): number {
  const names = Array.from({ length: k }, (_, i) => `n${i}`);
  const rooms = new Map(names.map((x) => [x, 1000]));
  const reported = new Map(rooms);
  const reserved = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if (i % perReport === 0) {
      for (const x of names) reported.set(x, rooms.get(x)!);
      reserved.clear();
    }
    const reports: LoadReport[] = names.map((x) => ({ node: x, host: x, state: 'SERVING', rooms: reported.get(x)!, peers: 0, forwardedTracks: reported.get(x)! * 4, cpu: 0, receivedAt: 0 }));
    const chosen = chooseNode(reports, { now: 0, maxAgeMs: 2000, reserved, prefer: names[0] })!.node;
    rooms.set(chosen, rooms.get(chosen)! + 1);
    reserved.set(chosen, (reserved.get(chosen) ?? 0) + 1);
  }
  const placed = names.map((x) => rooms.get(x)! - 1000);
  return Math.max(...placed) / Math.max(1, Math.min(...placed));
}

async function run(n: number): Promise<Record<string, unknown>> {
  const mapperPort = await freePort();
  const nodes: ClusterNode[] = [];
  const first = 'n0@127.0.0.1';
  const started = Date.now();
  for (let i = 0; i < n - 1; i++) {
    const c = node(i, mapperPort, first);
    await c.start();
    nodes.push(c);
  }
  const full = (m: number) => () => nodes.every((c) => c.linkedNodes().length === m - 1);
  const startMs = Date.now() - started;
  const convergedMs = await waitUntil(full(n - 1), 60_000);
  // a late join
  const joinAt = Date.now();
  const late = node(n - 1, mapperPort, first);
  await late.start();
  nodes.push(late);
  const joinMs = await waitUntil(full(n), 30_000);
  void joinAt;
  await sleep(3000);
  const before = nodes.map((c) => c.traffic().out);
  const window = 10_000;
  await sleep(window);
  const perNode = nodes.map((c, i) => ((c.traffic().out - before[i]!) * 1000) / window);
  // silent death of the last node: nothing read, nothing sent, sockets stay open
  const victim = nodes[nodes.length - 1]!;
  const v = victim as unknown as { timers: NodeJS.Timeout[]; links: Map<string, { check: () => void; socket: { _socket: { pause(): void } } }> };
  for (const t of v.timers) clearInterval(t);
  const diedAt = Date.now();
  for (const link of v.links.values()) {
    link.check = () => undefined;
    link.socket._socket.pause();
  }
  const others = nodes.slice(0, -1);
  const deathMs = await waitUntil(() => others.every((c) => !c.linkedNodes().includes(victim.self.full)), 15_000);
  void diedAt;
  await Promise.all(nodes.map((c) => c.stop()));
  const avg = perNode.reduce((a, b) => a + b, 0) / perNode.length;
  return {
    nodes: n,
    startAllMs: startMs,
    convergedAfterLastStartMs: convergedMs,
    lateJoinConvergedMs: joinMs,
    idleBytesPerSecPerNode: { avg: Math.round(avg), max: Math.round(Math.max(...perNode)) },
    silentDeathDroppedByAllMs: deathMs,
    burst1000SpreadMaxOverMin: Number(burstSpread(n).toFixed(3)),
  };
}

const sizes = process.argv.slice(2).map(Number).filter((x) => x >= 2);
for (const n of sizes.length ? sizes : [3, 30]) console.log(JSON.stringify(await run(n)));
process.exit(0);
