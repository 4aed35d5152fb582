// Plain data shapes of the domain, as the REST API shows them (Fishjam 0.6.3's Room and Peer schemas).
export type PeerType = 'webrtc';
export type PeerStatus = 'connected' | 'disconnected';
export type TrackType = 'audio' | 'video';
export type VideoCodec = 'h264' | 'vp8';

export interface RoomConfig {
  readonly roomId: string;
  readonly maxPeers: number | null;
  readonly videoCodec: VideoCodec | null;
  readonly webhookUrl: string | null;
  readonly peerlessPurgeTimeout: number | null;
  readonly peerDisconnectedTimeout: number | null;
}

export interface TrackView {
  id: string;
  type: TrackType;
  metadata: unknown;
}

export interface PeerView {
  id: string;
  type: PeerType;
  status: PeerStatus;
  tracks: TrackView[];
  metadata: unknown;
}

/** The component types of Fishjam 0.6.3 (FJ_COMPONENTS_USED names). */
export const COMPONENT_TYPES = ['hls', 'rtsp', 'file', 'sip', 'recording'] as const;
export type ComponentType = (typeof COMPONENT_TYPES)[number];

export interface ComponentView {
  id: string;
  type: ComponentType;
  /** camelCase, as the original answers them; type-specific */
  properties: Record<string, unknown>;
  tracks: TrackView[];
}

export interface RoomView {
  id: string;
  config: RoomConfig;
  components: ComponentView[];
  peers: PeerView[];
}

export interface PeerOptions {
  readonly enableSimulcast: boolean;
}
