// FJ_* environment -> one frozen, typed Config. Pure: the environment, host facts and randomness are passed in.
// Every problem is collected (not just the first) and names the variable and the expected form.
import path from 'node:path';
import { isIP } from 'node:net';
import { cidrRange, inRange } from '../turn/peer-cidr.js';
import { EnvReader } from './env-reader.js';
import { parseS3Env, type S3Config } from './s3-env.js';

export type Mode = 'development' | 'production';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export type DistStrategy = 'NODES_LIST' | 'DNS';
export type DistMode = 'sname' | 'name';

export interface DistConfig {
  readonly enabled: boolean;
  readonly strategy: DistStrategy;
  readonly mode: DistMode;
  /** `<name>@<host>`; for DNS the host is resolved to an IP at start-up (cluster/). */
  readonly nodeName: string;
  readonly cookie: string;
  readonly cookieIsDefault: boolean;
  readonly nodes: readonly string[];
  readonly query: string | undefined;
  readonly pollingIntervalMs: number;
  /** Undefined outside the image: the dist listener then takes any free port. */
  readonly minPort: number | undefined;
  readonly maxPort: number | undefined;
  readonly tls: { readonly certPath: string; readonly keyPath: string; readonly caPath: string | undefined } | undefined;
  /** TCP port of the port mapper (EPMD's 4369; changeable for tests) */
  readonly portMapperPort: number;
}

export interface TurnConfig {
  /** coturn's turnserver binary */
  readonly binary: string;
  readonly listenIp: string;
  /** what clients are told; undefined: the WebRTC announced address */
  readonly announcedIp: string | undefined;
  readonly port: number;
  readonly relayMinPort: number;
  readonly relayMaxPort: number;
  /**
   * FJ_WEBRTC_TURN_SECRET: the TURN REST API secret shared by every node behind one TURN entry, so credentials minted
   * by any node are accepted by whichever node's TURN server a client reaches. Undefined: a random one per start.
   */
  readonly secret: string | undefined;
  /** FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: relay also to these networks (the cluster's pods), besides this node's own address. */
  readonly allowedPeerCidrs: readonly string[];
}

export interface WebRtcConfig {
  readonly listenIp: string;
  /** Undefined: announce the listen IP (or, when it is 0.0.0.0, the first external IPv4). */
  readonly announcedIp: string | undefined;
  readonly minPort: number;
  readonly maxPort: number;
  readonly turn: TurnConfig;
}

export interface Config {
  readonly mode: Mode;
  readonly serverApiToken: string;
  readonly ip: string;
  readonly port: number;
  readonly host: string;
  readonly ssl: { readonly keyPath: string; readonly certPath: string } | undefined;
  readonly secretKeyBase: string;
  readonly checkOrigin: boolean;
  readonly metricsIp: string;
  readonly metricsPort: number;
  readonly resourcesBasePath: string;
  readonly componentsUsed: readonly string[];
  /** FJ_SIP_IP: the address SIP components put in their SDP and headers (required when `sip` is used) */
  readonly sipIp: string | undefined;
  readonly webrtcUsed: boolean;
  readonly logLevel: LogLevel;
  readonly structuredLogging: boolean;
  readonly gitCommit: string;
  readonly workers: number;
  readonly workerMaxConsumers: number;
  readonly webrtc: WebRtcConfig;
  readonly drainTimeoutMs: number;
  readonly dist: DistConfig;
  /** FJ_WEBHOOK_ALLOW_PRIVATE: webhooks may go to loopback, private, link-local and other non-public addresses. */
  readonly webhookAllowPrivate: boolean;
  /** FJ_DEMO_ENABLED (default: on in development only): the /demo and /check pages and the demo peer endpoint. */
  readonly demoEnabled: boolean;
  /** FJ_S3_*: credentials for the Recording component, and where every S3 upload goes */
  readonly s3: S3Config;
}

export interface HostFacts {
  readonly hostname: string;
  readonly cpuCount: number;
  /** Used when FJ_SECRET_KEY_BASE is unset. */
  readonly randomSecret: () => string;
  /** What a relative FJ_RESOURCES_BASE_PATH is relative to (default: the process's working directory). */
  readonly cwd?: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[]; readonly warnings: readonly string[] };

export const DEFAULT_COOKIE = 'fishjam_cookie';
const COMPONENTS = ['hls', 'recording', 'rtsp', 'file', 'sip'];
const NODE_NAME_RE = /^[A-Za-z0-9_-]+@[^@\s]+$/;

export function parseConfig(env: Readonly<Record<string, string | undefined>>, host: HostFacts): ConfigResult {
  const r = new EnvReader(env);
  const mode = r.oneOf('FJ_MODE', ['development', 'production'] as const, 'production');
  const dev = mode === 'development';

  let serverApiToken = r.string('FJ_SERVER_API_TOKEN');
  if (serverApiToken === undefined) {
    if (dev) {
      serverApiToken = 'development';
      r.warn('FJ_SERVER_API_TOKEN is not set: using "development" (development mode only; never in production)');
    } else {
      r.fail('FJ_SERVER_API_TOKEN is required in production mode (set FJ_MODE=development for local use)');
    }
  }

  const ip = r.ip('FJ_IP', dev ? '127.0.0.1' : '0.0.0.0');
  const port = r.port('FJ_PORT', dev ? 5002 : 8080);
  const hostAddr = r.string('FJ_HOST') ?? (dev ? `localhost:${port}` : `${ip}:${port}`);

  const sslKey = r.string('FJ_SSL_KEY_PATH');
  const sslCert = r.string('FJ_SSL_CERT_PATH');
  if ((sslKey === undefined) !== (sslCert === undefined)) {
    r.fail('FJ_SSL_KEY_PATH and FJ_SSL_CERT_PATH must be set together (paths to a PEM key and certificate)');
  }

  let secretKeyBase = r.string('FJ_SECRET_KEY_BASE');
  if (secretKeyBase === undefined) {
    secretKeyBase = host.randomSecret();
  } else if (secretKeyBase.length < 32) {
    r.fail(`FJ_SECRET_KEY_BASE must be at least 32 characters long, got ${secretKeyBase.length}`);
  }

  const componentsUsed = r.list('FJ_COMPONENTS_USED', ' ');
  for (const c of componentsUsed) {
    if (!COMPONENTS.includes(c)) r.fail(`Invalid value in FJ_COMPONENTS_USED. Expected a lowercase component name, got: ${c}`);
  }

  // As the original: required and checked only when SIP components are allowed.
  let sipIp: string | undefined;
  if (componentsUsed.includes('sip')) {
    sipIp = r.string('FJ_SIP_IP');
    if (sipIp === undefined || isIP(sipIp) === 0) r.fail('SIP components are allowed, but incorrect IP address was provided as `FJ_SIP_IP`');
  }

  const listenIp = r.ip('FJ_WEBRTC_LISTEN_IP', ip);
  const webrtcAnnouncedIp = r.string('FJ_WEBRTC_ANNOUNCED_IP');
  const webrtcMin = r.port('FJ_WEBRTC_MIN_PORT', 50000);
  const webrtcMax = r.port('FJ_WEBRTC_MAX_PORT', 50999);
  if (webrtcMin > webrtcMax) r.fail(`FJ_WEBRTC_MIN_PORT (${webrtcMin}) must not be greater than FJ_WEBRTC_MAX_PORT (${webrtcMax})`);

  const workers = r.int('FJ_WORKERS', Math.max(1, host.cpuCount), { min: 1, max: 256 });
  if (webrtcMin <= webrtcMax && webrtcMax - webrtcMin + 1 < workers) {
    r.fail(`FJ_WEBRTC_MIN_PORT..FJ_WEBRTC_MAX_PORT holds ${webrtcMax - webrtcMin + 1} ports but FJ_WORKERS is ${workers}: each worker needs one`);
  }

  const config: Config = {
    mode,
    serverApiToken: serverApiToken ?? '',
    ip,
    port,
    host: hostAddr,
    ssl: sslKey !== undefined && sslCert !== undefined ? { keyPath: sslKey, certPath: sslCert } : undefined,
    secretKeyBase,
    checkOrigin: r.bool('FJ_CHECK_ORIGIN', true),
    metricsIp: r.ip('FJ_METRICS_IP', '127.0.0.1'),
    metricsPort: r.port('FJ_METRICS_PORT', 9568),
    // As the original: relative to the working directory, made absolute once here.
    resourcesBasePath: path.resolve(host.cwd ?? process.cwd(), r.string('FJ_RESOURCES_BASE_PATH') ?? 'fishjam_resources'),
    componentsUsed,
    sipIp,
    webrtcUsed: r.bool('FJ_WEBRTC_USED', true),
    logLevel: r.oneOf('FJ_LOG_LEVEL', ['info', 'debug', 'warning', 'error'] as const, 'info'),
    structuredLogging: r.bool('FJ_STRUCTURED_LOGGING', false),
    gitCommit: r.string('FJ_GIT_COMMIT') ?? 'dev',
    workers,
    workerMaxConsumers: r.int('FJ_WORKER_MAX_CONSUMERS', 500, { min: 1 }),
    webrtc: {
      listenIp,
      announcedIp: webrtcAnnouncedIp,
      minPort: webrtcMin,
      maxPort: webrtcMax,
      turn: parseTurn(r, listenIp, webrtcAnnouncedIp),
    },
    drainTimeoutMs: r.int('FJ_DRAIN_TIMEOUT', 30, { min: 0, max: 86_400 }) * 1000,
    dist: parseDist(r, host),
    webhookAllowPrivate: r.bool('FJ_WEBHOOK_ALLOW_PRIVATE', false),
    demoEnabled: r.bool('FJ_DEMO_ENABLED', dev),
    s3: parseS3Env(r),
  };
  r.bool('FJ_FEATURE_FLAG_REQUEST_ROUTING_ENABLED', true); // accepted for compatibility; routing is always on here

  const { errors, warnings } = r.result();
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config: deepFreeze(config), warnings };
}

function parseDist(r: EnvReader, host: HostFacts): DistConfig {
  const enabled = r.bool('FJ_DIST_ENABLED', false);
  const strategy = r.oneOf('FJ_DIST_STRATEGY_NAME', ['NODES_LIST', 'DNS'] as const, 'NODES_LIST');
  const mode = r.oneOf('FJ_DIST_MODE', ['sname', 'name'] as const, 'sname');
  const nodeName = r.string('FJ_DIST_NODE_NAME') ?? `fishjam@${host.hostname}`;
  const cookieRaw = r.string('FJ_DIST_COOKIE');
  const nodes = r.list('FJ_DIST_NODES', ' ');
  const query = r.string('FJ_DIST_QUERY');
  const pollingIntervalMs = r.int('FJ_DIST_POLLING_INTERVAL', 5000, { min: 1 });
  const minPort = r.optionalPort('FJ_DIST_MIN_PORT');
  const maxPort = r.optionalPort('FJ_DIST_MAX_PORT');
  const certPath = r.string('FJ_DIST_TLS_CERT_PATH');
  const keyPath = r.string('FJ_DIST_TLS_KEY_PATH');
  const caPath = r.string('FJ_DIST_TLS_CA_PATH');

  if (enabled) {
    if (!NODE_NAME_RE.test(nodeName)) {
      r.fail(`FJ_DIST_NODE_NAME has to be in form of <nodename>@<hostname>. Got: ${nodeName}`);
    } else if (mode === 'sname' && nodeName.split('@')[1]!.includes('.') && !/^\d+\.\d+\.\d+\.\d+$/.test(nodeName.split('@')[1]!)) {
      r.fail(`FJ_DIST_NODE_NAME: a short name (FJ_DIST_MODE=sname) cannot have a dotted host, got: ${nodeName}; use FJ_DIST_MODE=name`);
    }
    for (const n of nodes) {
      if (!NODE_NAME_RE.test(n)) r.fail(`FJ_DIST_NODES: "${n}" is not in form of <nodename>@<hostname>`);
    }
    if (strategy === 'DNS') {
      if (mode !== 'name') r.fail('DNS strategy requires `FJ_DIST_MODE` to be `name`');
      if (query === undefined) r.fail('FJ_DIST_QUERY is required by DNS strategy');
    }
    if (strategy === 'NODES_LIST' && nodes.length === 0) {
      r.warn('FJ_DIST_NODES is empty: this node will only join a cluster when another node connects to it');
    }
    if (cookieRaw === undefined) r.warn('FJ_DIST_COOKIE is not set: the cookie is derived from FJ_SERVER_API_TOKEN (every node of the cluster needs the same token)');
  }
  if ((minPort === undefined) !== (maxPort === undefined)) {
    r.fail('FJ_DIST_MIN_PORT and FJ_DIST_MAX_PORT must be set together (a port range, e.g. 9000 and 9000)');
  } else if (minPort !== undefined && maxPort !== undefined && minPort > maxPort) {
    r.fail(`FJ_DIST_MIN_PORT (${minPort}) must not be greater than FJ_DIST_MAX_PORT (${maxPort})`);
  }
  if ((certPath === undefined) !== (keyPath === undefined)) {
    r.fail('FJ_DIST_TLS_CERT_PATH and FJ_DIST_TLS_KEY_PATH must be set together (PEM certificate and key paths)');
  }
  return {
    enabled,
    strategy,
    mode,
    nodeName,
    cookie: cookieRaw ?? DEFAULT_COOKIE,
    cookieIsDefault: cookieRaw === undefined,
    nodes,
    query,
    pollingIntervalMs,
    minPort,
    maxPort,
    tls: certPath !== undefined && keyPath !== undefined ? { certPath, keyPath, caPath } : undefined,
    portMapperPort: r.port('FJ_DIST_PORT_MAPPER_PORT', 4369),
  };
}

function parseTurn(r: EnvReader, webrtcListenIp: string, webrtcAnnounced: string | undefined): TurnConfig {
  const range = r.string('FJ_WEBRTC_TURN_PORT_RANGE') ?? '51000-51999';
  const match = /^(\d+)-(\d+)$/.exec(range);
  let [relayMinPort, relayMaxPort] = [51000, 51999];
  if (!match || Number(match[1]) < 1 || Number(match[2]) > 65535 || Number(match[1]) > Number(match[2])) {
    r.fail(`FJ_WEBRTC_TURN_PORT_RANGE must be "<min>-<max>" with 1 <= min <= max <= 65535, got: ${range}`);
  } else {
    [relayMinPort, relayMaxPort] = [Number(match[1]), Number(match[2])];
  }
  r.optionalPort('FJ_WEBRTC_TURN_TCP_PORT'); // the original's separate TCP listener; ours serves TCP on FJ_WEBRTC_TURN_PORT
  const secret = r.string('FJ_WEBRTC_TURN_SECRET');
  if (secret !== undefined && (secret.length < MIN_TURN_SECRET || /[\s#]/.test(secret))) {
    // coturn reads it from a configuration file line: no whitespace or comment sign, and long enough to resist guessing
    r.fail(`FJ_WEBRTC_TURN_SECRET must be at least ${MIN_TURN_SECRET} characters without spaces or "#", got ${secret.length} characters`);
  }
  const allowedPeerCidrs = r.list('FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS', ',').flatMap((c) => c.split(/\s+/)).filter((c) => c.length > 0);
  for (const cidr of allowedPeerCidrs) {
    const parsed = cidrRange(cidr);
    if (!parsed.ok) r.fail(`FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: ${parsed.reason}`);
  }
  // The other nodes' TURN servers relay to this node only inside these networks: a node announced outside them would
  // get media only from clients whose allocation happens to land on its own TURN server.
  const ranges = allowedPeerCidrs.map(cidrRange).flatMap((c) => (c.ok ? [c.range] : []));
  if (ranges.length === allowedPeerCidrs.length && ranges.length > 0 && webrtcAnnounced !== undefined && isIP(webrtcAnnounced) === 4 && !ranges.some((range) => inRange(webrtcAnnounced, range))) {
    r.fail(`FJ_WEBRTC_ANNOUNCED_IP ${webrtcAnnounced} is outside FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS (${allowedPeerCidrs.join(', ')}): the other nodes' TURN servers could not relay to this node; give the pod network this address belongs to`);
  }
  if (allowedPeerCidrs.length > 0 && secret === undefined) {
    r.fail('FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS lets this TURN server relay to other nodes, which only works behind one TURN entry with FJ_WEBRTC_TURN_SECRET shared by every node; set it (the same value on all nodes)');
  }
  return {
    binary: r.string('FJ_WEBRTC_TURN_BIN') ?? 'turnserver',
    listenIp: r.ip('FJ_WEBRTC_TURN_LISTEN_IP', webrtcListenIp),
    announcedIp: r.string('FJ_WEBRTC_TURN_IP'),
    port: r.port('FJ_WEBRTC_TURN_PORT', 3478),
    relayMinPort,
    relayMaxPort,
    secret,
    allowedPeerCidrs,
  };
}

/** Shortest FJ_WEBRTC_TURN_SECRET accepted (the operator generates 32 random bytes). */
export const MIN_TURN_SECRET = 16;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
