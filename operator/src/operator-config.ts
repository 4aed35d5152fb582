// The operator's own settings, from its environment (set by the Helm chart). Pure and validated: a bad value
// stops the start with a message naming the variable.
import type { OperatorDefaults } from './api/defaults.js';

export interface OperatorConfig {
  operator: OperatorDefaults;
  /** Namespaces whose FishjamClusters are managed; undefined = all namespaces. */
  watchNamespaces: string[] | undefined;
  leaderElection: boolean;
  leaseName: string;
  metricsPort: number;
  statusIntervalMs: number;
  statusLoadIntervalMs: number;
  resyncIntervalMs: number;
  logLevel: string;
  /** Deadline of every API call. */
  apiTimeoutMs: number;
  lease: { durationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** A watch with no event (bookmarks included) for this long is restarted. */
  watchSilenceMs: number;
  /** SIGTERM exits after this long even if stopping is not finished. */
  shutdownTimeoutMs: number;
}

function int(env: Record<string, string | undefined>, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

function bool(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

/** "a=b,c=d" -> { a: 'b', c: 'd' } */
function labels(env: Record<string, string | undefined>, name: string, fallback: Record<string, string>): Record<string, string> {
  const raw = env[name];
  if (!raw) return fallback;
  return Object.fromEntries(
    raw.split(',').map((pair) => {
      const [k, v] = pair.split('=');
      if (!k || v === undefined) throw new Error(`${name} must look like key=value,key=value, got "${raw}"`);
      return [k.trim(), v.trim()];
    }),
  );
}

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** WATCH_NAMESPACES="a,b" (or the older single WATCH_NAMESPACE); empty = all namespaces. */
function namespaces(env: Record<string, string | undefined>): string[] | undefined {
  const raw = [env['WATCH_NAMESPACES'], env['WATCH_NAMESPACE']].filter(Boolean).join(',');
  const list = [...new Set(raw.split(',').map((n) => n.trim()).filter(Boolean))];
  for (const n of list) {
    if (n.length > 63 || !NAMESPACE_NAME.test(n)) throw new Error(`WATCH_NAMESPACES must list namespace names separated by commas, got "${n}"`);
  }
  return list.length > 0 ? list : undefined;
}

export function readOperatorConfig(env: Record<string, string | undefined>): OperatorConfig {
  const operatorNamespace = env['OPERATOR_NAMESPACE'] || env['POD_NAMESPACE'] || 'fishjam-system';
  return {
    operator: {
      image: env['FISHJAM_DEFAULT_IMAGE'] || 'ghcr.io/fishjam-ts/media-server:latest',
      clusterDomain: env['CLUSTER_DOMAIN'] || 'cluster.local',
      operatorNamespace,
      operatorPodLabels: labels(env, 'OPERATOR_POD_LABELS', { 'app.kubernetes.io/name': 'fishjam-operator' }),
    },
    watchNamespaces: namespaces(env),
    leaderElection: bool(env, 'LEADER_ELECTION', true),
    leaseName: env['LEADER_ELECTION_LEASE'] || 'fishjam-operator-leader',
    metricsPort: int(env, 'METRICS_PORT', 8080, 1),
    statusIntervalMs: int(env, 'STATUS_INTERVAL_MS', 5000, 500),
    statusLoadIntervalMs: int(env, 'STATUS_LOAD_INTERVAL_MS', 60_000, 0),
    resyncIntervalMs: int(env, 'RESYNC_INTERVAL_MS', 300_000, 10_000),
    logLevel: env['LOG_LEVEL'] || 'info',
    apiTimeoutMs: int(env, 'API_TIMEOUT_MS', 10_000, 100),
    lease: leaseTimings(env),
    watchSilenceMs: int(env, 'WATCH_SILENCE_MS', 150_000, 100),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 5_000, 100),
  };
}

/** client-go's rule: retry period < renew deadline < lease duration, or two leaders could overlap. */
function leaseTimings(env: Record<string, string | undefined>): OperatorConfig['lease'] {
  const durationMs = int(env, 'LEASE_DURATION_MS', 15_000, 1000);
  const renewDeadlineMs = int(env, 'LEASE_RENEW_DEADLINE_MS', 10_000, 100);
  const retryPeriodMs = int(env, 'LEASE_RETRY_PERIOD_MS', 2_000, 50);
  if (!(retryPeriodMs < renewDeadlineMs && renewDeadlineMs < durationMs)) {
    throw new Error(
      `LEASE_RETRY_PERIOD_MS (${retryPeriodMs}) < LEASE_RENEW_DEADLINE_MS (${renewDeadlineMs}) < LEASE_DURATION_MS (${durationMs}) must hold`,
    );
  }
  return { durationMs, renewDeadlineMs, retryPeriodMs };
}
