// The resource kinds the stand-in API server knows, as its discovery documents describe them.
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Has a /status subresource: the main endpoint ignores status, /status ignores everything else. */
  statusSubresource: boolean;
  /** Has a /scale subresource (autoscaling/v1 Scale) mapped onto these fields, as the CRD declares it. */
  scale?: { specReplicas: string; statusReplicas: string; labelSelector: string };
}

export const RESOURCES: ResourceType[] = [
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, statusSubresource: true },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, statusSubresource: false },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, statusSubresource: true },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, statusSubresource: false },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, statusSubresource: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, statusSubresource: false },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, statusSubresource: true },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true, statusSubresource: false },
  { group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor', plural: 'servicemonitors', namespaced: true, statusSubresource: false },
  {
    group: 'fishjam-ts.dev', version: 'v1alpha1', kind: 'FishjamCluster', plural: 'fishjamclusters', namespaced: true, statusSubresource: true,
    scale: { specReplicas: '.spec.replicas', statusReplicas: '.status.replicas', labelSelector: '.status.selector' },
  },
];

export const apiVersionOf = (r: ResourceType) => (r.group ? `${r.group}/${r.version}` : r.version);
