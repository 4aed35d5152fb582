// One room's state: its config, peers and media. Mutated only by RoomRegistry, which owns timers and events.
import type { RoomMedia } from '../sfu/room-media.js';
import type { PeerOptions, PeerStatus, PeerType, PeerView, RoomConfig, RoomView, TrackType } from './room-types.js';

export interface Track {
  readonly id: string;
  readonly type: TrackType;
  metadata: unknown;
}

export class Peer {
  status: PeerStatus = 'disconnected';
  metadata: unknown = null;
  readonly tracks = new Map<string, Track>();
  disconnectedTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    readonly type: PeerType,
    readonly options: PeerOptions,
  ) {}

  view(): PeerView {
    return {
      id: this.id,
      type: this.type,
      status: this.status,
      tracks: [...this.tracks.values()].map((t) => ({ id: t.id, type: t.type, metadata: t.metadata })),
      metadata: this.metadata,
    };
  }
}

export class Room {
  readonly peers = new Map<string, Peer>();
  readonly createdAt = Date.now();
  purgeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: RoomConfig,
    readonly media: RoomMedia,
  ) {}

  get id(): string {
    return this.config.roomId;
  }

  connectedPeers(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.status === 'connected') n++;
    return n;
  }

  view(): RoomView {
    return { id: this.id, config: this.config, components: [], peers: [...this.peers.values()].map((p) => p.view()) };
  }
}
