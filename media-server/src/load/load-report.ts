// What a load test prints at the end: join latency percentiles, packets received and lost per subscriber, and the
// server's load over time (pure: results in, lines out).
import type { LoadOptions } from './load-options.js';
import type { LoadSample } from './server-load.js';
import { formatLoad } from './server-load.js';

export interface PeerResult {
  label: string;
  role: 'publisher' | 'subscriber';
  joined: boolean;
  error?: string;
  /** ms from the REST call that made the peer to ICE+DTLS connected */
  connectMs?: number;
  /** ms from the REST call to the first packet of every stream it was given (subscribers) */
  firstMediaMs?: number;
  streams: number;
  received: number;
  lost: number;
  expected: number;
  /** seconds between its first received packet and the end */
  receivingS: number;
  /** RTP packets it sent per second (publishers) */
  sentRate: number;
}

export interface LoadResult {
  options: LoadOptions;
  startedAt: number;
  elapsedS: number;
  peers: PeerResult[];
  samples: LoadSample[];
  metricsEndpoints: string[];
  /** seconds from the start when every peer had joined (or given up): the steady part of the run starts then */
  joinedAtS: number;
  /** CPU of the load process itself over the run (1 = one core) */
  clientCpu: number;
  serverVersion?: string;
  nodesInCluster?: number;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const pct = (part: number, whole: number): string => (whole > 0 ? `${((100 * part) / whole).toFixed(2)}%` : '-');

function latencyRow(name: string, values: number[]): string {
  if (values.length === 0) return `  ${name.padEnd(24)} ${pad(0, 5)}     -`;
  const cells = [50, 90, 99].map((p) => pad(Math.round(percentile(values, p)), 6));
  return `  ${name.padEnd(24)} ${pad(values.length, 5)} ${cells.join('')} ${pad(Math.round(Math.max(...values)), 6)}`;
}

/**
 * Consumers one worker would hold at `budget` CPU: the median over samples of the busiest worker's consumers x
 * budget / cpu (linear: cpu ∝ consumers).
 */
export function consumersAtBudget(samples: LoadSample[], budget = 0.85): { estimate: number; cpu: number; consumers: number } | undefined {
  const points = samples
    .map((s) => s.workers.reduce((best, w) => (best === undefined || w.cpu > best.cpu ? w : best), undefined as LoadSample['workers'][number] | undefined))
    // a single-threaded worker cannot pass one core: a larger sample is a glitch of the sampling, not load
    .filter((w): w is NonNullable<typeof w> => w !== undefined && w.cpu >= 0.05 && w.cpu <= 1.05 && w.consumers > 0);
  if (points.length === 0) return undefined;
  const estimates = points.map((w) => (w.consumers * budget) / w.cpu);
  const busiest = points.reduce((a, b) => (b.cpu > a.cpu ? b : a));
  return { estimate: Math.round(percentile(estimates, 50)), cpu: busiest.cpu, consumers: busiest.consumers };
}

export function formatReport(r: LoadResult): string[] {
  const o = r.options;
  const lines: string[] = [];
  const tracks = [o.video ? `video ${o.videoKbps} kbit/s` : '', o.audio ? 'audio' : ''].filter(Boolean).join(' + ');
  lines.push(`load test: ${o.rooms} rooms x ${o.publishers} publishers x ${o.subscribers} subscribers (${tracks}), ${r.elapsedS.toFixed(0)} s against ${o.url}` +
    (r.serverVersion ? ` (server ${r.serverVersion}${r.nodesInCluster ? `, ${r.nodesInCluster} node${r.nodesInCluster === 1 ? '' : 's'}` : ''})` : ''));
  const pubs = r.peers.filter((p) => p.role === 'publisher');
  const subs = r.peers.filter((p) => p.role === 'subscriber');
  const failed = r.peers.filter((p) => !p.joined);
  lines.push(`joined: publishers ${pubs.filter((p) => p.joined).length}/${o.rooms * o.publishers}, subscribers ${subs.filter((p) => p.joined).length}/${o.rooms * o.subscribers}` +
    (failed.length > 0 ? `; failed ${failed.length}: ${[...new Set(failed.map((p) => p.error ?? 'not started before the end'))].slice(0, 3).join('; ')}` : ''));
  lines.push('');
  lines.push(`join latency (ms)            n    p50   p90   p99    max`);
  lines.push(latencyRow('publisher connected', pubs.flatMap((p) => (p.connectMs !== undefined ? [p.connectMs] : []))));
  lines.push(latencyRow('subscriber connected', subs.flatMap((p) => (p.connectMs !== undefined ? [p.connectMs] : []))));
  lines.push(latencyRow('subscriber first media', subs.flatMap((p) => (p.firstMediaMs !== undefined ? [p.firstMediaMs] : []))));
  lines.push('  (from the REST call that adds the peer to ICE+DTLS connected / to a packet of every track it subscribes to)');
  lines.push('');
  const joinedSubs = subs.filter((p) => p.joined);
  if (joinedSubs.length > 0) {
    const received = joinedSubs.map((p) => p.received);
    const totalLost = joinedSubs.reduce((n, p) => n + p.lost, 0);
    const totalExpected = joinedSubs.reduce((n, p) => n + p.expected, 0);
    const rates = joinedSubs.filter((p) => p.receivingS > 0).map((p) => p.received / p.receivingS);
    lines.push(`packets per subscriber (RTP, counted at this process's sockets):`);
    lines.push(`  received  min ${Math.min(...received)}  p50 ${percentile(received, 50)}  max ${Math.max(...received)}; ` +
      `rate p50 ${Math.round(percentile(rates, 50))} pkt/s (${expectedRate(o)} nominal: ${o.publishers} publishers; they sent p50 ${Math.round(percentile(pubs.map((p) => p.sentRate), 50))} pkt/s each)`);
    // a subscriber that received nothing is the worst of all
    const badness = (p: PeerResult): number => (p.received === 0 ? 2 : p.lost / Math.max(1, p.expected));
    const worst = [...joinedSubs].sort((a, b) => badness(b) - badness(a));
    const silent = joinedSubs.filter((p) => p.received === 0);
    if (silent.length > 0) lines.push(`  ${silent.length} joined subscribers received nothing: ${silent.slice(0, 5).map((p) => `${p.label}${p.error ? ` (${p.error})` : ''}`).join(', ')}`);
    lines.push(`  lost      ${totalLost} of ${totalExpected} (${pct(totalLost, totalExpected)}); worst subscriber ${worst[0]!.label} ${worst[0]!.lost} (${pct(worst[0]!.lost, worst[0]!.expected)})`);
    const listed = o.verbose || joinedSubs.length <= 40 ? joinedSubs : worst.slice(0, 10);
    if (listed !== joinedSubs) lines.push(`  the 10 with the most loss (--verbose lists all ${joinedSubs.length}):`);
    for (const p of listed) {
      lines.push(`  ${p.label.padEnd(14)} streams ${p.streams}  received ${pad(p.received, 7)}  lost ${pad(p.lost, 5)} (${pct(p.lost, p.expected)})${p.error ? `  error: ${p.error}` : ''}`);
    }
    lines.push('');
  }
  lines.push(`server load over time (fishjam_worker_cpu_ratio per worker / its consumers; from ${r.metricsEndpoints.join(', ')}):`);
  if (r.samples.every((s) => s.workers.length === 0)) {
    lines.push('  unavailable: no metrics endpoint answered (give --metrics http://<node>:<FJ_METRICS_PORT>/metrics,...)');
  } else {
    const every = Math.max(1, Math.ceil(r.samples.length / 30));
    for (const [i, s] of r.samples.entries()) if (i % every === 0 || i === r.samples.length - 1) lines.push(`  t=${pad(s.t.toFixed(0), 4)}s  ${formatLoad(s)}`);
    // the steady part only: while peers join, consumers exist before media flows to them
    const steady = r.samples.filter((s) => s.t >= r.joinedAtS + 3);
    const atBudget = consumersAtBudget(steady);
    if (atBudget) {
      lines.push(`  steady from t=${Math.ceil(r.joinedAtS + 3)}s (${steady.length} samples): median worker CPU ${Math.round(100 * percentile(steady.map((x) => Math.max(0, ...x.workers.map((w) => (w.cpu <= 1.05 ? w.cpu : 0)))), 50))}% on the busiest worker`);
      const perSubscriber = o.publishers * ((o.video ? 1 : 0) + (o.audio ? 1 : 0));
      lines.push(`  busiest worker: up to ${Math.round(atBudget.cpu * 100)}% CPU with ${atBudget.consumers} consumers -> about ${atBudget.estimate} consumers per worker at 85% CPU ` +
        `(median over samples, linear) = about ${Math.round(atBudget.estimate / perSubscriber)} subscribers of this shape (${perSubscriber} consumers each)`);
    }
  }
  lines.push(`load process CPU: ${Math.round(r.clientCpu * 100)}% of a core (loss counts are only trustworthy while it stays well below 100%)`);
  return lines;
}

/** RTP packets per second one subscriber should get: every publisher's tracks. */
export function expectedRate(o: LoadOptions): number {
  const video = o.video ? 30 * Math.max(1, Math.round((o.videoKbps * 1000) / 8 / 30 / 1100)) : 0;
  return o.publishers * (video + (o.audio ? 50 : 0));
}
