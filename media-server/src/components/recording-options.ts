// Options of a Recording component (shared/spec/fishjam-components.md 6.4), checked as the original does. Pure: the
// node's FJ_S3_* settings are passed in.
// - `credentials` (S3 object) from the request or from FJ_S3_*: exactly one source; both or neither is a 400 with the
//   original's message. `pathPrefix` from the request or FJ_S3_PATH_PREFIX or none; both is a 400 (checked after the
//   credentials).
// - `subscribeMode` auto|manual (default auto).
import type { S3Credentials } from '../config/s3-env.js';
import { DomainError } from '../rooms/domain-errors.js';
import { parseS3Credentials, type SubscribeMode } from './hls-options.js';

export interface RecordingSpec {
  readonly subscribeMode: SubscribeMode;
  readonly credentials: S3Credentials;
  /** '' when none: objects then go to <room_id>/part_<time>/ */
  readonly pathPrefix: string;
}

/** What the node was started with (FJ_S3_*). */
export interface RecordingEnv {
  readonly credentials: S3Credentials | undefined;
  readonly pathPrefix: string | undefined;
}

/** A longer prefix is refused (S3 keys are at most 1024 bytes; room and part names need room too). */
export const MAX_PATH_PREFIX_LENGTH = 512;

const INVALID_BODY = 'Invalid request body structure';

export function parseRecordingOptions(options: Record<string, unknown>, env: RecordingEnv): RecordingSpec {
  const mode = options.subscribeMode ?? 'auto';
  if (mode !== 'auto' && mode !== 'manual') throw new DomainError('invalid_component', INVALID_BODY);
  const prefix = options.pathPrefix;
  if (prefix !== undefined && prefix !== null && (typeof prefix !== 'string' || prefix.length > MAX_PATH_PREFIX_LENGTH || prefix.includes('\0'))) {
    throw new DomainError('invalid_component', INVALID_BODY);
  }
  const requested = parseS3Credentials(options.credentials);
  if (requested && env.credentials) {
    throw new DomainError('invalid_component', 'Conflicting S3 credentials supplied via environment variables and the REST API. Overrides on existing values are disallowed');
  }
  const credentials = requested ?? env.credentials;
  if (!credentials) throw new DomainError('invalid_component', 'S3 credentials has to be passed either by request or at application startup as envs');
  const requestedPrefix = typeof prefix === 'string' ? prefix : undefined;
  if (requestedPrefix !== undefined && env.pathPrefix !== undefined) {
    throw new DomainError('invalid_component', 'Conflicting S3 path prefix supplied via environment variables and the REST API. Overrides on existing values are disallowed');
  }
  return { subscribeMode: mode as SubscribeMode, credentials, pathPrefix: requestedPrefix ?? env.pathPrefix ?? '' };
}

/** The original's properties: exactly the subscribe mode (credentials and prefix are never echoed). */
export function recordingProperties(spec: RecordingSpec): Record<string, unknown> {
  return { subscribeMode: spec.subscribeMode };
}
