// Options of an RTSP component (shared/spec/fishjam-components.md 6.3), checked as the original casts them: a missing
// `sourceUri` names the field; a value of the wrong type or range is a 400 `Invalid request body structure`. Pure.
// Beyond the original, on purpose: `sourceUri` must be an rtsp:// URI of at most MAX_SOURCE_URI_LENGTH characters with
// no control characters (the original accepts any string and retries it forever; ours refuses what cannot be a camera,
// and the URI travels to ffmpeg inside a script, so nothing in it may start a new line there).
import { DomainError } from '../rooms/domain-errors.js';

export const MAX_SOURCE_URI_LENGTH = 2048;
/** The original's defaults. */
export const DEFAULT_RTP_PORT = 20000;
export const DEFAULT_RECONNECT_DELAY_MS = 15000;
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 15000;
/** Longest delay or interval accepted: a day (a number that large is a mistake; it also keeps timers in range). */
export const MAX_DELAY_MS = 24 * 3600 * 1000;

export interface RtspSpec {
  /** as given, credentials included (echoed in properties, as the original does; never logged or put on a command line) */
  readonly sourceUri: string;
  readonly rtpPort: number;
  readonly reconnectDelay: number;
  readonly keepAliveInterval: number;
  readonly pierceNat: boolean;
}

const INVALID_BODY = 'Invalid request body structure';

export function parseRtspOptions(options: Record<string, unknown>): RtspSpec {
  const sourceUri = options.sourceUri;
  if (sourceUri === undefined || sourceUri === null) throw new DomainError('invalid_component', 'Required field "sourceUri" missing');
  if (typeof sourceUri !== 'string') invalid();
  if (!isRtspUri(sourceUri)) throw new DomainError('invalid_component', 'Invalid source URI: expected rtsp://host[:port]/path');
  return {
    sourceUri,
    rtpPort: integerIn(options.rtpPort, DEFAULT_RTP_PORT, 1, 65535),
    reconnectDelay: integerIn(options.reconnectDelay, DEFAULT_RECONNECT_DELAY_MS, 0, MAX_DELAY_MS),
    keepAliveInterval: integerIn(options.keepAliveInterval, DEFAULT_KEEP_ALIVE_INTERVAL_MS, 0, MAX_DELAY_MS),
    pierceNat: optionalBoolean(options.pierceNat, true),
  };
}

/** The original's properties: all five options with defaults filled. */
export function rtspProperties(spec: RtspSpec): Record<string, unknown> {
  return {
    sourceUri: spec.sourceUri,
    rtpPort: spec.rtpPort,
    reconnectDelay: spec.reconnectDelay,
    keepAliveInterval: spec.keepAliveInterval,
    pierceNat: spec.pierceNat,
  };
}

export function isRtspUri(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (value.length > MAX_SOURCE_URI_LENGTH || /[\u0000-\u0020\u007f]/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'rtsp:' && url.hostname.length > 0;
}

/** The URI with its user and password replaced, for logs. */
export function redactUri(value: string): string {
  return value.replace(/(\/\/)[^/@\s]*@/g, '$1***@');
}

function integerIn(value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) invalid();
  return value as number;
}

function optionalBoolean(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') invalid();
  return value as boolean;
}

function invalid(): never {
  throw new DomainError('invalid_component', INVALID_BODY);
}
