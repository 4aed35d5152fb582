// Reads the few unlabelled gauges the status needs from a Prometheus text exposition (format 0.0.4).
// Labelled series, comments and unknown names are skipped; a malformed value makes the metric absent.

export const LOAD_METRICS = {
  rooms: 'fishjam_rooms',
  peers: 'fishjam_peers',
  forwardedTracks: 'fishjam_forwarded_tracks',
  draining: 'fishjam_node_draining',
} as const;

export interface NodeLoad {
  rooms: number | undefined;
  peers: number | undefined;
  forwardedTracks: number | undefined;
  draining: boolean | undefined;
}

/** Values of unlabelled samples ("name value [timestamp]" or "name{} value"), by metric name. */
export function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{\s*\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
    if (!m) continue;
    const value = parseValue(m[3]!);
    if (value !== undefined) samples.set(m[1]!, value);
  }
  return samples;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

const count = (v: number | undefined) => (v === undefined || v < 0 ? undefined : Math.round(v));

export function nodeLoad(text: string): NodeLoad {
  const s = parseSamples(text);
  const draining = s.get(LOAD_METRICS.draining);
  return {
    rooms: count(s.get(LOAD_METRICS.rooms)),
    peers: count(s.get(LOAD_METRICS.peers)),
    forwardedTracks: count(s.get(LOAD_METRICS.forwardedTracks)),
    draining: draining === undefined ? undefined : draining >= 1,
  };
}
