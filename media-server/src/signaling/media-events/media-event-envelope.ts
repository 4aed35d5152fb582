import { parseBoundedJson } from '../../json/bounded-json.js';
import { isRecord, ShapeError, type Reader } from './json-shape.js';
import type { ParseResult } from './parse-result.js';

/**
 * The Membrane RTC Engine envelope: `{type, data}`; events of the WebRTC endpoint itself travel inside
 * `{type: "custom", data: {type, data}}`. Event maps name each event's data type (`undefined` = no data field).
 */
export type EventOf<Map> = {
  [K in keyof Map & string]: Map[K] extends undefined ? { type: K } : { type: K; data: Map[K] };
}[keyof Map & string];

export interface EventSpec<T> {
  /** true when the event is wrapped in a "custom" envelope on the wire */
  custom: boolean;
  data: Reader<T>;
}

export type EventSpecs<Map> = { [K in keyof Map & string]: EventSpec<Map[K]> };

/**
 * A media event is at most one websocket frame (1 MiB, the socket's own limit) and nested at most 64 levels: room for
 * any SDP offer and application metadata, none for values that make JSON.stringify overflow the stack later.
 */
export const MEDIA_EVENT_LIMITS = { maxLength: 1024 * 1024, maxDepth: 64 } as const;

export const noData: Reader<undefined> = () => undefined;

export function parseEnvelope<Map>(specs: EventSpecs<Map>, json: string): ParseResult<EventOf<Map>> {
  const bounded = parseBoundedJson(json, MEDIA_EVENT_LIMITS);
  if (!bounded.ok) return { ok: false, error: `media event is ${bounded.error === 'not JSON' ? 'not JSON' : bounded.error}` };
  const raw = bounded.value;
  if (!isRecord(raw) || typeof raw.type !== 'string') return { ok: false, error: 'media event has no type' };
  let event: Record<string, unknown> = raw;
  let custom = false;
  if (raw.type === 'custom') {
    if (!isRecord(raw.data) || typeof raw.data.type !== 'string') {
      return { ok: false, error: 'custom media event has no type' };
    }
    event = raw.data;
    custom = true;
  }
  const type = event.type as string;
  const spec = Object.hasOwn(specs, type) ? (specs as Record<string, EventSpec<unknown>>)[type] : undefined;
  if (spec === undefined || spec.custom !== custom) {
    return { ok: false, error: `unknown media event ${custom ? `custom ${type}` : type}` };
  }
  try {
    const data = spec.data(event.data, `${type}.data`);
    const value = (data === undefined ? { type } : { type, data }) as EventOf<Map>;
    return { ok: true, value };
  } catch (error) {
    if (error instanceof ShapeError) return { ok: false, error: `invalid ${type}: ${error.message}` };
    return { ok: false, error: `invalid ${type}: ${String(error)}` };
  }
}

export function serializeEnvelope<Map>(specs: EventSpecs<Map>, event: EventOf<Map>): string {
  const spec = (specs as Record<string, EventSpec<unknown>>)[event.type];
  const inner = 'data' in event ? { type: event.type, data: event.data } : { type: event.type };
  return JSON.stringify(spec?.custom === true ? { type: 'custom', data: inner } : inner);
}
