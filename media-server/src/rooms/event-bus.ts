// One typed bus for domain events: notifications, webhooks, metrics and signalling subscribe; nobody is called
// directly just to be told that something happened.
import { EventEmitter } from 'node:events';
import type { ComponentType, PeerType, TrackType } from './room-types.js';

export type DomainEvent =
  | { type: 'roomCreated'; roomId: string }
  | { type: 'roomDeleted'; roomId: string }
  | { type: 'roomCrashed'; roomId: string }
  | { type: 'peerAdded'; roomId: string; peerId: string; peerType: PeerType }
  | { type: 'peerDeleted'; roomId: string; peerId: string; peerType: PeerType }
  | { type: 'peerConnected'; roomId: string; peerId: string; peerType: PeerType }
  | { type: 'peerDisconnected'; roomId: string; peerId: string; peerType: PeerType }
  | { type: 'peerCrashed'; roomId: string; peerId: string; peerType: PeerType; reason: string }
  | { type: 'peerMetadataUpdated'; roomId: string; peerId: string; metadata: unknown }
  | { type: 'trackAdded'; roomId: string; peerId: string; trackId: string; trackType: TrackType; metadata: unknown }
  | { type: 'trackRemoved'; roomId: string; peerId: string; trackId: string; trackType: TrackType; metadata: unknown }
  | { type: 'trackMetadataUpdated'; roomId: string; peerId: string; trackId: string; trackType: TrackType; metadata: unknown }
  | { type: 'componentAdded'; roomId: string; componentId: string; componentType: ComponentType }
  /** the component left: deleted, ended by itself, or crashed (then componentCrashed follows) */
  | { type: 'componentRemoved'; roomId: string; componentId: string; componentType: ComponentType }
  | { type: 'componentCrashed'; roomId: string; componentId: string }
  /** the HLS component's first segment exists */
  | { type: 'hlsPlayable'; roomId: string; componentId: string }
  /** the HLS component's stream is in its S3 bucket (every file sent) */
  | { type: 'hlsUploaded'; roomId: string }
  /** the HLS component's S3 upload failed (a file failed every try) */
  | { type: 'hlsUploadCrashed'; roomId: string }
  | { type: 'componentTrackAdded'; roomId: string; componentId: string; trackId: string; trackType: TrackType; metadata: unknown }
  | { type: 'componentTrackRemoved'; roomId: string; componentId: string; trackId: string; trackType: TrackType; metadata: unknown };

export type DomainEventType = DomainEvent['type'];

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: DomainEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: DomainEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
