import type { DecodeResult } from './decode-result.js';
import { loadFishjamRoot } from './fishjam-schema.js';
import { OneofCodec } from './oneof-codec.js';

/** fishjam.ServerMessage.EventType */
export const ServerEventType = { UNSPECIFIED: 0, SERVER_NOTIFICATION: 1, METRICS: 2 } as const;
export type ServerEventType = (typeof ServerEventType)[keyof typeof ServerEventType];

/** fishjam.ServerMessage.TrackType */
export const ServerTrackType = { UNSPECIFIED: 0, VIDEO: 1, AUDIO: 2 } as const;
export type ServerTrackType = (typeof ServerTrackType)[keyof typeof ServerTrackType];

export interface RoomRef { roomId: string }
export interface PeerRef { roomId: string; peerId: string }
export interface ServerTrack { id: string; type: ServerTrackType; metadata: string }
/** TrackAdded/TrackRemoved/TrackMetadataUpdated: the endpoint is either a peer or a component (a oneof). */
export type TrackNotification = { roomId: string; track?: ServerTrack } & (
  | { peerId: string; componentId?: never }
  | { componentId: string; peerId?: never }
);

/** The content of fishjam.ServerMessage by oneof field name; the comment is the field number. */
export interface ServerMessageContent {
  roomCrashed: RoomRef; // 1
  peerConnected: PeerRef; // 2
  peerDisconnected: PeerRef; // 3
  peerCrashed: PeerRef & { reason: string }; // 4
  componentCrashed: { roomId: string; componentId: string }; // 5
  authenticated: Record<string, never>; // 6
  authRequest: { token: string }; // 7
  subscribeRequest: { eventType: ServerEventType }; // 8
  subscribeResponse: { eventType: ServerEventType }; // 9
  roomCreated: RoomRef; // 10
  roomDeleted: RoomRef; // 11
  metricsReport: { metrics: string }; // 12
  hlsPlayable: { roomId: string; componentId: string }; // 13
  hlsUploaded: RoomRef; // 14
  hlsUploadCrashed: RoomRef; // 15
  peerMetadataUpdated: PeerRef & { metadata: string }; // 16
  trackAdded: TrackNotification; // 17
  trackRemoved: TrackNotification; // 18
  trackMetadataUpdated: TrackNotification; // 19
  peerAdded: PeerRef; // 20
  peerDeleted: PeerRef; // 21
}

export type ServerMessageKind = keyof ServerMessageContent;

/** One-key object, e.g. `{ roomCreated: { roomId } }`; narrow with `'roomCreated' in message`. */
export type ServerMessage = { [K in ServerMessageKind]: { [P in K]: ServerMessageContent[K] } }[ServerMessageKind];

const codec = new OneofCodec(loadFishjamRoot().lookupType('fishjam.ServerMessage'), 'content');

export function encodeServerMessage(message: ServerMessage): Uint8Array {
  return codec.encode(message);
}

/** Never throws; unknown enum numbers are kept as numbers. */
export function decodeServerMessage(bytes: Uint8Array): DecodeResult<ServerMessage> {
  return codec.decode(bytes) as DecodeResult<ServerMessage>;
}

/** The oneof field name of a message, handy for logging and for switch statements. */
export function serverMessageKind(message: ServerMessage): ServerMessageKind {
  return Object.keys(message)[0] as ServerMessageKind;
}
