// When is a new status worth a write? Every status write is an etcd write and a watch event to every watcher of
// FishjamClusters, so live load (rooms, peers, forwarded tracks: they move with every join) must not drive them.
// Conditions, node readiness, draining, observedGeneration and scale-down are written as soon as they change; the
// load totals only ride along, or on their own at most once per `loadIntervalMs`. Per-node load is not in the status
// at all (it is in the pods' metrics). Pure.
import type { FishjamClusterStatus } from '../api/types.js';

export const VOLATILE_TOTALS = ['rooms', 'peers', 'forwardedTracks'] as const;

export type StatusWrite = 'none' | 'changed' | 'load';

function stablePart(status: FishjamClusterStatus): string {
  const copy: Record<string, unknown> = { ...status };
  for (const k of VOLATILE_TOTALS) delete copy[k];
  return JSON.stringify(copy);
}

function loadPart(status: FishjamClusterStatus): string {
  return JSON.stringify(VOLATILE_TOTALS.map((k) => status[k]));
}

export function statusWrite(
  previous: FishjamClusterStatus | undefined,
  next: FishjamClusterStatus,
  lastLoadWriteAt: number | undefined,
  now: number,
  loadIntervalMs: number,
): StatusWrite {
  if (!previous || stablePart(previous) !== stablePart(next)) return 'changed';
  if (loadPart(previous) === loadPart(next)) return 'none';
  return lastLoadWriteAt === undefined || now - lastLoadWriteAt >= loadIntervalMs ? 'load' : 'none';
}
