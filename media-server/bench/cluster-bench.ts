// Cluster benchmark, one run:
// 1. REST: POST /room + DELETE /room/:id pairs (autocannon, as rooms-bench.ts) against a single node and against a
//    3-node cluster (NODES_LIST on loopback, separate processes, one shared port mapper port), the cluster driven
//    through one entry node and through all three at once. Every node: dev mode, 1 mediasoup worker, logs at error.
// 2. Placement cost: time per rankNodes / chooseNode call (src/cluster/placement.ts) over 3, 30 and 100 load reports.
// Bounded: each REST run lasts BENCH_SECONDS (default 5) with 10 connections in total.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from '../test/support/free-port.js';
import { chooseNode, rankNodes, type LoadReport } from '../src/cluster/placement.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = 10;
const auth = { authorization: 'Bearer development', 'content-type': 'application/json' };


const children: ChildProcess[] = [];
async function startNode(env: Record<string, string>): Promise<{ port: number; base: string }> {
  const port = await freePort();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FJ_'))) as Record<string, string>;
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: path.resolve(here, '..'),
    env: { ...clean, FJ_MODE: 'development', FJ_PORT: String(port), FJ_METRICS_PORT: String(await freePort()), FJ_WORKERS: '1', FJ_LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (!(await fetch(`${base}/readyz`).catch(() => undefined))?.ok) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`node on ${port} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, base };
}

async function clusterSize(base: string): Promise<number> {
  const r = await fetch(`${base}/health`, { headers: auth }).catch(() => undefined);
  return r?.ok ? ((await r.json()) as { data: { distribution: { nodesInCluster: number } } }).data.distribution.nodesInCluster : 0;
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  placed: Map<string, number>;
}

/** create+delete pairs on each connection (rooms do not pile up); counts where the creates landed */
function pairs(base: string, conns: number, placed: Map<string, number>): Promise<autocannon.Result> {
  return autocannon({
    url: base,
    connections: conns,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/room',
        headers: auth,
        body: '{}',
        onResponse: (status: number, body: string, context: Record<string, unknown>) => {
          if (status !== 201) return;
          const data = JSON.parse(body).data as { room: { id: string }; fishjam_address: string };
          context.roomId = data.room.id;
          placed.set(data.fishjam_address, (placed.get(data.fishjam_address) ?? 0) + 1);
        },
      },
      {
        method: 'DELETE',
        headers: auth,
        setupRequest: (req: any, context: Record<string, unknown>) => ({ ...req, path: `/room/${context.roomId}` }),
      },
    ] as any,
  });
}

async function load(name: string, bases: string[]): Promise<Row> {
  const placed = new Map<string, number>();
  const split = bases.map((_, i) => Math.floor(connections / bases.length) + (i < connections % bases.length ? 1 : 0));
  const results = await Promise.all(bases.map((b, i) => pairs(b, split[i]!, placed)));
  return {
    name,
    rps: results.reduce((n, r) => n + r.requests.average, 0),
    // several entry nodes: the slowest entry's percentiles
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    errors: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
    placed,
  };
}

// --- placement micro-benchmark ------------------------------------------------------------------------------

function reportsOf(n: number, now: number): LoadReport[] {
  return Array.from({ length: n }, (_, i) => ({
    node: `fishjam@10.0.${Math.floor(i / 250)}.${i % 250}`,
    host: `10.0.${Math.floor(i / 250)}.${i % 250}:8080`,
    state: i % 17 === 5 ? 'DRAINING' : 'SERVING',
    rooms: (i * 7) % 13,
    peers: (i * 5) % 31,
    forwardedTracks: (i * 11) % 4, // many ties: the room count and name decide
    cpu: ((i * 3) % 10) / 10,
    receivedAt: now - ((i * 97) % 2500), // some stale (older than 2 s)
  }));
}

function timePerCall(fn: () => unknown, minMs: number): { ns: number; calls: number } {
  for (let i = 0; i < 2000; i++) fn(); // warm up
  let calls = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const stop = start + BigInt(minMs) * 1_000_000n;
  let now = start;
  while (now < stop) {
    for (let i = 0; i < 1000; i++) sink += fn() ? 1 : 0;
    calls += 1000;
    now = process.hrtime.bigint();
  }
  if (sink < 0) console.log(sink);
  return { ns: Number(now - start) / calls, calls };
}

function placementBench(): { n: number; rankNs: number; chooseNs: number; calls: number }[] {
  const out = [];
  for (const n of [3, 30, 100]) {
    const now = Date.now();
    const reports = reportsOf(n, now);
    const reserved = new Map(reports.filter((_, i) => i % 3 === 0).map((r) => [r.node, 1 + (r.rooms % 3)]));
    const options = { now, maxAgeMs: 2000, reserved };
    const rank = timePerCall(() => rankNodes(reports, options), 1000);
    const choose = timePerCall(() => chooseNode(reports, options), 1000);
    out.push({ n, rankNs: rank.ns, chooseNs: choose.ns, calls: rank.calls + choose.calls });
  }
  return out;
}

// --- run ------------------------------------------------------------------------------------------------

const rows: Row[] = [];
try {
  const single = await startNode({});
  rows.push(await load('single node (no dist)', [single.base]));
  children.pop()!.kill('SIGINT');

  const mapper = String(await freePort());
  const names = ['a', 'b', 'c'].map((n) => `${n}@127.0.0.1`);
  const nodes = [];
  for (const [i, name] of names.entries()) {
    nodes.push(
      await startNode({
        FJ_DIST_ENABLED: 'true',
        FJ_DIST_NODE_NAME: name,
        FJ_DIST_NODES: names.join(' '),
        FJ_DIST_PORT_MAPPER_PORT: mapper,
        FJ_DIST_COOKIE: 'bench-cookie',
        FJ_HOST: `node-${'abc'[i]}:5002`,
      }),
    );
  }
  const deadline = Date.now() + 15_000;
  while ((await Promise.all(nodes.map((n) => clusterSize(n.base)))).some((s) => s !== 3)) {
    if (Date.now() > deadline) throw new Error('the 3 nodes did not form a cluster');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1200)); // every node's load report says SERVING
  rows.push(await load('3-node cluster, entry a', [nodes[0]!.base]));
  rows.push(await load('3-node cluster, entries a+b+c', nodes.map((n) => n.base)));
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
}

console.log(`\nPOST /room + DELETE /room/:id pairs, ${connections} connections in total, ${seconds} s per run, ${new Date().toISOString()}`);
console.log('run'.padEnd(34), 'req/s'.padStart(8), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), 'non-2xx'.padStart(8), '  rooms placed on');
for (const r of rows) {
  const placed = [...r.placed.entries()].sort().map(([h, n]) => `${h}=${n}`).join(' ');
  console.log(r.name.padEnd(34), r.rps.toFixed(0).padStart(8), String(r.p50).padStart(7), String(r.p99).padStart(7), String(r.errors).padStart(8), ' ', placed);
}
const [one, entry, all] = rows as [Row, Row, Row];
console.log(`cluster/single throughput: entry a ${(entry.rps / one.rps).toFixed(2)}, all entries ${(all.rps / one.rps).toFixed(2)} (all processes share ${(await import('node:os')).cpus().length} cores)`);

console.log('\nplacement (src/cluster/placement.ts), reports with ~6% DRAINING and ~20% stale, a third with reservations:');
console.log('nodes'.padStart(6), 'rankNodes ns/call'.padStart(19), 'chooseNode ns/call'.padStart(20), 'calls'.padStart(10));
for (const p of placementBench()) {
  console.log(String(p.n).padStart(6), p.rankNs.toFixed(0).padStart(19), p.chooseNs.toFixed(0).padStart(20), String(p.calls).padStart(10));
}
if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
