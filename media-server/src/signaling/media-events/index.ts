export {
  parseClientMediaEvent,
  serializeClientMediaEvent,
  isCustomClientEvent,
  trackEncodings,
  type ClientMediaEvent,
  type ClientMediaEventData,
  type ClientMediaEventType,
  type SdpOfferData,
  type TrackBitrates,
  type TrackEncoding,
} from './client-media-event.js';
export {
  parseServerMediaEvent,
  serializeServerMediaEvent,
  type EncodingSwitchReason,
  type EndpointInfo,
  type ServerMediaEvent,
  type ServerMediaEventData,
  type ServerMediaEventType,
  type SimulcastConfig,
  type TrackInfo,
  type TurnServer,
  type VadStatus,
} from './server-media-event.js';
export type { ParseResult } from './parse-result.js';
