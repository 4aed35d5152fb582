// The FishjamCluster resource as users write it (spec) and as the operator reports it (status).
// Field names and shapes match crds/fishjamcluster.yaml; test/crd-agreement.test.ts keeps them in step.

export const GROUP = 'fishjam-ts.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'FishjamCluster';
export const PLURAL = 'fishjamclusters';

export interface SecretKeyRef {
  name: string;
  key?: string;
}

export type ExposureMode = 'PodNetwork' | 'HostNetwork' | 'ServicePerPod';

export interface ServicePerPodSpec {
  /** Service type of each per-pod Service; only LoadBalancer gives every pod its own public address. */
  type?: 'LoadBalancer' | 'ClusterIP';
  annotations?: Record<string, string>;
  externalTrafficPolicy?: 'Local' | 'Cluster';
  loadBalancerClass?: string;
}

/** PodNetwork: the one Service in front of every pod's TURN port, the cluster's TURN entry. */
export interface TurnEntrySpec {
  /** What clients are told (FJ_WEBRTC_TURN_IP): the Service's external IP or a DNS name for it. */
  address?: string;
  /** LoadBalancer (default) or ClusterIP (in-cluster clients only). */
  serviceType?: 'LoadBalancer' | 'ClusterIP';
  annotations?: Record<string, string>;
  externalTrafficPolicy?: 'Local' | 'Cluster';
  loadBalancerClass?: string;
  /** The TURN secret shared by every pod; generated `<name>-turn-secret` when absent. */
  secretRef?: SecretKeyRef;
}

export interface ExposureSpec {
  mode?: ExposureMode;
  /** PodNetwork: the cluster's pod network(s); each pod's TURN server may relay only there. */
  podCidrs?: string[];
  turn?: TurnEntrySpec;
  /** FJ_HOST of each pod; may use $(POD_NAME), $(POD_IP), $(HOST_IP), $(POD_NAMESPACE). */
  hostTemplate?: string;
  /** FJ_WEBRTC_ANNOUNCED_IP in ServicePerPod mode (same variables as hostTemplate). HostNetwork announces the node IP. */
  announcedAddressTemplate?: string;
  servicePerPod?: ServicePerPodSpec;
}

export interface DistTlsSpec {
  /** A kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt. */
  secretName: string;
}

export interface DistSpec {
  cookieSecretRef?: SecretKeyRef;
  port?: number;
  portMapperPort?: number;
  pollingIntervalMs?: number;
  clusterDomain?: string;
  tls?: DistTlsSpec;
}

export interface WebRtcSpec {
  minPort?: number;
  maxPort?: number;
  /** The integrated TURN server's listener (UDP and TCP), what Fishjam's web SDK connects to. */
  turnPort?: number;
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface NetworkPolicySpec {
  enabled?: boolean;
  /** Who may call the REST API and peer websocket; empty or absent = anywhere. */
  apiFrom?: NetworkPolicyPeer[];
  /** Who may send WebRTC media; empty or absent = anywhere. */
  mediaFrom?: NetworkPolicyPeer[];
  /** Who may scrape metrics besides the operator; absent = any pod in the cluster. */
  metricsFrom?: NetworkPolicyPeer[];
}

export interface ServiceMonitorSpec {
  enabled?: boolean;
  interval?: string;
  labels?: Record<string, string>;
}

export interface MetricsSpec {
  port?: number;
  serviceMonitor?: ServiceMonitorSpec;
}

export interface PodDisruptionBudgetSpec {
  enabled?: boolean;
  maxUnavailable?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}

export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export interface FishjamClusterSpec {
  replicas?: number;
  image?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets?: { name: string }[];
  resources?: ResourceRequirements;
  workers?: number;
  apiTokenSecretRef?: SecretKeyRef;
  secretKeyBaseSecretRef?: SecretKeyRef;
  httpPort?: number;
  dist?: DistSpec;
  exposure?: ExposureSpec;
  webrtc?: WebRtcSpec;
  networkPolicy?: NetworkPolicySpec;
  metrics?: MetricsSpec;
  podDisruptionBudget?: PodDisruptionBudgetSpec;
  drainTimeoutSeconds?: number;
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
  podLabels?: Record<string, string>;
  podAnnotations?: Record<string, string>;
  env?: EnvVar[];
  logLevel?: 'debug' | 'info' | 'warning' | 'error';
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface NodeStatus {
  name: string;
  ordinal: number;
  podIP?: string;
  ready: boolean;
  draining: boolean;
  rooms?: number;
  peers?: number;
  forwardedTracks?: number;
  /** Why load figures are missing (scrape failed, pod has no IP yet). */
  error?: string;
}

export interface ScaleDownState {
  /** Ordinal being drained before the StatefulSet shrinks past it. */
  ordinal: number;
  startedAt: string;
}

export interface FishjamClusterStatus {
  observedGeneration?: number;
  replicas?: number;
  selector?: string;
  readyNodes?: number;
  nodesSummary?: string;
  drainingNodes?: string[];
  rooms?: number;
  peers?: number;
  forwardedTracks?: number;
  nodes?: NodeStatus[];
  scaleDown?: ScaleDownState;
  conditions?: Condition[];
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  creationTimestamp?: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface FishjamCluster {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: FishjamClusterSpec;
  status?: FishjamClusterStatus;
}

/** Any Kubernetes object the reconcile produces; kept loose because the builders own the exact shapes. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}
