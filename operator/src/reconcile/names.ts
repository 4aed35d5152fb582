// Names and labels of everything a FishjamCluster owns, in one place so builders, pruning and status agree.
import { API_VERSION, GROUP, KIND, type FishjamCluster, type OwnerReference } from '../api/types.js';

export const MANAGED_BY = 'fishjam-operator';
export const CLUSTER_LABEL = `${GROUP}/cluster`;
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const HASH_ANNOTATION = `${GROUP}/spec-hash`;
/** Names stay under the 63-character label limit once the StatefulSet adds "-<ordinal>" and its revision hash. */
export const MAX_CLUSTER_NAME = 40;

export const objectNames = (cluster: string) => ({
  statefulSet: cluster,
  headless: `${cluster}-nodes`,
  client: cluster,
  pod: (ordinal: number) => `${cluster}-${ordinal}`,
  podService: (ordinal: number) => `${cluster}-${ordinal}`,
  pdb: cluster,
  serviceMonitor: cluster,
  policy: (part: 'dist' | 'api' | 'media' | 'metrics' | 'egress') => `${cluster}-${part}`,
  turn: `${cluster}-turn`,
});

/** The labels that select this cluster's pods; never change (a StatefulSet selector is immutable). */
export function selectorLabels(cluster: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'fishjam', 'app.kubernetes.io/instance': cluster };
}

/** Labels on every owned object; the operator lists owned objects by CLUSTER_LABEL for pruning. */
export function commonLabels(cluster: string): Record<string, string> {
  return { ...selectorLabels(cluster), 'app.kubernetes.io/managed-by': MANAGED_BY, [CLUSTER_LABEL]: cluster };
}

export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function ownerReference(cluster: FishjamCluster): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: cluster.metadata.name!,
    uid: cluster.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Ordinal of a StatefulSet pod name ("media-3" -> 3), or undefined. */
export function ordinalOf(cluster: string, podName: string): number | undefined {
  if (!podName.startsWith(`${cluster}-`)) return undefined;
  const rest = podName.slice(cluster.length + 1);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}
