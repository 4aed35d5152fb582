// Fills every optional field of a (validated) spec. Never writes into its input: the builder reads a copy,
// so the user's object and the cached informer object stay as the API server sent them.
import type {
  EnvVar,
  ExposureMode,
  FishjamClusterSpec,
  NetworkPolicyPeer,
  ResourceRequirements,
  SecretKeyRef,
} from './types.js';

/** Settings that come from the operator's own configuration, not the CR. */
export interface OperatorDefaults {
  image: string;
  clusterDomain: string;
  /** Namespace and labels of the operator's pods, so network policies let it scrape and drain media pods. */
  operatorNamespace: string;
  operatorPodLabels: Record<string, string>;
}

export interface ResolvedSpec {
  replicas: number;
  image: string;
  imagePullPolicy: string;
  imagePullSecrets: { name: string }[];
  resources: ResourceRequirements;
  workers: number;
  apiToken: Required<SecretKeyRef> & { generated: boolean };
  secretKeyBase: Required<SecretKeyRef> & { generated: boolean };
  httpPort: number;
  dist: {
    cookie: Required<SecretKeyRef> & { generated: boolean };
    port: number;
    portMapperPort: number;
    pollingIntervalMs: number;
    clusterDomain: string;
    tlsSecretName: string | undefined;
  };
  exposure: {
    mode: ExposureMode;
    hostTemplate: string;
    announcedAddressTemplate: string | undefined;
    serviceType: 'LoadBalancer' | 'ClusterIP';
    serviceAnnotations: Record<string, string>;
    externalTrafficPolicy: 'Local' | 'Cluster';
    loadBalancerClass: string | undefined;
    /** PodNetwork only (empty otherwise) */
    podCidrs: string[];
    turn: {
      address: string;
      serviceType: 'LoadBalancer' | 'ClusterIP';
      annotations: Record<string, string>;
      externalTrafficPolicy: 'Local' | 'Cluster';
      loadBalancerClass: string | undefined;
      secret: Required<SecretKeyRef> & { generated: boolean };
    };
  };
  webrtc: { minPort: number; maxPort: number; turnPort: number };
  networkPolicy: {
    enabled: boolean;
    apiFrom: NetworkPolicyPeer[];
    mediaFrom: NetworkPolicyPeer[];
    metricsFrom: NetworkPolicyPeer[];
  };
  metrics: { port: number; serviceMonitor: { enabled: boolean; interval: string; labels: Record<string, string> } };
  podDisruptionBudget: { enabled: boolean; maxUnavailable: number };
  drainTimeoutSeconds: number;
  nodeSelector: Record<string, string>;
  tolerations: Record<string, unknown>[];
  affinity: Record<string, unknown> | undefined;
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  env: EnvVar[];
  logLevel: string;
}

export const DEFAULTS = {
  replicas: 1,
  httpPort: 8080,
  metricsPort: 9568,
  distPort: 9000,
  portMapperPort: 4369,
  pollingIntervalMs: 5000,
  webrtcMinPort: 50000,
  turnPort: 3478,
  /** The media server's default FJ_WEBRTC_TURN_PORT_RANGE (relay ports, only between the pod's TURN server and itself). */
  turnRelayMinPort: 51000,
  turnRelayMaxPort: 51999,
  drainTimeoutSeconds: 30,
  serviceMonitorInterval: '15s',
  apiTokenKey: 'token',
  cookieKey: 'cookie',
  secretKeyBaseKey: 'secretKeyBase',
  turnSecretKey: 'secret',
} as const;

export const generatedSecretNames = (cluster: string) => ({
  apiToken: `${cluster}-api-token`,
  cookie: `${cluster}-dist-cookie`,
  secretKeyBase: `${cluster}-secret-key-base`,
  turnSecret: `${cluster}-turn-secret`,
});

/** The exposure mode when the spec names none. */
export const DEFAULT_EXPOSURE_MODE: ExposureMode = 'PodNetwork';

/** One mediasoup worker per whole CPU the pod may use (limit, else request), at least one. */
export function workersFor(resources: ResourceRequirements | undefined): number {
  const cpu = resources?.limits?.['cpu'] ?? resources?.requests?.['cpu'];
  if (cpu === undefined) return 1;
  const cores = Math.floor(parseCpu(cpu));
  return Number.isFinite(cores) ? Math.max(1, cores) : 1;
}

/** Kubernetes CPU quantity ("2", "1.5", "500m") in cores. */
export function parseCpu(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity.trim());
  if (!m) return Number.NaN;
  const value = Number(m[1]);
  return m[2] === 'm' ? value / 1000 : value;
}

function secretRef(ref: SecretKeyRef | undefined, generatedName: string, defaultKey: string) {
  return ref
    ? { name: ref.name, key: ref.key ?? defaultKey, generated: false }
    : { name: generatedName, key: defaultKey, generated: true };
}

export function resolveSpec(name: string, spec: FishjamClusterSpec, op: OperatorDefaults): ResolvedSpec {
  const names = generatedSecretNames(name);
  const mode = spec.exposure?.mode ?? DEFAULT_EXPOSURE_MODE;
  const clusterDomain = spec.dist?.clusterDomain ?? op.clusterDomain;
  const podNetwork = mode === 'PodNetwork';
  // In-cluster names of the client Service and the TURN Service; $(POD_NAMESPACE) is expanded by Kubernetes.
  const serviceHost = (service: string) => `${service}.$(POD_NAMESPACE).svc.${clusterDomain}`;
  const httpPort = spec.httpPort ?? DEFAULTS.httpPort;
  const workers = spec.workers ?? workersFor(spec.resources);
  const minPort = spec.webrtc?.minPort ?? DEFAULTS.webrtcMinPort;
  const copy = <T>(v: T): T => structuredClone(v);
  return {
    replicas: spec.replicas ?? DEFAULTS.replicas,
    image: spec.image ?? op.image,
    imagePullPolicy: spec.imagePullPolicy ?? 'IfNotPresent',
    imagePullSecrets: copy(spec.imagePullSecrets ?? []),
    resources: copy(spec.resources ?? {}),
    workers,
    apiToken: secretRef(spec.apiTokenSecretRef, names.apiToken, DEFAULTS.apiTokenKey),
    secretKeyBase: secretRef(spec.secretKeyBaseSecretRef, names.secretKeyBase, DEFAULTS.secretKeyBaseKey),
    httpPort,
    dist: {
      cookie: secretRef(spec.dist?.cookieSecretRef, names.cookie, DEFAULTS.cookieKey),
      port: spec.dist?.port ?? DEFAULTS.distPort,
      portMapperPort: spec.dist?.portMapperPort ?? DEFAULTS.portMapperPort,
      pollingIntervalMs: spec.dist?.pollingIntervalMs ?? DEFAULTS.pollingIntervalMs,
      clusterDomain,
      tlsSecretName: spec.dist?.tls?.secretName,
    },
    exposure: {
      mode,
      // HostNetwork pods are reached at their node's address; ServicePerPod must name each pod's address
      // (validation requires the template there, so the fallback is never used for it).
      // PodNetwork pods share one HTTP entry, the client Service: any node forwards REST calls and proxies peer
      // sockets to the room's node, so FJ_HOST need not name the pod (set it to an Ingress host in front of it).
      hostTemplate: spec.exposure?.hostTemplate ?? (podNetwork ? `${serviceHost(name)}:${httpPort}` : `$(HOST_IP):${httpPort}`),
      announcedAddressTemplate: spec.exposure?.announcedAddressTemplate,
      serviceType: spec.exposure?.servicePerPod?.type ?? 'LoadBalancer',
      serviceAnnotations: copy(spec.exposure?.servicePerPod?.annotations ?? {}),
      externalTrafficPolicy: spec.exposure?.servicePerPod?.externalTrafficPolicy ?? 'Local',
      loadBalancerClass: spec.exposure?.servicePerPod?.loadBalancerClass,
      podCidrs: podNetwork ? copy(spec.exposure?.podCidrs ?? []) : [],
      turn: {
        address: spec.exposure?.turn?.address ?? serviceHost(`${name}-turn`),
        serviceType: spec.exposure?.turn?.serviceType ?? 'LoadBalancer',
        annotations: copy(spec.exposure?.turn?.annotations ?? {}),
        externalTrafficPolicy: spec.exposure?.turn?.externalTrafficPolicy ?? 'Local',
        loadBalancerClass: spec.exposure?.turn?.loadBalancerClass,
        secret: secretRef(spec.exposure?.turn?.secretRef, names.turnSecret, DEFAULTS.turnSecretKey),
      },
    },
    webrtc: { minPort, maxPort: spec.webrtc?.maxPort ?? minPort + workers - 1, turnPort: spec.webrtc?.turnPort ?? DEFAULTS.turnPort },
    networkPolicy: {
      enabled: spec.networkPolicy?.enabled ?? true,
      apiFrom: copy(spec.networkPolicy?.apiFrom ?? []),
      mediaFrom: copy(spec.networkPolicy?.mediaFrom ?? []),
      metricsFrom: copy(spec.networkPolicy?.metricsFrom ?? [{ namespaceSelector: {} }]),
    },
    metrics: {
      port: spec.metrics?.port ?? DEFAULTS.metricsPort,
      serviceMonitor: {
        enabled: spec.metrics?.serviceMonitor?.enabled ?? false,
        interval: spec.metrics?.serviceMonitor?.interval ?? DEFAULTS.serviceMonitorInterval,
        labels: copy(spec.metrics?.serviceMonitor?.labels ?? {}),
      },
    },
    podDisruptionBudget: {
      enabled: spec.podDisruptionBudget?.enabled ?? true,
      maxUnavailable: spec.podDisruptionBudget?.maxUnavailable ?? 1,
    },
    drainTimeoutSeconds: spec.drainTimeoutSeconds ?? DEFAULTS.drainTimeoutSeconds,
    nodeSelector: copy(spec.nodeSelector ?? {}),
    tolerations: copy(spec.tolerations ?? []),
    affinity: spec.affinity ? copy(spec.affinity) : undefined,
    podLabels: copy(spec.podLabels ?? {}),
    podAnnotations: copy(spec.podAnnotations ?? {}),
    env: copy(spec.env ?? []),
    logLevel: spec.logLevel ?? 'info',
  };
}
