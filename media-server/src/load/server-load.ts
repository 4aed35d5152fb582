// The server's load ratio during a load test: every node's Prometheus endpoint (FJ_METRICS_PORT) read once a
// sample, fishjam_worker_cpu_ratio (CPU of each mediasoup worker, 1 = one core) and fishjam_worker_consumers.
// /health carries no load figure, so the metrics endpoint is the source; a node whose endpoint cannot be reached is
// reported as such (the test goes on).

export interface WorkerLoad {
  endpoint: string;
  worker: string;
  cpu: number;
  consumers: number;
}

export interface LoadSample {
  /** seconds since the start of the run */
  t: number;
  workers: WorkerLoad[];
  unreachable: string[];
}

/** Samples of one gauge family with a `worker` label, from the Prometheus text format. */
export function parseWorkerGauge(text: string, name: string): Map<string, number> {
  const values = new Map<string, number>();
  const re = new RegExp(`^${name}\\{([^}]*)\\}\\s+(\\S+)`, 'gm');
  for (const m of text.matchAll(re)) {
    const worker = /(?:^|,)worker="([^"]*)"/.exec(m[1]!)?.[1];
    const value = Number(m[2]);
    if (worker !== undefined && Number.isFinite(value)) values.set(worker, value);
  }
  return values;
}

export function workerLoads(endpoint: string, text: string): WorkerLoad[] {
  const cpu = parseWorkerGauge(text, 'fishjam_worker_cpu_ratio');
  const consumers = parseWorkerGauge(text, 'fishjam_worker_consumers');
  return [...cpu.entries()].map(([worker, ratio]) => ({ endpoint, worker, cpu: ratio, consumers: consumers.get(worker) ?? 0 }));
}

export async function sampleLoad(endpoints: string[], t: number): Promise<LoadSample> {
  const workers: WorkerLoad[] = [];
  const unreachable: string[] = [];
  await Promise.all(
    endpoints.map(async (endpoint) => {
      try {
        const res = await fetch(endpoint, { signal: AbortSignal.timeout(2000) });
        if (!res.ok) throw new Error(String(res.status));
        workers.push(...workerLoads(endpoint, await res.text()));
      } catch {
        unreachable.push(endpoint);
      }
    }),
  );
  workers.sort((a, b) => (a.endpoint === b.endpoint ? a.worker.localeCompare(b.worker) : endpoints.indexOf(a.endpoint) - endpoints.indexOf(b.endpoint)));
  return { t, workers, unreachable };
}

/** "node1 w0 45% (120c) w1 12% (0c) | node2 …" with short node names (host:port of the endpoint). */
export function formatLoad(sample: LoadSample): string {
  if (sample.workers.length === 0) return sample.unreachable.length > 0 ? 'server load: metrics unreachable' : 'server load: no workers reported';
  const byNode = new Map<string, WorkerLoad[]>();
  for (const w of sample.workers) byNode.set(w.endpoint, [...(byNode.get(w.endpoint) ?? []), w]);
  return [...byNode.entries()]
    .map(([endpoint, ws]) => `${new URL(endpoint).host} ${ws.map((w) => `w${w.worker} ${Math.round(w.cpu * 100)}%/${w.consumers}c`).join(' ')}`)
    .join(' | ');
}
