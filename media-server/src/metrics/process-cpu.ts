// CPU used by this node's component processes (ffmpeg, and whatever media engine a component runs), read from
// /proc/<pid>/stat: utime + stime in clock ticks, compared with the previous sample of the same process (pid and start
// time: a reused pid starts over). Bounded work per sample: at most MAX_PROCESSES small reads, synchronous (each is a
// few microseconds; no await in between keeps the sample's wall time exact). Linux only; elsewhere it reads 0.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Processes read per sample at most (a node runs at most 64 players, see component-manager.ts). */
export const MAX_PROCESSES = 128;
/** USER_HZ: the unit of /proc/<pid>/stat times, 100 on every Linux the kernel ABI knows. */
const TICKS_PER_SECOND = 100;

export interface ProcStat {
  /** user + system time, in clock ticks */
  readonly cpuTicks: number;
  /** start time after boot, in clock ticks (with the pid, names one process) */
  readonly startTicks: number;
}

/** Pure: the CPU times of one /proc/<pid>/stat line; undefined when it is not one. The name (field 2) may hold
 *  spaces and parentheses, so fields are counted from its last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).trim().split(/\s+/);
  // after the name: state is field 3, utime 14, stime 15, starttime 22 -> indices 0, 11, 12, 19
  const [utime, stime, start] = [Number(fields[11]), Number(fields[12]), Number(fields[19])];
  if (![utime, stime, start].every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
  return { cpuTicks: utime + stime, startTicks: start };
}

/** The cores this node may use: the CPUs it may run on, and a cgroup v2 CPU quota (a container's CPU limit) if lower. */
export function availableCores(readQuota: () => string | undefined = () => readOptional('/sys/fs/cgroup/cpu.max')): number {
  const cpus = os.availableParallelism();
  const [quota, period] = (readQuota() ?? '').trim().split(/\s+/).map(Number);
  if (quota !== undefined && period !== undefined && Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0) {
    return Math.max(0.1, Math.min(cpus, quota / period));
  }
  return cpus;
}

export class ProcessCpu {
  /** pid -> its last sample */
  private last = new Map<number, { startTicks: number; cpuTicks: number; at: number }>();

  constructor(private readonly readStat: (pid: number) => string | undefined = (pid) => readOptional(`/proc/${pid}/stat`)) {}

  /** Cores the given processes used since the previous sample (0 for a process seen for the first time). */
  sample(pids: readonly number[], now = performance.now()): number {
    const next = new Map<number, { startTicks: number; cpuTicks: number; at: number }>();
    let cores = 0;
    for (const pid of pids.slice(0, MAX_PROCESSES)) {
      if (!Number.isSafeInteger(pid) || pid <= 0 || next.has(pid)) continue;
      const text = this.readStat(pid);
      const stat = text === undefined ? undefined : parseProcStat(text);
      if (!stat) continue; // exited meanwhile
      const before = this.last.get(pid);
      if (before && before.startTicks === stat.startTicks && now > before.at) {
        cores += Math.max(0, stat.cpuTicks - before.cpuTicks) / TICKS_PER_SECOND / ((now - before.at) / 1000);
      }
      next.set(pid, { ...stat, at: now });
    }
    this.last = next; // processes gone are forgotten here: the map holds only this sample's
    return cores;
  }
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
