// One number for autoscalers and placement: how full this node is, 0 (idle) .. 1 (full). The limits a node meets
// first: a mediasoup worker is one core (mean worker CPU, each clamped to one core), the consumers its workers take
// (FJ_WORKER_MAX_CONSUMERS each), and the machine's CPU as a whole: the workers' and the component processes' (ffmpeg
// for HLS and File components; they can take several cores) over the cores this node may use. The ratio is the
// largest of the three. Pure.
import type { WorkerStats } from '../sfu/worker-pool.js';

export const LOAD_RATIO_METRIC = 'fishjam_node_load_ratio';

const clamp01 = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);
const nonNegative = (v: number) => (Number.isFinite(v) && v > 0 ? v : 0);

export interface ComponentCpu {
  /** cores the component processes used (1 = one core busy) */
  readonly cores: number;
  /** cores this node may use (availableCores in process-cpu.ts) */
  readonly available: number;
}

/** The share of the node's cores its component processes take, 0..1. */
export function componentShare(components: ComponentCpu | undefined): number {
  const available = components ? nonNegative(components.available) : 0;
  return available > 0 ? clamp01(nonNegative(components!.cores) / available) : 0;
}

export function loadRatio(workers: readonly Pick<WorkerStats, 'cpuRatio' | 'consumers'>[], maxConsumersPerWorker: number, components?: ComponentCpu): number {
  // No worker running (all died, respawning): the node can take nothing.
  if (workers.length === 0) return 1;
  const workerCores = workers.reduce((sum, w) => sum + clamp01(w.cpuRatio), 0);
  const cpu = workerCores / workers.length;
  const capacity = workers.length * Math.max(1, maxConsumersPerWorker);
  const consumers = workers.reduce((sum, w) => sum + (Number.isFinite(w.consumers) && w.consumers > 0 ? w.consumers : 0), 0);
  // an unknown core count (garbage) leaves the machine's term out rather than inventing one
  const available = components ? nonNegative(components.available) : 0;
  const machine = available > 0 ? (workerCores + nonNegative(components!.cores)) / available : 0;
  return clamp01(Math.max(cpu, consumers / capacity, machine));
}
