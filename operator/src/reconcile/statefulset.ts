// The StatefulSet of media nodes. Everything a pod needs to find its peers (DNS discovery on the headless
// Service), to be reached (FJ_HOST, announced address) and to stop gently (preStop drain) is set here.
import type { EnvVar, KubeObject } from '../api/types.js';
import { meta, type BuildContext } from './build-context.js';
import { COMPONENT_LABEL } from './names.js';
import { webrtcPorts } from './services.js';

/** Seconds the kubelet waits beyond the drain timeout before SIGKILL: drain.js exits, then the server closes. */
export const GRACE_MARGIN_SECONDS = 15;
export const DRAIN_COMMAND = ['node', '/app/media-server/dist/cli/drain.js'];
export const DIST_TLS_MOUNT = '/etc/fishjam/dist-tls';

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
const secretEnv = (name: string, ref: { name: string; key: string }) => ({
  name,
  valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } },
});
const plainEnv = (name: string, value: string | number | boolean) => ({ name, value: String(value) });

export function distQuery(ctx: BuildContext): string {
  return `${ctx.names.headless}.${ctx.namespace}.svc.${ctx.spec.dist.clusterDomain}`;
}

export function mediaEnv(ctx: BuildContext): EnvVar[] {
  const { spec } = ctx;
  const { mode } = spec.exposure;
  // WebRTC: HostNetwork announces the node IP, PodNetwork the pod IP (reached only through a TURN relay inside the
  // cluster), ServicePerPod the pod's load balancer. TURN: the same address, except PodNetwork's one TURN entry.
  const announced = mode === 'HostNetwork' ? '$(HOST_IP)' : mode === 'PodNetwork' ? '$(POD_IP)' : spec.exposure.announcedAddressTemplate!;
  const turnAddress = mode === 'PodNetwork' ? spec.exposure.turn.address : announced;
  const sharedTurn =
    mode === 'PodNetwork'
      ? [
          // Every pod's coturn accepts credentials minted by any pod, and relays to any media pod but nowhere else.
          secretEnv('FJ_WEBRTC_TURN_SECRET', spec.exposure.turn.secret),
          plainEnv('FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS', spec.exposure.podCidrs.join(',')),
        ]
      : [];
  const tls = spec.dist.tlsSecretName
    ? [
        plainEnv('FJ_DIST_TLS_CERT_PATH', `${DIST_TLS_MOUNT}/tls.crt`),
        plainEnv('FJ_DIST_TLS_KEY_PATH', `${DIST_TLS_MOUNT}/tls.key`),
        plainEnv('FJ_DIST_TLS_CA_PATH', `${DIST_TLS_MOUNT}/ca.crt`),
      ]
    : [];
  return [
    // Declared first: Kubernetes expands $(VAR) only for variables defined earlier in the list.
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('POD_IP', 'status.podIP'),
    fieldEnv('HOST_IP', 'status.hostIP'),
    plainEnv('FJ_MODE', 'production'),
    plainEnv('FJ_IP', '0.0.0.0'),
    plainEnv('FJ_PORT', spec.httpPort),
    plainEnv('FJ_HOST', spec.exposure.hostTemplate),
    plainEnv('FJ_METRICS_IP', '0.0.0.0'),
    plainEnv('FJ_METRICS_PORT', spec.metrics.port),
    secretEnv('FJ_SERVER_API_TOKEN', spec.apiToken),
    secretEnv('FJ_SECRET_KEY_BASE', spec.secretKeyBase),
    plainEnv('FJ_DIST_ENABLED', true),
    plainEnv('FJ_DIST_STRATEGY_NAME', 'DNS'),
    plainEnv('FJ_DIST_MODE', 'name'),
    plainEnv('FJ_DIST_NODE_NAME', 'fishjam@$(POD_IP)'),
    plainEnv('FJ_DIST_QUERY', distQuery(ctx)),
    secretEnv('FJ_DIST_COOKIE', spec.dist.cookie),
    plainEnv('FJ_DIST_MIN_PORT', spec.dist.port),
    plainEnv('FJ_DIST_MAX_PORT', spec.dist.port),
    plainEnv('FJ_DIST_POLLING_INTERVAL', spec.dist.pollingIntervalMs),
    ...tls,
    plainEnv('FJ_WORKERS', spec.workers),
    plainEnv('FJ_WEBRTC_MIN_PORT', spec.webrtc.minPort),
    plainEnv('FJ_WEBRTC_MAX_PORT', spec.webrtc.maxPort),
    plainEnv('FJ_WEBRTC_ANNOUNCED_IP', announced),
    // Fishjam's web SDK only uses relay candidates: clients reach the node's TURN server at the same address, or
    // in PodNetwork mode the cluster's TURN Service.
    plainEnv('FJ_WEBRTC_TURN_IP', turnAddress),
    plainEnv('FJ_WEBRTC_TURN_PORT', spec.webrtc.turnPort),
    ...sharedTurn,
    plainEnv('FJ_DRAIN_TIMEOUT', spec.drainTimeoutSeconds),
    plainEnv('FJ_LOG_LEVEL', spec.logLevel),
    plainEnv('FJ_STRUCTURED_LOGGING', true),
    // The root filesystem is read-only: components write here (HLS output, recordings, sources of File components).
    plainEnv('FJ_RESOURCES_BASE_PATH', RESOURCES_MOUNT),
    ...spec.env,
  ];
}

function containerPorts(ctx: BuildContext): Record<string, unknown>[] {
  const { spec } = ctx;
  // With hostNetwork the kubelet requires hostPort == containerPort; listing them makes the scheduler keep one pod per node.
  const host = spec.exposure.mode === 'HostNetwork';
  const port = (name: string, containerPort: number, protocol = 'TCP') => ({
    ...(name ? { name } : {}),
    containerPort,
    protocol,
    ...(host ? { hostPort: containerPort } : {}),
  });
  return [
    port('http', spec.httpPort),
    port('metrics', spec.metrics.port),
    port('dist', spec.dist.port),
    port('port-mapper', spec.dist.portMapperPort),
    port('turn-udp', spec.webrtc.turnPort, 'UDP'),
    port('turn-tcp', spec.webrtc.turnPort, 'TCP'),
    ...webrtcPorts(ctx).flatMap((p, i) => [port(`rtc-udp-${i}`, p, 'UDP'), port(`rtc-tcp-${i}`, p, 'TCP')]),
  ];
}

/** User affinity plus, for hostNetwork, a hard rule of one media pod per node (their ports would collide). */
function affinity(ctx: BuildContext): Record<string, unknown> | undefined {
  const user = ctx.spec.affinity;
  if (ctx.spec.exposure.mode !== 'HostNetwork') return user;
  const anti = (user?.['podAntiAffinity'] ?? {}) as Record<string, unknown>;
  const required = (anti['requiredDuringSchedulingIgnoredDuringExecution'] ?? []) as unknown[];
  return {
    ...user,
    podAntiAffinity: {
      ...anti,
      requiredDuringSchedulingIgnoredDuringExecution: [
        ...required,
        { labelSelector: { matchLabels: ctx.selector }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  };
}

/** The media image's user (Dockerfile: USER 1000:1000). */
export const MEDIA_UID = 1000;
export const TMP_SIZE_LIMIT = '64Mi';
/** Where the media server's resources (component output) live: an emptyDir, the one writable place besides /tmp. */
export const RESOURCES_MOUNT = '/var/lib/fishjam';

/**
 * PodSecurity "restricted" (reconcile/pod-security.ts checks it): non-root, RuntimeDefault seccomp at pod level. In
 * HostNetwork mode the pod still breaks baseline's Host Namespaces and Host Ports, which no securityContext can fix.
 */
export const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: MEDIA_UID,
  runAsGroup: MEDIA_UID,
  fsGroup: MEDIA_UID,
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** No privilege escalation, read-only root, every capability dropped; NET_BIND_SERVICE only for a port below 1024. */
function containerSecurity(ctx: BuildContext): Record<string, unknown> {
  const { spec } = ctx;
  const ports = [spec.httpPort, spec.metrics.port, spec.dist.port, spec.dist.portMapperPort, spec.webrtc.turnPort, spec.webrtc.minPort];
  const lowPort = ports.some((p) => p < 1024);
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'], ...(lowPort ? { add: ['NET_BIND_SERVICE'] } : {}) },
  };
}

export function statefulSet(ctx: BuildContext, replicas: number): KubeObject {
  const { spec } = ctx;
  const hostNetwork = spec.exposure.mode === 'HostNetwork';
  const aff = affinity(ctx);
  const probe = (path: string, extra: Record<string, number>) => ({
    httpGet: { path, port: 'http' },
    ...extra,
  });
  const container = {
    name: 'media',
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    env: mediaEnv(ctx),
    ports: containerPorts(ctx),
    resources: spec.resources,
    startupProbe: probe('/livez', { periodSeconds: 2, failureThreshold: 60 }),
    livenessProbe: probe('/livez', { periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 }),
    readinessProbe: probe('/readyz', { periodSeconds: 3, timeoutSeconds: 2, failureThreshold: 1 }),
    lifecycle: { preStop: { exec: { command: DRAIN_COMMAND } } },
    securityContext: containerSecurity(ctx),
    volumeMounts: [
      // The root filesystem is read-only; the TURN server writes its configuration under the temp directory.
      { name: 'tmp', mountPath: '/tmp' },
      ...(spec.dist.tlsSecretName ? [{ name: 'dist-tls', mountPath: DIST_TLS_MOUNT, readOnly: true }] : []),
      { name: 'resources', mountPath: RESOURCES_MOUNT },
    ],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(ctx, ctx.names.statefulSet, { labels: { [COMPONENT_LABEL]: 'media' } }),
    spec: {
      replicas,
      serviceName: ctx.names.headless,
      // Nodes discover each other through DNS, so they need not start one after another.
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      selector: { matchLabels: ctx.selector },
      template: {
        metadata: {
          labels: { ...spec.podLabels, ...ctx.labels, [COMPONENT_LABEL]: 'media' },
          ...(Object.keys(spec.podAnnotations).length > 0 ? { annotations: spec.podAnnotations } : {}),
        },
        spec: {
          ...(hostNetwork ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
          terminationGracePeriodSeconds: spec.drainTimeoutSeconds + GRACE_MARGIN_SECONDS,
          // The media server never talks to the Kubernetes API.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [container],
          ...(spec.imagePullSecrets.length > 0 ? { imagePullSecrets: spec.imagePullSecrets } : {}),
          ...(Object.keys(spec.nodeSelector).length > 0 ? { nodeSelector: spec.nodeSelector } : {}),
          ...(spec.tolerations.length > 0 ? { tolerations: spec.tolerations } : {}),
          ...(aff ? { affinity: aff } : {}),
          securityContext: POD_SECURITY,
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
            // Group-readable: the files belong to root and the fsGroup; the server runs as that group.
            ...(spec.dist.tlsSecretName ? [{ name: 'dist-tls', secret: { secretName: spec.dist.tlsSecretName, defaultMode: 0o440 } }] : []),
            // Component output lives as long as the pod (a persistent recording meant to outlive it belongs in S3).
            { name: 'resources', emptyDir: {} },
          ],
        },
      },
    },
  };
}
