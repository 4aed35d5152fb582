// Simulation of the cluster layer without mediasoup: N real nodes (ClusterNode + ClusterRoomService, see
// cluster-sim-worker.ts), each on a loopback address of its own with its own port mapper (as one node per host in a
// deployment), hosted by several processes (--per-process nodes each; one process would have to carry every end of
// N×(N−1) links and all N nodes' heartbeats on one event loop, which is the simulation's cost, not a node's). The
// nodes are told only the first node (NODES_LIST); the rest is found transitively. Each node reports 1000 rooms.
// Measures, per size:
// - forming: all but one node start, one process's nodes at a time; time until every node has all the others;
// - a late join: the last node starts (in a process of its own); time until every node has N−1 members;
// - idle cluster traffic sent per node (bytes/s of dist messages and heartbeat frames, without TCP/WebSocket framing)
//   over a 10 s window, and the CPU the processes used meanwhile, per node;
// - a burst of 1000 creates through one entry node (ClusterRoomService.createRoom, 20 in flight, real RPCs and load
//   reports): max/min of the rooms each node got;
// - a silent death: SIGSTOP of the late node's process (its sockets stay open, nothing is read or sent); time until
//   no other node counts it as a member; then SIGCONT and the time until it is back everywhere.
// --measured K: only about K nodes (spread over the processes, and always the late node) run the production link
// timings; the others ping a third as often (RELAXED_TIMINGS in cluster-sim-worker.ts). The heartbeats of a full mesh
// of 100 nodes (4950 links, 4 frames and 8 checks per link per second) need more CPU than a shared 2-core machine
// gives in time, and a late pong there reads as a dead node. Traffic and the silent death are then read at the
// measured nodes; membership (same code everywhere) at all nodes.
// Usage: node --import tsx bench/cluster-sim.ts [--per-process 10] [--measured K] [N ...]   (default 3 30 100)
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/free-port.js';
import type { SimNodeSpec, SimRequest } from './cluster-sim-worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BURST = 1000;
const BURST_CONCURRENCY = 20;
const IDLE_WINDOW_MS = 10_000;

class Worker {
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`simulation process exited (${code ?? signal})`)));
      child.on('message', (m: { ready?: boolean; id?: number; ok?: boolean; result?: unknown; error?: string }) => {
        if (m.ready) return resolve();
        const call = this.calls.get(m.id!);
        if (!call) return;
        this.calls.delete(m.id!);
        if (m.ok) call.resolve(m.result);
        else call.reject(new Error(m.error));
      });
    });
  }

  call<T = any>(request: SimRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.child.send({ id, request });
    });
  }
}

function spawnWorker(): Worker {
  return new Worker(fork(path.join(here, 'cluster-sim-worker.ts'), [], { execArgv: ['--import', 'tsx', ...(process.env.SIM_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SIM_PROF}`] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}

/** Node i's loopback address (127.77.0.1, 127.77.0.2, ...): its own host, its own port mapper. */
function ipOf(i: number): string {
  return `127.77.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return Date.now() - start;
    await sleep(100);
  }
  return undefined;
}

async function run(n: number, perProcess: number, measuredCount: number): Promise<Record<string, unknown>> {
  const mapperPort = await freePort(ipOf(0));
  // the measured nodes: spread over the processes, and always the late node (joins, dies silently, comes back)
  const step = Math.max(1, Math.round(n / Math.min(n, measuredCount)));
  const specs: SimNodeSpec[] = Array.from({ length: n }, (_, i) => ({
    index: i, name: `n${i}@${ipOf(i)}`, ip: ipOf(i), seeds: i === 0 ? [] : [`n0@${ipOf(0)}`], measured: measuredCount >= n || (measuredCount > 0 && i % step === 0) || i === n - 1,
  }));
  const formers = specs.slice(0, -1);
  const late = specs[n - 1]!;
  const slices: SimNodeSpec[][] = [];
  for (let i = 0; i < formers.length; i += perProcess) slices.push(formers.slice(i, i + perProcess));
  const workers = slices.map(() => spawnWorker());
  const lateWorker = spawnWorker();
  const all = [...workers, lateWorker];
  const result: Record<string, unknown> = { nodes: n, measured: specs.filter((s) => s.measured).length, processes: all.length };
  try {
    await Promise.all(all.map((w) => w.ready));
    const linked = async () => (await Promise.all(all.map((w) => w.call<{ linked: number[] }>({ op: 'status' })))).flatMap((s) => s.linked);
    const everyoneHas = (members: number) => async () => (await linked()).every((c) => c === members);

    // Forming, as a rolling start: one process's nodes at a time (the first holds the seed; every node is told only
    // the seed's name), the next once those started so far are all linked (at most 30 s each). All at once, 99
    // nodes' handshakes on a shared 2-core machine delay pongs past the 2 s silence limit and links churn.
    const started = Date.now();
    const formLimitMs = Number(process.env.SIM_FORM_MS ?? 300_000);
    let up = 0;
    for (const [i, w] of workers.entries()) {
      await w.call({ op: 'start', nodes: slices[i]!, mapperPort });
      up += slices[i]!.length;
      const counts = async () => (await Promise.all(workers.slice(0, i + 1).map((x) => x.call<{ linked: number[] }>({ op: 'status' })))).flatMap((s) => s.linked);
      await waitUntil(async () => (await counts()).every((c) => c === up - 1), 30_000);
    }
    result.startAllMs = Date.now() - started;
    const formed = await waitUntil(everyoneHas(n - 2), Math.max(1000, formLimitMs - (Date.now() - started)));
    result.formedMs = formed === undefined ? `not within ${formLimitMs / 1000} s` : Date.now() - started;
    if (formed === undefined) {
      const counts = await linked();
      result.formedMembersMin = Math.min(...counts);
      result.formedMembersAvg = counts.reduce((x, y) => x + y, 0) / counts.length;
      const logs: Record<string, number> = {};
      const states = await Promise.all(workers.map((w) => w.call<{ logs: Record<string, number>; loopDelayMaxMs: number }>({ op: 'traffic' })));
      for (const st of states) for (const [k, v] of Object.entries(st.logs)) logs[k] = (logs[k] ?? 0) + v;
      result.logs = logs;
      result.loopDelayMaxMs = states.map((st) => st.loopDelayMaxMs);
      result.membersPerNode = counts.join(' ');
      return result;
    }

    // from the late node's start (its listener and port mapper registration included) to every node having N-1 members
    const joinAt = Date.now();
    await lateWorker.call({ op: 'start', nodes: [late], mapperPort });
    const joined = await waitUntil(everyoneHas(n - 1), 60_000);
    result.lateJoinConvergedMs = joined === undefined ? 'not within 60 s' : Date.now() - joinAt;

    await sleep(3000);
    const traffic = async () => Promise.all(all.map((w) => w.call<{ out: number[]; in: number[]; dials: number; cpuMicros: number; rssMiB: number; logs: Record<string, number> }>({ op: 'traffic' })));
    const before = await traffic();
    const windowStart = Date.now();
    await sleep(IDLE_WINDOW_MS);
    const after = await traffic();
    const seconds = (Date.now() - windowStart) / 1000;
    const perNode = after.flatMap((a, w) => a.out.map((o, i) => (o - before[w]!.out[i]!) / seconds));
    const isMeasured = specs.filter((s) => s !== late).concat(late).map((s) => s.measured);
    const measuredRates = perNode.filter((_, i) => isMeasured[i]);
    const cpu = after.reduce((s, a, w) => s + a.cpuMicros - before[w]!.cpuMicros, 0) / 1e6 / seconds;
    result.idleSentBytesPerSecPerNode = { avg: Math.round(measuredRates.reduce((a, b) => a + b, 0) / measuredRates.length), max: Math.round(Math.max(...measuredRates)) };
    if (measuredRates.length < n) result.idleSentBytesPerSecAllNodesAvg = Math.round(perNode.reduce((a, b) => a + b, 0) / n);
    result.idleCpuPerNodePercent = Number(((100 * cpu) / n).toFixed(2));
    const dials = after.reduce((s, a) => s + a.dials, 0);
    result.dialsPerPair = Number((dials / ((n * (n - 1)) / 2)).toFixed(2));
    result.rssMiBPerProcess = Math.max(...after.map((a) => a.rssMiB));
    const logs: Record<string, number> = {};
    for (const a of after) for (const [k, v] of Object.entries(a.logs)) logs[k] = (logs[k] ?? 0) + v;
    result.linkClosuresBeforeDeath = logs['node link closed'] ?? 0;

    const b = await workers[0]!.call<{ ok: number; failed: number; ms: number }>({ op: 'burst', entry: 0, count: BURST, concurrency: BURST_CONCURRENCY });
    const created = (await Promise.all(all.map((w) => w.call<{ created: number[] }>({ op: 'created' })))).flatMap((c) => c.created);
    result.burst = { ok: b.ok, failed: b.failed, ms: b.ms, entry: created[0], min: Math.min(...created), max: Math.max(...created), maxOverMin: Number((Math.max(...created) / Math.max(1, Math.min(...created))).toFixed(3)) };

    // Silent death: the late node's process is stopped by the kernel; its sockets stay open.
    await sleep(2000);
    lateWorker.child.kill('SIGSTOP');
    const statuses = () => Promise.all(workers.map((w) => w.call<{ listing: number; listingMeasured: number }>({ op: 'status', watch: late.name })));
    const listing = async () => (await statuses()).reduce((s, x) => s + x.listing, 0);
    const diedAt = Date.now();
    if (specs.some((s) => !s.measured)) {
      // the measured nodes (production timings) first; the relaxed ones need their 6 s of silence
      const byMeasured = await waitUntil(async () => (await statuses()).every((x) => x.listingMeasured === 0), 30_000);
      result.silentDeathDroppedByMeasuredMs = byMeasured ?? 'not within 30 s';
    }
    const dropped = await waitUntil(async () => (await listing()) === 0, 30_000);
    result.silentDeathDroppedByAllMs = dropped === undefined ? 'not within 30 s' : Date.now() - diedAt;
    lateWorker.child.kill('SIGCONT');
    const back = await waitUntil(async () => (await listing()) === n - 1, 30_000);
    result.backAfterSigcontMs = back ?? 'not within 30 s';
    return result;
  } finally {
    for (const w of all) w.child.kill('SIGCONT');
    await Promise.all(all.map((w) => Promise.race([w.call({ op: 'stop' }).catch(() => undefined), sleep(5000)])));
    for (const w of all) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
}

const args = process.argv.slice(2);
let perProcess = 10;
let measured = Infinity;
const sizes: number[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--per-process') perProcess = Number(args[++i]);
  else if (args[i] === '--measured') measured = Number(args[++i]);
  else if (Number(args[i]) >= 3) sizes.push(Number(args[i]));
}
for (const n of sizes.length ? sizes : [3, 30, 100]) console.log(JSON.stringify(await run(n, perProcess, measured)));
process.exit(0);
