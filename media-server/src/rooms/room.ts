// One room's state: its config, peers and media. Mutated only by RoomRegistry, which owns timers and events.
import type { types } from 'mediasoup';
import type { RoomMedia } from '../sfu/room-media.js';
import type { ComponentType, ComponentView, PeerOptions, PeerStatus, PeerType, PeerView, RoomConfig, RoomView, TrackType } from './room-types.js';

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

/** A component's track: what REST shows, plus the producer peers consume it from (never shown). */
export interface ComponentTrack extends Track {
  readonly producer: types.Producer;
}

/** A component as the domain knows it: its answer shape and its tracks. Its media (a child process) lives in components/. */
export class Component {
  readonly tracks = new Map<string, ComponentTrack>();

  constructor(
    readonly id: string,
    readonly type: ComponentType,
    readonly properties: Readonly<Record<string, unknown>>,
  ) {}

  view(): ComponentView {
    return {
      id: this.id,
      type: this.type,
      properties: { ...this.properties },
      tracks: [...this.tracks.values()].map((t) => ({ id: t.id, type: t.type, metadata: t.metadata })),
    };
  }
}

export class Room {
  readonly peers = new Map<string, Peer>();
  readonly components = new Map<string, Component>();
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
    return {
      id: this.id,
      config: this.config,
      components: [...this.components.values()].map((c) => c.view()),
      peers: [...this.peers.values()].map((p) => p.view()),
    };
  }
}
