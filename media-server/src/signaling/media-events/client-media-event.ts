import {
  metadataJson,
  dict,
  either,
  int,
  literal,
  nullable,
  num,
  object,
  oneOfStrings,
  str,
  withDefault,
  type Reader,
} from './json-shape.js';
import { noData, parseEnvelope, serializeEnvelope, type EventOf, type EventSpecs } from './media-event-envelope.js';
import type { ParseResult } from './parse-result.js';

/** Simulcast variant ids used by the SDK (its rids): low, medium, high. */
export type TrackEncoding = 'l' | 'm' | 'h';
export const trackEncodings: readonly TrackEncoding[] = ['l', 'm', 'h'];

/** A track's bitrate in bit/s: a number for a single-encoding track, or one per simulcast rid. */
export type TrackBitrates = number | Partial<Record<TrackEncoding, number>>;

export interface SdpOfferData {
  sdpOffer: { type: 'offer'; sdp: string };
  /** Metadata of the client's send tracks; a track whose metadata is undefined is missing here (JSON drops it). */
  trackIdToTrackMetadata: Record<string, unknown>;
  trackIdToTrackBitrates: Record<string, TrackBitrates>;
  /** mid -> trackId for the client's send transceivers only; the authority for which tracks the offer carries. */
  midToTrackId: Record<string, string>;
}

/** Data of each client -> server media event, by type (custom events are listed by their inner type). */
export interface ClientMediaEventData {
  connect: { metadata: unknown };
  disconnect: undefined;
  updateEndpointMetadata: { metadata: unknown };
  updateTrackMetadata: { trackId: string; trackMetadata: unknown };
  enableTrackEncoding: { trackId: string; encoding: TrackEncoding };
  disableTrackEncoding: { trackId: string; encoding: TrackEncoding };
  // custom
  renegotiateTracks: undefined;
  sdpOffer: SdpOfferData;
  candidate: { candidate: string; sdpMLineIndex: number | null };
  trackVariantBitrates: { trackId: string; variantBitrates: TrackBitrates };
  setTargetTrackVariant: { trackId: string; variant: TrackEncoding };
}

export type ClientMediaEvent = EventOf<ClientMediaEventData>;
export type ClientMediaEventType = ClientMediaEvent['type'];

const encoding = oneOfStrings(trackEncodings);
const bitrates: Reader<TrackBitrates> = either<number, Partial<Record<TrackEncoding, number>>>(
  num,
  dict(num),
  'number or {rid: number}',
);
const trackEncodingData = object<{ trackId: string; encoding: TrackEncoding }>({ trackId: str, encoding });

const specs: EventSpecs<ClientMediaEventData> = {
  connect: { custom: false, data: withDefault(object({ metadata: metadataJson }), () => ({ metadata: null })) },
  disconnect: { custom: false, data: noData },
  updateEndpointMetadata: { custom: false, data: object({ metadata: metadataJson }) },
  updateTrackMetadata: { custom: false, data: object({ trackId: str, trackMetadata: metadataJson }) },
  enableTrackEncoding: { custom: false, data: trackEncodingData },
  disableTrackEncoding: { custom: false, data: trackEncodingData },
  renegotiateTracks: { custom: true, data: noData },
  sdpOffer: {
    custom: true,
    data: object<SdpOfferData>({
      sdpOffer: object({ type: literal('offer'), sdp: str }),
      trackIdToTrackMetadata: withDefault(dict(metadataJson), () => ({})),
      trackIdToTrackBitrates: withDefault(dict(bitrates), () => ({})),
      midToTrackId: withDefault(dict(str), () => ({})),
    }),
  },
  candidate: { custom: true, data: object({ candidate: str, sdpMLineIndex: withDefault(nullable(int), () => null) }) },
  trackVariantBitrates: { custom: true, data: object({ trackId: str, variantBitrates: bitrates }) },
  setTargetTrackVariant: { custom: true, data: object({ trackId: str, variant: encoding }) },
};

/** Parses the JSON string of PeerMessage.media_event.data sent by the client SDK. Never throws. */
export function parseClientMediaEvent(json: string): ParseResult<ClientMediaEvent> {
  return parseEnvelope(specs, json);
}

/** The JSON the SDK would send for an event (for test clients and fixtures). */
export function serializeClientMediaEvent(event: ClientMediaEvent): string {
  return serializeEnvelope(specs, event);
}

/** Exposed so callers can tell an unsupported-but-valid custom event from garbage in logs. */
export function isCustomClientEvent(type: ClientMediaEventType): boolean {
  return specs[type].custom;
}
