// One number for autoscalers: how full this node is, 0 (idle) .. 1 (full). The two limits a node meets first are the
// worker CPU (a mediasoup worker is one core) and the consumers its workers take (FJ_WORKER_MAX_CONSUMERS each);
// the ratio is the larger of mean worker CPU (each clamped to one core) and consumers over that capacity. Pure.
import type { WorkerStats } from '../sfu/worker-pool.js';

export const LOAD_RATIO_METRIC = 'fishjam_node_load_ratio';

const clamp01 = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);

export function loadRatio(workers: readonly Pick<WorkerStats, 'cpuRatio' | 'consumers'>[], maxConsumersPerWorker: number): number {
  // No worker running (all died, respawning): the node can take nothing.
  if (workers.length === 0) return 1;
  const cpu = workers.reduce((sum, w) => sum + clamp01(w.cpuRatio), 0) / workers.length;
  const capacity = workers.length * Math.max(1, maxConsumersPerWorker);
  const consumers = workers.reduce((sum, w) => sum + (Number.isFinite(w.consumers) && w.consumers > 0 ? w.consumers : 0), 0);
  return clamp01(Math.max(cpu, consumers / capacity));
}
