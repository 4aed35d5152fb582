// One status refresh's scrape: every pod with an IP has its /metrics read, all at once, each bounded by the
// client's timeout. The controller feeds the result to aggregate(); so does the network-namespace test.
import type { LoadResult, PodView } from './aggregate.js';
import type { NodeClient } from './node-client.js';
import { CLUSTER_LABEL } from '../reconcile/names.js';

export async function collectLoads(
  pods: readonly PodView[],
  metricsPort: number | undefined,
  client: NodeClient,
  onScrapeError: () => void = () => undefined,
): Promise<Map<string, LoadResult>> {
  if (metricsPort === undefined) return new Map();
  const scraped = await Promise.all(
    pods
      .filter((p) => p.podIP)
      .map(async (p): Promise<[string, LoadResult]> => {
        const result = await client.load(p.podIP!, metricsPort);
        if (!result.ok) onScrapeError();
        return [p.name, result];
      }),
  );
  return new Map(scraped);
}

/** The fields of a Pod the status reads (a V1Pod fits). */
export interface PodLike {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: unknown };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}

/** The cluster's pods (by its cluster label) as the status sees them: ready by the kubelet's Ready condition. */
export function podViews(cluster: string, pods: readonly PodLike[]): PodView[] {
  return pods
    .filter((p) => p.metadata?.labels?.[CLUSTER_LABEL] === cluster)
    .map((p) => ({
      name: p.metadata!.name!,
      ...(p.status?.podIP ? { podIP: p.status.podIP } : {}),
      ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      terminating: Boolean(p.metadata?.deletionTimestamp),
    }));
}
