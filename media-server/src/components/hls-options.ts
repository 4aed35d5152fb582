// Options of an HLS component (shared/spec/fishjam-components.md 6.1), checked as the original casts them: a value of
// the wrong type or range is a 400 `Invalid request body structure`; an `s3` object lacking a field names it.
// Pure. Differences from the original, on purpose: `targetWindowDuration` is in seconds (the original handed it on
// unconverted to a writer expecting nanoseconds) and must be 1..MAX_WINDOW_SECONDS; `s3` upload is not built yet, so
// a request that asks for it is refused rather than accepted and silently not uploaded.
import { DomainError } from '../rooms/domain-errors.js';

/** A window longer than a week is refused (a number that large is a mistake, not a window). */
export const MAX_WINDOW_SECONDS = 7 * 24 * 3600;

export type SubscribeMode = 'auto' | 'manual';

export interface HlsSpec {
  readonly lowLatency: boolean;
  readonly persistent: boolean;
  /** seconds; null keeps every segment */
  readonly targetWindowDuration: number | null;
  readonly subscribeMode: SubscribeMode;
}

const INVALID_BODY = 'Invalid request body structure';
const S3_FIELDS = ['accessKeyId', 'secretAccessKey', 'region', 'bucket'] as const;

export function parseHlsOptions(options: Record<string, unknown>): HlsSpec {
  const lowLatency = optionalBoolean(options.lowLatency, false);
  const persistent = optionalBoolean(options.persistent, false);
  const window = options.targetWindowDuration;
  let targetWindowDuration: number | null = null;
  if (window !== undefined && window !== null) {
    if (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 1 || window > MAX_WINDOW_SECONDS) invalid();
    targetWindowDuration = window;
  }
  const mode = options.subscribeMode ?? 'auto';
  if (mode !== 'auto' && mode !== 'manual') invalid();
  const s3 = options.s3;
  if (s3 !== undefined && s3 !== null) {
    if (typeof s3 !== 'object' || Array.isArray(s3)) invalid();
    for (const field of S3_FIELDS) {
      const value = (s3 as Record<string, unknown>)[field];
      if (value === undefined || value === null) throw new DomainError('invalid_component', `Required field "${field}" missing`);
      if (typeof value !== 'string') invalid();
    }
    throw new DomainError('invalid_component', 'HLS upload to S3 is not supported by this server yet');
  }
  return { lowLatency, persistent, targetWindowDuration, subscribeMode: mode as SubscribeMode };
}

/** What the component answers: the original's properties (`s3` is never echoed; `playable` turns true later). */
export function hlsProperties(spec: HlsSpec, playable: boolean): Record<string, unknown> {
  return {
    playable,
    lowLatency: spec.lowLatency,
    persistent: spec.persistent,
    targetWindowDuration: spec.targetWindowDuration,
    subscribeMode: spec.subscribeMode,
    s3: null,
  };
}

function optionalBoolean(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') invalid();
  return value as boolean;
}

function invalid(): never {
  throw new DomainError('invalid_component', INVALID_BODY);
}
