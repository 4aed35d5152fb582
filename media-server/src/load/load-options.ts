// The options of `npm run load`: argv -> one typed LoadOptions, or every problem at once (pure; tested with tables).

export interface LoadOptions {
  /** REST API base, e.g. http://localhost:5002 */
  url: string;
  token: string;
  rooms: number;
  publishers: number;
  subscribers: number;
  /** whole run, joins included, in seconds */
  durationS: number;
  video: boolean;
  audio: boolean;
  /** video bitrate of each publisher (kbit/s): 30 fps of 1100-byte packets */
  videoKbps: number;
  /** Prometheus endpoints read for the server's load; empty: `<url host>:9568/metrics` is tried */
  metrics: string[];
  /** peers joining at the same time */
  concurrency: number;
  /** list every subscriber in the report (default: all when there are at most 40) */
  verbose: boolean;
}

export const USAGE = `usage: npm run load -- --url <http(s)://host:port> --token <server API token> [options]

  --url <url>            REST API of any node of the deployment (required)
  --token <token>        its server API token (required; or FJ_SERVER_API_TOKEN)
  --rooms <n>            rooms (default 1)
  --publishers <n>       publishers per room (default 1)
  --subscribers <n>      subscribers per room (default 2)
  --duration <s>         run time, joins included (default 30; 30s, 2m accepted)
  --video / --no-video   publishers send a VP8-shaped video track (default on)
  --audio / --no-audio   publishers send an opus-shaped audio track (default on)
  --video-kbps <n>       video bitrate per publisher (default 1000)
  --metrics <url,...>    Prometheus endpoints of the nodes for the load ratio (default <url host>:9568/metrics)
  --concurrency <n>      peers joining at once (default 10)
  --verbose              one line per subscriber in the report`;

const DEFAULTS = { rooms: 1, publishers: 1, subscribers: 2, durationS: 30, videoKbps: 1000, concurrency: 10 };
const LIMITS = { rooms: 1000, publishers: 50, subscribers: 1000, durationS: 24 * 3600, videoKbps: 20_000, concurrency: 200 };

export type ParsedOptions = { ok: true; options: LoadOptions } | { ok: false; errors: string[] };

/** Every value-taking option, by its name without dashes. */
const VALUED = new Set(['url', 'token', 'rooms', 'publishers', 'subscribers', 'duration', 'video-kbps', 'metrics', 'concurrency', 'video', 'audio']);
const FLAGS = new Set(['video', 'audio', 'no-video', 'no-audio', 'verbose', 'help']);

/** `--name value`, `--name=value` and bare flags; unknown options and stray words are errors. */
function tokenize(argv: readonly string[]): { values: Map<string, string>; flags: Set<string>; errors: string[] } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      errors.push(`unexpected argument "${arg}" (options start with --)`);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (eq >= 0) {
      if (!VALUED.has(name)) errors.push(`unknown option --${name}`);
      else values.set(name, arg.slice(eq + 1));
      continue;
    }
    if (FLAGS.has(name)) {
      flags.add(name);
      continue;
    }
    if (!VALUED.has(name)) {
      errors.push(`unknown option --${name}`);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      errors.push(`--${name} needs a value`);
      continue;
    }
    values.set(name, next);
    i++;
  }
  return { values, flags, errors };
}

function count(values: Map<string, string>, name: keyof typeof DEFAULTS, option: string, min: number, errors: string[]): number {
  const raw = values.get(option);
  if (raw === undefined) return DEFAULTS[name];
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > LIMITS[name]) {
    errors.push(`--${option} must be a whole number from ${min} to ${LIMITS[name]}, got "${raw}"`);
    return DEFAULTS[name];
  }
  return n;
}

/** 45, 45s, 2m, 1h -> seconds; undefined when unreadable. */
export function parseDuration(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(raw.trim());
  if (!m) return undefined;
  const factor = m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1;
  return Number(m[1]) * factor;
}

function bool(raw: string | undefined, name: string, errors: string[]): boolean | undefined {
  if (raw === undefined) return undefined;
  if (/^(true|on|yes|1)$/i.test(raw)) return true;
  if (/^(false|off|no|0)$/i.test(raw)) return false;
  errors.push(`--${name} must be true or false, got "${raw}"`);
  return undefined;
}

function httpUrl(raw: string, what: string, errors: string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    errors.push(`${what} must be an http(s) URL like http://localhost:5002, got "${raw}"`);
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    errors.push(`${what} must use http or https, got "${parsed.protocol}"`);
    return undefined;
  }
  return parsed.href.replace(/\/+$/, '');
}

/** The default Prometheus endpoint: the API's host on port 9568 (FJ_METRICS_PORT's default). */
export function defaultMetricsUrl(apiUrl: string): string {
  const u = new URL(apiUrl);
  return `http://${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:9568/metrics`;
}

export function parseLoadOptions(argv: readonly string[], env: Record<string, string | undefined> = {}): ParsedOptions | { ok: 'help' } {
  const { values, flags, errors } = tokenize(argv);
  if (flags.has('help')) return { ok: 'help' };
  const rawUrl = values.get('url');
  const url = rawUrl === undefined ? (errors.push('--url is required (the REST API of the deployment, e.g. http://localhost:5002)'), undefined) : httpUrl(rawUrl, '--url', errors);
  const token = values.get('token') ?? env.FJ_SERVER_API_TOKEN;
  if (token === undefined || token === '') errors.push('--token is required (the server API token; FJ_SERVER_API_TOKEN is read when --token is absent)');
  const rooms = count(values, 'rooms', 'rooms', 1, errors);
  const publishers = count(values, 'publishers', 'publishers', 1, errors);
  const subscribers = count(values, 'subscribers', 'subscribers', 0, errors);
  const concurrency = count(values, 'concurrency', 'concurrency', 1, errors);
  const videoKbps = count(values, 'videoKbps', 'video-kbps', 30, errors);
  let durationS = DEFAULTS.durationS;
  const rawDuration = values.get('duration');
  if (rawDuration !== undefined) {
    const d = parseDuration(rawDuration);
    if (d === undefined || d < 1 || d > LIMITS.durationS) errors.push(`--duration must be seconds from 1 to ${LIMITS.durationS} (45, 45s, 2m or 1h), got "${rawDuration}"`);
    else durationS = d;
  }
  const video = flags.has('no-video') ? false : (bool(values.get('video'), 'video', errors) ?? true);
  const audio = flags.has('no-audio') ? false : (bool(values.get('audio'), 'audio', errors) ?? true);
  if ((flags.has('no-video') && (flags.has('video') || values.has('video'))) || (flags.has('no-audio') && (flags.has('audio') || values.has('audio')))) {
    errors.push('--video/--audio and --no-video/--no-audio contradict each other');
  }
  if (!video && !audio) errors.push('publishers need a track: --no-video and --no-audio cannot both be given');
  const metrics: string[] = [];
  for (const raw of (values.get('metrics') ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = httpUrl(raw, '--metrics', errors);
    if (m) metrics.push(m);
  }
  const peers = rooms * (publishers + subscribers);
  if (errors.length === 0 && peers > 2000) errors.push(`${peers} peers (rooms x (publishers + subscribers)) is more than one load process can hold (2000)`);
  if (errors.length > 0 || url === undefined || token === undefined) return { ok: false, errors };
  return {
    ok: true,
    options: { url, token, rooms, publishers, subscribers, durationS, video, audio, videoKbps, metrics, concurrency, verbose: flags.has('verbose') },
  };
}
