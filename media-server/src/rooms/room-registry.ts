// The rooms of this node: create, find, delete, add and remove peers, peer connection state, Fishjam's timeouts
// (peerlessPurgeTimeout, peerDisconnectedTimeout), and rooms lost with a crashed worker. Every change is published
// on the event bus; nothing here knows HTTP, protobuf or the cluster.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RoomMedia } from '../sfu/room-media.js';
import { DomainError } from './domain-errors.js';
import type { EventBus } from './event-bus.js';
import { Component, Peer, Room, type ComponentTrack } from './room.js';
import type { ComponentType, PeerOptions, PeerType, RoomConfig, TrackType, VideoCodec } from './room-types.js';

export interface RoomRegistryDeps {
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly createMedia: (videoCodec: VideoCodec | null) => Promise<RoomMedia>;
  readonly webrtcEnabled: boolean;
  readonly newPeerId?: () => string;
}

export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  /** Ids being created right now: a second create with the same id must fail even before the router exists. */
  private readonly pending = new Set<string>();
  private readonly newPeerId: () => string;

  constructor(private readonly deps: RoomRegistryDeps) {
    this.newPeerId = deps.newPeerId ?? randomUUID;
  }

  has(roomId: string): boolean {
    return this.rooms.has(roomId) || this.pending.has(roomId);
  }

  get(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw new DomainError('room_not_found', `Room ${roomId} does not exist`);
    return room;
  }

  find(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  list(): Room[] {
    return [...this.rooms.values()];
  }

  get size(): number {
    return this.rooms.size;
  }

  async create(config: RoomConfig): Promise<Room> {
    if (this.has(config.roomId)) {
      throw new DomainError('room_already_exists', `Cannot add room with id "${config.roomId}" - room already exists`);
    }
    this.pending.add(config.roomId);
    let media: RoomMedia;
    try {
      media = await this.deps.createMedia(config.videoCodec);
    } catch (error) {
      this.deps.logger.error({ room: config.roomId, err: (error as Error).message }, 'cannot create room media');
      throw new DomainError('media_unavailable', `Cannot add room with id "${config.roomId}" - unexpected error`);
    } finally {
      this.pending.delete(config.roomId);
    }
    const room = new Room(config, media);
    this.rooms.set(room.id, room);
    this.deps.logger.info({ room: room.id }, 'room created');
    this.deps.bus.publish({ type: 'roomCreated', roomId: room.id });
    this.armPurgeTimer(room);
    return room;
  }

  /** Deletes a room: PeerDeleted for each peer, then RoomDeleted (Fishjam's order). */
  delete(roomId: string): void {
    const room = this.get(roomId);
    for (const peer of [...room.peers.values()]) this.dropPeer(room, peer);
    this.dispose(room);
    this.deps.logger.info({ room: roomId }, 'room deleted');
    this.deps.bus.publish({ type: 'roomDeleted', roomId });
  }

  addPeer(roomId: string, type: unknown, options: unknown): { room: Room; peer: Peer } {
    const room = this.get(roomId);
    if (type !== 'webrtc') throw new DomainError('invalid_peer_type', 'Invalid peer type');
    if (!this.deps.webrtcEnabled) throw new DomainError('peer_type_disabled', 'Peers of type webrtc are disabled on this Fishjam');
    const peerOptions = parsePeerOptions(options);
    if (room.config.maxPeers !== null && room.peers.size >= room.config.maxPeers) {
      throw new DomainError('peer_limit_reached', `Reached webrtc peers limit in room ${roomId}`);
    }
    const peer = new Peer(this.newPeerId(), type, peerOptions);
    room.peers.set(peer.id, peer);
    this.deps.bus.publish({ type: 'peerAdded', roomId, peerId: peer.id, peerType: peer.type });
    this.armDisconnectedTimer(room, peer);
    return { room, peer };
  }

  removePeer(roomId: string, peerId: string): void {
    const room = this.get(roomId);
    const peer = room.peers.get(peerId);
    if (!peer) throw new DomainError('peer_not_found', `Peer ${peerId} does not exist`);
    // As the original: a connected peer that is removed is first disconnected (its tracks removed), then deleted.
    if (peer.status === 'connected') this.markDisconnected(roomId, peerId);
    this.dropPeer(room, peer);
    this.armPurgeTimer(room);
  }

  getPeer(roomId: string, peerId: string): { room: Room; peer: Peer } {
    const room = this.get(roomId);
    const peer = room.peers.get(peerId);
    if (!peer) throw new DomainError('peer_not_found', `Peer ${peerId} does not exist`);
    return { room, peer };
  }

  markConnected(roomId: string, peerId: string): void {
    const { room, peer } = this.getPeer(roomId, peerId);
    peer.status = 'connected';
    clearTimeout(peer.disconnectedTimer);
    clearTimeout(room.purgeTimer);
    this.deps.bus.publish({ type: 'peerConnected', roomId, peerId, peerType: peer.type });
  }

  markDisconnected(roomId: string, peerId: string): void {
    const room = this.rooms.get(roomId);
    const peer = room?.peers.get(peerId);
    if (!room || !peer || peer.status === 'disconnected') return;
    peer.status = 'disconnected';
    for (const trackId of [...peer.tracks.keys()]) this.removeTrack(roomId, peerId, trackId);
    this.deps.bus.publish({ type: 'peerDisconnected', roomId, peerId, peerType: peer.type });
    this.armDisconnectedTimer(room, peer);
    this.armPurgeTimer(room);
  }

  setPeerMetadata(roomId: string, peerId: string, metadata: unknown): void {
    const { peer } = this.getPeer(roomId, peerId);
    peer.metadata = metadata;
    this.deps.bus.publish({ type: 'peerMetadataUpdated', roomId, peerId, metadata });
  }

  addTrack(roomId: string, peerId: string, track: { id: string; type: TrackType; metadata: unknown }): void {
    const { peer } = this.getPeer(roomId, peerId);
    peer.tracks.set(track.id, { ...track });
    this.deps.bus.publish({ type: 'trackAdded', roomId, peerId, trackId: track.id, trackType: track.type, metadata: track.metadata });
  }

  removeTrack(roomId: string, peerId: string, trackId: string): void {
    const peer = this.rooms.get(roomId)?.peers.get(peerId);
    const track = peer?.tracks.get(trackId);
    if (!peer || !track) return;
    peer.tracks.delete(trackId);
    this.deps.bus.publish({ type: 'trackRemoved', roomId, peerId, trackId, trackType: track.type, metadata: track.metadata });
  }

  setTrackMetadata(roomId: string, peerId: string, trackId: string, metadata: unknown): void {
    const track = this.rooms.get(roomId)?.peers.get(peerId)?.tracks.get(trackId);
    if (!track) return;
    track.metadata = metadata;
    this.deps.bus.publish({ type: 'trackMetadataUpdated', roomId, peerId, trackId, trackType: track.type, metadata });
  }

  // --- components: the domain state only; their media is run by components/ ---------------------------------

  addComponent(roomId: string, id: string, type: ComponentType, properties: Record<string, unknown>): Component {
    const room = this.get(roomId);
    const component = new Component(id, type, properties);
    room.components.set(id, component);
    this.deps.bus.publish({ type: 'componentAdded', roomId, componentId: id, componentType: type });
    return component;
  }

  getComponent(roomId: string, componentId: string): Component {
    const component = this.get(roomId).components.get(componentId);
    if (!component) throw new DomainError('component_not_found', `Component ${componentId} does not exist`);
    return component;
  }

  /** The component leaves the room: TrackRemoved for each track it still has, then (if it crashed) ComponentCrashed. */
  removeComponent(roomId: string, componentId: string, crashed = false): void {
    const room = this.rooms.get(roomId);
    const component = room?.components.get(componentId);
    if (!room || !component) return;
    for (const trackId of [...component.tracks.keys()]) this.removeComponentTrack(roomId, componentId, trackId);
    room.components.delete(componentId);
    this.deps.bus.publish({ type: 'componentRemoved', roomId, componentId, componentType: component.type });
    if (crashed) this.deps.bus.publish({ type: 'componentCrashed', roomId, componentId });
  }

  addComponentTrack(roomId: string, componentId: string, track: ComponentTrack): void {
    const component = this.getComponent(roomId, componentId);
    component.tracks.set(track.id, track);
    this.deps.bus.publish({ type: 'componentTrackAdded', roomId, componentId, trackId: track.id, trackType: track.type, metadata: track.metadata });
  }

  removeComponentTrack(roomId: string, componentId: string, trackId: string): void {
    const component = this.rooms.get(roomId)?.components.get(componentId);
    const track = component?.tracks.get(trackId);
    if (!component || !track) return;
    component.tracks.delete(trackId);
    this.deps.bus.publish({ type: 'componentTrackRemoved', roomId, componentId, trackId, trackType: track.type, metadata: track.metadata });
  }

  /** Rooms whose router lived on a worker that died: they crash (RoomCrashed), everything else goes on. */
  failRouters(routerIds: readonly string[]): string[] {
    const dead = new Set(routerIds);
    const failed: string[] = [];
    for (const room of this.list()) {
      if (!room.media.routerIds.some((id) => dead.has(id))) continue;
      this.dispose(room);
      failed.push(room.id);
      this.deps.logger.error({ room: room.id }, 'room crashed: its mediasoup worker died');
      this.deps.bus.publish({ type: 'roomCrashed', roomId: room.id });
    }
    return failed;
  }

  closeAll(): void {
    for (const room of this.list()) this.delete(room.id);
  }

  private dropPeer(room: Room, peer: Peer): void {
    clearTimeout(peer.disconnectedTimer);
    room.peers.delete(peer.id);
    this.deps.bus.publish({ type: 'peerDeleted', roomId: room.id, peerId: peer.id, peerType: peer.type });
  }

  private dispose(room: Room): void {
    clearTimeout(room.purgeTimer);
    for (const peer of room.peers.values()) clearTimeout(peer.disconnectedTimer);
    this.rooms.delete(room.id);
    room.media.close();
  }

  private armPurgeTimer(room: Room): void {
    const seconds = room.config.peerlessPurgeTimeout;
    clearTimeout(room.purgeTimer);
    if (seconds === null || room.connectedPeers() > 0) return;
    room.purgeTimer = setTimeout(() => {
      if (this.rooms.get(room.id) !== room || room.connectedPeers() > 0) return;
      this.deps.logger.info({ room: room.id, seconds }, 'room purged: no connected peers');
      this.delete(room.id);
    }, seconds * 1000);
    room.purgeTimer.unref();
  }

  private armDisconnectedTimer(room: Room, peer: Peer): void {
    const seconds = room.config.peerDisconnectedTimeout;
    clearTimeout(peer.disconnectedTimer);
    if (seconds === null) return;
    peer.disconnectedTimer = setTimeout(() => {
      if (room.peers.get(peer.id) !== peer || peer.status !== 'disconnected') return;
      this.deps.logger.info({ room: room.id, peer: peer.id, seconds }, 'peer removed: disconnected too long');
      this.removePeer(room.id, peer.id);
    }, seconds * 1000);
    peer.disconnectedTimer.unref();
  }
}

function parsePeerOptions(options: unknown): PeerOptions {
  if (options === undefined || options === null) return { enableSimulcast: true };
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new DomainError('invalid_peer_options', 'Invalid request body structure');
  }
  const { enableSimulcast = true } = options as Record<string, unknown>;
  if (typeof enableSimulcast !== 'boolean') {
    throw new DomainError('invalid_peer_options', `Expected enableSimulcast to be a boolean, got: ${JSON.stringify(enableSimulcast)}`);
  }
  return { enableSimulcast };
}
