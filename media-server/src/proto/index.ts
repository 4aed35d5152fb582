export type { DecodeResult } from './decode-result.js';
export { encodePeerMessage, decodePeerMessage, type PeerMessage } from './peer-message.js';
export {
  encodeServerMessage,
  decodeServerMessage,
  serverMessageKind,
  ServerEventType,
  ServerTrackType,
  type ServerMessage,
  type ServerMessageContent,
  type ServerMessageKind,
  type ServerTrack,
  type TrackNotification,
} from './server-message.js';
