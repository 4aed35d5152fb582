import { trackEncodings, type TrackEncoding } from './client-media-event.js';
import {
  anyJson,
  array,
  bool,
  dict,
  int,
  literal,
  nullable,
  num,
  object,
  oneOfStrings,
  str,
  withDefault,
} from './json-shape.js';
import { parseEnvelope, serializeEnvelope, type EventOf, type EventSpecs } from './media-event-envelope.js';
import type { ParseResult } from './parse-result.js';

export interface SimulcastConfig {
  enabled: boolean;
  /** rids currently sent by the publisher */
  activeEncodings: TrackEncoding[];
  disabledEncodings: TrackEncoding[];
}

/** What the SDK keeps per remote track (TrackContext.metadata / simulcastConfig). */
export interface TrackInfo {
  metadata: unknown;
  simulcastConfig: SimulcastConfig;
}

export interface EndpointInfo {
  id: string;
  /** "webrtc" for peers; components use their kind ("hls", "rtsp", ...) */
  type: string;
  metadata: unknown;
  /** Deprecated duplicate of tracks' metadata kept by the original; the SDK only checks that the key exists. */
  trackIdToMetadata: Record<string, unknown>;
  tracks: Record<string, TrackInfo>;
}

export interface TurnServer {
  serverAddr: string;
  serverPort: number;
  transport: 'udp' | 'tcp' | 'tls';
  username: string;
  password: string;
}

/**
 * The SDK's own EncodingReason values. The original engine sent its atoms (low_bandwidth, variant_inactive) which
 * matched neither its docs nor the SDK's type; apps compare with the SDK's names, so those are used here.
 */
export type EncodingSwitchReason = 'lowBandwidth' | 'encodingInactive' | 'other';
export type VadStatus = 'speech' | 'silence';

/** Data of each server -> client media event, by type (custom events are listed by their inner type). */
export interface ServerMediaEventData {
  connected: { id: string; otherEndpoints: EndpointInfo[] };
  /** No tracks here: the SDK starts the endpoint with none and learns them from tracksAdded. */
  endpointAdded: { id: string; type: string; metadata: unknown };
  endpointRemoved: { id: string };
  endpointUpdated: { id: string; metadata: unknown };
  tracksAdded: { endpointId: string; trackIdToMetadata: Record<string, unknown>; tracks: Record<string, TrackInfo> };
  tracksRemoved: { endpointId: string; trackIds: string[] };
  trackUpdated: { endpointId: string; trackId: string; metadata: unknown };
  trackEncodingEnabled: { endpointId: string; trackId: string; encoding: TrackEncoding };
  trackEncodingDisabled: { endpointId: string; trackId: string; encoding: TrackEncoding };
  tracksPriority: { tracks: string[] };
  error: { message: string };
  // custom
  offerData: { integratedTurnServers: TurnServer[]; tracksTypes: { audio: number; video: number } };
  sdpAnswer: { type: 'answer'; sdp: string; midToTrackId: Record<string, string> };
  candidate: { candidate: string; sdpMLineIndex: number; sdpMid: string | null; usernameFragment: string | null };
  encodingSwitched: { endpointId: string; trackId: string; encoding: TrackEncoding; reason: EncodingSwitchReason };
  vadNotification: { trackId: string; status: VadStatus };
  /** Estimated download bitrate of the client, bit/s. */
  bandwidthEstimation: { estimation: number };
}

export type ServerMediaEvent = EventOf<ServerMediaEventData>;
export type ServerMediaEventType = ServerMediaEvent['type'];

const encoding = oneOfStrings(trackEncodings);
const trackInfo = object<TrackInfo>({
  metadata: anyJson,
  simulcastConfig: object<SimulcastConfig>({
    enabled: bool,
    activeEncodings: array(encoding),
    disabledEncodings: array(encoding),
  }),
});
const endpointInfo = object<EndpointInfo>({
  id: str,
  type: str,
  metadata: anyJson,
  trackIdToMetadata: withDefault(dict(anyJson), () => ({})),
  tracks: withDefault(dict(trackInfo), () => ({})),
});
const trackEncodingData = object({ endpointId: str, trackId: str, encoding });

// Event placement (plain vs custom) follows the original engine's MediaEvent module; the SDK accepts both.
const specs: EventSpecs<ServerMediaEventData> = {
  connected: { custom: false, data: object({ id: str, otherEndpoints: array(endpointInfo) }) },
  endpointAdded: { custom: false, data: object({ id: str, type: str, metadata: anyJson }) },
  endpointRemoved: { custom: false, data: object({ id: str }) },
  endpointUpdated: { custom: false, data: object({ id: str, metadata: anyJson }) },
  tracksAdded: {
    custom: false,
    data: object({
      endpointId: str,
      trackIdToMetadata: withDefault(dict(anyJson), () => ({})),
      tracks: dict(trackInfo),
    }),
  },
  tracksRemoved: { custom: false, data: object({ endpointId: str, trackIds: array(str) }) },
  trackUpdated: { custom: false, data: object({ endpointId: str, trackId: str, metadata: anyJson }) },
  trackEncodingEnabled: { custom: false, data: trackEncodingData },
  trackEncodingDisabled: { custom: false, data: trackEncodingData },
  tracksPriority: { custom: false, data: object({ tracks: array(str) }) },
  error: { custom: false, data: object({ message: str }) },
  offerData: {
    custom: true,
    data: object({
      integratedTurnServers: array(
        object<TurnServer>({
          serverAddr: str,
          serverPort: int,
          transport: oneOfStrings(['udp', 'tcp', 'tls'] as const),
          username: str,
          password: str,
        }),
      ),
      tracksTypes: object({ audio: int, video: int }),
    }),
  },
  sdpAnswer: { custom: true, data: object({ type: literal('answer'), sdp: str, midToTrackId: dict(str) }) },
  candidate: {
    custom: true,
    data: object({
      candidate: str,
      sdpMLineIndex: int,
      sdpMid: withDefault(nullable(str), () => null),
      usernameFragment: withDefault(nullable(str), () => null),
    }),
  },
  encodingSwitched: {
    custom: true,
    data: object({
      endpointId: str,
      trackId: str,
      encoding,
      reason: oneOfStrings(['lowBandwidth', 'encodingInactive', 'other'] as const),
    }),
  },
  vadNotification: { custom: true, data: object({ trackId: str, status: oneOfStrings(['speech', 'silence'] as const) }) },
  bandwidthEstimation: { custom: true, data: object({ estimation: num }) },
};

/** The JSON string to put into PeerMessage.media_event.data for the client SDK. */
export function serializeServerMediaEvent(event: ServerMediaEvent): string {
  return serializeEnvelope(specs, event);
}

/** Parses what a server sent (for test clients and fixtures). Never throws. */
export function parseServerMediaEvent(json: string): ParseResult<ServerMediaEvent> {
  return parseEnvelope(specs, json);
}
