// Options of an HLS component (shared/spec/fishjam-components.md 6.1), checked as the original casts them: a value of
// the wrong type or range is a 400 `Invalid request body structure`; an `s3` object lacking a field names it.
// Pure. Differences from the original, on purpose: `targetWindowDuration` is in seconds (the original handed it on
// unconverted to a writer expecting nanoseconds) and must be 1..MAX_WINDOW_SECONDS. `s3` comes from the request only
// (as the original: FJ_S3_* are the Recording component's); it is kept here and never echoed.
import type { S3Credentials } from '../config/s3-env.js';
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
  /** where the stream is uploaded when the component ends; null: not uploaded */
  readonly s3: S3Credentials | null;
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
  return { lowLatency, persistent, targetWindowDuration, subscribeMode: mode as SubscribeMode, s3: parseS3Credentials(options.s3) };
}

/** Longest credential field taken (real ones are far shorter; a huge value is a mistake or an attack). */
export const MAX_S3_FIELD_LENGTH = 1024;

/**
 * An S3 credentials object as the original casts it (HLS `s3`, Recording `credentials`): null/absent -> null; not an
 * object -> `Invalid request body structure`; a missing field -> `Required field "<name>" missing`; a field that is
 * not a string -> `Invalid request body structure`. Beyond the original: empty or over-long fields are refused too.
 */
export function parseS3Credentials(value: unknown): S3Credentials | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) invalid();
  const fields: Record<string, string> = {};
  for (const field of S3_FIELDS) {
    const v = (value as Record<string, unknown>)[field];
    if (v === undefined || v === null) throw new DomainError('invalid_component', `Required field "${field}" missing`);
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_S3_FIELD_LENGTH) invalid();
    fields[field] = v as string;
  }
  return fields as unknown as S3Credentials;
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
