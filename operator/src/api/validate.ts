// Whole-spec validation: the schema first (what the CRD also enforces), then rules across fields that the
// CRD cannot express, or only with CEL that older clusters ignore. An invalid spec becomes a condition, never a crash.
import { DEFAULT_EXPOSURE_MODE, DEFAULTS, workersFor } from './defaults.js';
import { podCidrProblem } from './pod-cidr.js';
import { checkSchema, type FieldError } from './schema-check.js';
import { specSchema } from './schema.js';
import type { FishjamClusterSpec } from './types.js';

/** Variables the operator sets; overriding them through spec.env would break discovery or auth. */
export const OPERATOR_ENV = [
  'FJ_MODE', 'FJ_IP', 'FJ_PORT', 'FJ_HOST', 'FJ_METRICS_IP', 'FJ_METRICS_PORT', 'FJ_SERVER_API_TOKEN',
  'FJ_SECRET_KEY_BASE', 'FJ_DIST_ENABLED', 'FJ_DIST_STRATEGY_NAME', 'FJ_DIST_MODE', 'FJ_DIST_NODE_NAME',
  'FJ_DIST_QUERY', 'FJ_DIST_COOKIE', 'FJ_DIST_MIN_PORT', 'FJ_DIST_MAX_PORT', 'FJ_DIST_POLLING_INTERVAL',
  'FJ_DIST_TLS_CERT_PATH', 'FJ_DIST_TLS_KEY_PATH', 'FJ_DIST_TLS_CA_PATH', 'FJ_WORKERS', 'FJ_WEBRTC_MIN_PORT',
  'FJ_WEBRTC_MAX_PORT', 'FJ_WEBRTC_ANNOUNCED_IP', 'FJ_WEBRTC_TURN_PORT', 'FJ_WEBRTC_TURN_IP', 'FJ_WEBRTC_TURN_SECRET',
  'FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS', 'FJ_DRAIN_TIMEOUT', 'POD_NAME', 'POD_IP', 'HOST_IP', 'POD_NAMESPACE',
] as const;

const TEMPLATE_VARS = new Set(['POD_NAME', 'POD_IP', 'HOST_IP', 'POD_NAMESPACE']);

function templateErrors(path: string, template: string | undefined): FieldError[] {
  if (template === undefined) return [];
  const unknown = [...template.matchAll(/\$\(([^)]*)\)/g)].map((m) => m[1]!).filter((v) => !TEMPLATE_VARS.has(v));
  return unknown.length === 0
    ? []
    : [{ path, message: `uses $(${unknown[0]}); only $(POD_NAME), $(POD_IP), $(HOST_IP), $(POD_NAMESPACE) are expanded` }];
}

function crossFieldErrors(spec: FishjamClusterSpec): FieldError[] {
  const errors: FieldError[] = [];
  const mode = spec.exposure?.mode ?? DEFAULT_EXPOSURE_MODE;
  if (mode === 'PodNetwork') {
    const cidrs = spec.exposure?.podCidrs ?? [];
    if (cidrs.length === 0) {
      errors.push({
        path: 'spec.exposure.podCidrs',
        message: 'is required with PodNetwork (the default mode): the cluster\'s pod network, e.g. ["10.244.0.0/16"] on kind; or choose exposure.mode HostNetwork or ServicePerPod',
      });
    }
    cidrs.forEach((cidr, i) => {
      const problem = podCidrProblem(cidr);
      if (problem) errors.push({ path: `spec.exposure.podCidrs[${i}]`, message: `${JSON.stringify(cidr)} ${problem}` });
    });
    if (spec.exposure?.announcedAddressTemplate) {
      errors.push({ path: 'spec.exposure.announcedAddressTemplate', message: 'is only used with ServicePerPod; PodNetwork announces the pod IP and the TURN entry\'s address (exposure.turn.address)' });
    }
    if (spec.exposure?.servicePerPod) {
      errors.push({ path: 'spec.exposure.servicePerPod', message: 'is only used with ServicePerPod; PodNetwork has one TURN Service (exposure.turn)' });
    }
  } else {
    if (spec.exposure?.podCidrs) errors.push({ path: 'spec.exposure.podCidrs', message: `is only used with PodNetwork, not ${mode}` });
    if (spec.exposure?.turn) errors.push({ path: 'spec.exposure.turn', message: `is only used with PodNetwork, not ${mode} (its pods each have their own TURN address)` });
  }
  if (mode === 'ServicePerPod') {
    if (!spec.exposure?.hostTemplate) {
      errors.push({ path: 'spec.exposure.hostTemplate', message: 'is required with ServicePerPod (e.g. "$(POD_NAME).media.example.com:443")' });
    }
    if (!spec.exposure?.announcedAddressTemplate) {
      errors.push({ path: 'spec.exposure.announcedAddressTemplate', message: 'is required with ServicePerPod (the per-pod load balancer address)' });
    }
  }
  if (mode === 'HostNetwork' && spec.exposure?.announcedAddressTemplate) {
    errors.push({ path: 'spec.exposure.announcedAddressTemplate', message: 'is only used with ServicePerPod; HostNetwork announces the node IP' });
  }
  errors.push(...templateErrors('spec.exposure.hostTemplate', spec.exposure?.hostTemplate));
  errors.push(...templateErrors('spec.exposure.announcedAddressTemplate', spec.exposure?.announcedAddressTemplate));

  const workers = spec.workers ?? workersFor(spec.resources);
  const minPort = spec.webrtc?.minPort ?? DEFAULTS.webrtcMinPort;
  const maxPort = spec.webrtc?.maxPort ?? minPort + workers - 1;
  if (maxPort > 65535) {
    errors.push({ path: 'spec.webrtc.minPort', message: `${minPort} + ${workers} workers runs past port 65535` });
  } else if (maxPort - minPort + 1 < workers) {
    errors.push({
      path: 'spec.webrtc.maxPort',
      message: `range ${minPort}-${maxPort} has ${Math.max(0, maxPort - minPort + 1)} ports, fewer than the ${workers} workers (one port each)`,
    });
  }

  // The TURN listener takes its port in both UDP and TCP, so it may share a number with none of the TCP ports either.
  const turnPort = spec.webrtc?.turnPort ?? DEFAULTS.turnPort;
  const ports: [string, number][] = [
    ['spec.httpPort', spec.httpPort ?? DEFAULTS.httpPort],
    ['spec.metrics.port', spec.metrics?.port ?? DEFAULTS.metricsPort],
    ['spec.dist.port', spec.dist?.port ?? DEFAULTS.distPort],
    ['spec.dist.portMapperPort', spec.dist?.portMapperPort ?? DEFAULTS.portMapperPort],
    ['spec.webrtc.turnPort', turnPort],
  ];
  ports.forEach(([path, p], i) => {
    const clash = ports.slice(0, i).find(([, q]) => q === p);
    if (clash) errors.push({ path, message: `port ${p} is already used by ${clash[0]}` });
    if (p >= minPort && p <= maxPort) errors.push({ path, message: `port ${p} falls inside the WebRTC range ${minPort}-${maxPort}` });
  });
  // The TURN server's relay ports (FJ_WEBRTC_TURN_PORT_RANGE, the media server's default unless spec.env sets it)
  // are bound inside the pod too: neither the TURN listener nor the WebRTC ports may fall among them.
  const relay = turnRelayRange(spec.env ?? []);
  if (turnPort >= relay.min && turnPort <= relay.max) {
    errors.push({ path: 'spec.webrtc.turnPort', message: `port ${turnPort} falls inside the TURN relay range ${relay.min}-${relay.max}` });
  }
  if (maxPort <= 65535 && minPort <= relay.max && maxPort >= relay.min) {
    errors.push({ path: 'spec.webrtc.minPort', message: `WebRTC range ${minPort}-${maxPort} overlaps the TURN relay range ${relay.min}-${relay.max}` });
  }

  const reserved = new Set<string>(OPERATOR_ENV);
  (spec.env ?? []).forEach((e, i) => {
    if (reserved.has(e.name)) errors.push({ path: `spec.env[${i}].name`, message: `${e.name} is set by the operator` });
  });
  return errors;
}

/** FJ_WEBRTC_TURN_PORT_RANGE from spec.env when it is given as "<min>-<max>", else the media server's default. */
export function turnRelayRange(env: readonly { name: string; value?: string }[]): { min: number; max: number } {
  const given = env.find((e) => e.name === 'FJ_WEBRTC_TURN_PORT_RANGE')?.value;
  const m = given === undefined ? null : /^(\d+)-(\d+)$/.exec(given.trim());
  return m ? { min: Number(m[1]), max: Number(m[2]) } : { min: DEFAULTS.turnRelayMinPort, max: DEFAULTS.turnRelayMaxPort };
}

export function validateSpec(spec: unknown): FieldError[] {
  // No spec at all is the defaults, which PodNetwork's rules apply to too.
  if (spec === undefined) return crossFieldErrors({});
  const schemaErrors = checkSchema(spec, specSchema);
  // Cross-field rules assume the types are right; report type errors alone first.
  return schemaErrors.length > 0 ? schemaErrors : crossFieldErrors(spec as FishjamClusterSpec);
}

export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path} ${e.message}`).join('; ');
}
