// The checks of POST /room/:id/component and POST .../subscribe, in the original's order (see
// shared/spec/fishjam-components.md, sections 2 and 4). Pure: the room's facts and the file-system lookup are passed in.
// The order matters to clients that match on messages: e.g. an invalid type is refused even in a missing room, and a
// disabled type is refused before its options are looked at.
import { DomainError } from '../rooms/domain-errors.js';
import { COMPONENT_TYPES, type ComponentType, type VideoCodec } from '../rooms/room-types.js';
import { parseFileOptions, type FileSpec, type SourceLookup } from './file-options.js';
import { hlsProperties, parseHlsOptions, type HlsSpec } from './hls-options.js';
import { parseRtspOptions, rtspProperties, type RtspSpec } from './rtsp-options.js';
import { parseRecordingOptions, recordingProperties, type RecordingEnv, type RecordingSpec } from './recording-options.js';
import { parseSipOptions, sipProperties, type SipSpec } from './sip-options.js';

/** Components one room may hold (the original has no limit for file, rtsp and sip; each of ours may be a process). */
export const MAX_COMPONENTS_PER_ROOM = 32;
/** Nesting of a request body: deeper is refused (a deep value would overflow JSON.stringify wherever it travels next). */
export const MAX_BODY_DEPTH = 16;
/** Origins of one subscribe request. */
export const MAX_SUBSCRIBE_ORIGINS = 256;

const INVALID_BODY = 'Invalid request body structure';

/** Steps 1 and 2: before the room is looked up. */
export function checkComponentBody(body: Record<string, unknown>): { type: ComponentType; options: unknown } {
  if (!('type' in body) || exceedsDepth(body, MAX_BODY_DEPTH)) throw new DomainError('invalid_component', INVALID_BODY);
  const type = body.type;
  if (typeof type !== 'string' || !(COMPONENT_TYPES as readonly string[]).includes(type)) {
    throw new DomainError('invalid_component', 'Invalid component type');
  }
  return { type: type as ComponentType, options: body.options };
}

export interface RoomFacts {
  readonly roomId: string;
  readonly videoCodec: VideoCodec | null;
  readonly componentTypes: readonly ComponentType[];
}

export interface ComponentContext {
  /** types allowed and built here (FJ_COMPONENTS_USED, less the types not built yet) */
  readonly enabled: ReadonlySet<ComponentType>;
  readonly lookup: SourceLookup;
  /** FJ_S3_* for the Recording component */
  readonly recordingEnv?: RecordingEnv;
}

export type ComponentSpec =
  | { type: 'file'; file: FileSpec; properties: Record<string, unknown> }
  | { type: 'hls'; hls: HlsSpec; properties: Record<string, unknown> }
  | { type: 'rtsp'; rtsp: RtspSpec; properties: Record<string, unknown> }
  | { type: 'recording'; recording: RecordingSpec; properties: Record<string, unknown> }
  | { type: 'sip'; sip: SipSpec; properties: Record<string, unknown> };

/** Steps 4 to 7, once the room exists (step 3 is the caller's). */
export function parseComponentRequest(type: ComponentType, options: unknown, room: RoomFacts, ctx: ComponentContext): ComponentSpec {
  if (!ctx.enabled.has(type)) throw new DomainError('component_type_disabled', `Components of type ${type} are disabled on this Fishjam`);
  if ((type === 'hls' || type === 'recording' || type === 'rtsp') && room.videoCodec !== 'h264') {
    throw new DomainError('invalid_component', `Incompatible video codec enforced in room ${room.roomId}`);
  }
  if ((type === 'hls' || type === 'recording') && room.componentTypes.includes(type)) {
    throw new DomainError('component_limit_reached', `Reached ${type} components limit in room ${room.roomId}`);
  }
  // Our own bound (the original has none): each component may be a process and a producer.
  if (room.componentTypes.length >= MAX_COMPONENTS_PER_ROOM) {
    throw new DomainError('component_limit_reached', `Reached components limit in room ${room.roomId} (at most ${MAX_COMPONENTS_PER_ROOM})`);
  }
  const opts = options === undefined ? {} : options;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new DomainError('invalid_component', INVALID_BODY);
  switch (type) {
    case 'file': {
      const file = parseFileOptions(opts as Record<string, unknown>, ctx.lookup);
      // Beyond the original (which would publish a track nobody there can receive): an H264 file in a room that
      // enforces VP8 is refused with the codec message the other types use.
      if (file.kind === 'video' && room.videoCodec === 'vp8') {
        throw new DomainError('invalid_component', `Incompatible video codec enforced in room ${room.roomId}`);
      }
      return { type, file, properties: { filePath: file.filePath, framerate: file.framerate } };
    }
    case 'hls': {
      const hls = parseHlsOptions(opts as Record<string, unknown>);
      return { type, hls, properties: hlsProperties(hls, false) };
    }
    case 'rtsp': {
      const rtsp = parseRtspOptions(opts as Record<string, unknown>);
      return { type, rtsp, properties: rtspProperties(rtsp) };
    }
    case 'recording': {
      const recording = parseRecordingOptions(opts as Record<string, unknown>, ctx.recordingEnv ?? { credentials: undefined, pathPrefix: undefined });
      return { type, recording, properties: recordingProperties(recording) };
    }
    case 'sip': {
      const sip = parseSipOptions(opts as Record<string, unknown>);
      return { type, sip, properties: sipProperties(sip) };
    }
    default:
      // Unreachable while `enabled` holds built types only; a clean 400 rather than a crash if that ever changes.
      throw new DomainError('component_type_disabled', `Components of type ${type} are disabled on this Fishjam`);
  }
}

/** Subscribe, step 1 (before the room is looked up): `origins` must be a list of strings. */
export function checkSubscribeBody(body: Record<string, unknown>): string[] {
  const origins = body.origins;
  if (!Array.isArray(origins) || origins.length > MAX_SUBSCRIBE_ORIGINS || !origins.every((o) => typeof o === 'string' && o.length <= 256)) {
    throw new DomainError('invalid_component', INVALID_BODY);
  }
  return origins as string[];
}

/** Subscribe, once the room and the component exist: only HLS and Recording in manual mode take origins. */
export function checkSubscribable(componentId: string, type: ComponentType, properties: Readonly<Record<string, unknown>>): void {
  if (type !== 'hls' && type !== 'recording') {
    throw new DomainError('invalid_component', 'Subscribe mode is supported only for HLS and Recording components');
  }
  if (properties.subscribeMode !== 'manual') {
    throw new DomainError('invalid_component', `Component ${componentId} option \`subscribe_mode\` is set to :auto`);
  }
}

/** Whether a parsed JSON value nests deeper than `max` (iterative: a deep value must not overflow this check too). */
export function exceedsDepth(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
