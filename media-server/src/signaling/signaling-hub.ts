// The peer sockets of this node, grouped by room. Routes media events to each room's signalling and closes sockets
// when the domain says so: PeerDeleted -> 1000 "Peer removed", RoomDeleted -> 1000 "Room stopped",
// RoomCrashed -> 1011 "Internal server error" (Fishjam's reasons).
import type { Logger } from 'pino';
import type { EventBus } from '../rooms/event-bus.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { PeerLink } from './peer-session.js';
import { RoomSignaling } from './room-signaling.js';
import type { TurnServer } from '../turn/turn-server.js';

export class SignalingHub {
  private readonly rooms = new Map<string, RoomSignaling>();

  constructor(
    private readonly registry: RoomRegistry,
    bus: EventBus,
    private readonly logger: Logger,
    private readonly turn?: TurnServer,
  ) {
    bus.subscribe((event) => {
      // Deleting a room publishes PeerDeleted for each peer, then RoomDeleted, in one go: closing a peer's socket a
      // microtask later lets RoomDeleted close it first, with "Room stopped" (as Fishjam does), not "Peer removed".
      if (event.type === 'peerDeleted') queueMicrotask(() => this.closePeer(event.roomId, event.peerId, 1000, 'Peer removed'));
      else if (event.type === 'roomDeleted') this.closeRoom(event.roomId, 1000, 'Room stopped');
      else if (event.type === 'roomCrashed') this.closeRoom(event.roomId, 1011, 'Internal server error');
      else if (event.type === 'componentAdded') this.rooms.get(event.roomId)?.addComponent(event.componentId, event.componentType);
      else if (event.type === 'componentRemoved') this.rooms.get(event.roomId)?.removeComponent(event.componentId);
      else if (event.type === 'componentTrackRemoved') this.rooms.get(event.roomId)?.removeComponentTrack(event.componentId, event.trackId);
      else if (event.type === 'componentTrackAdded') {
        const producer = this.registry.find(event.roomId)?.components.get(event.componentId)?.tracks.get(event.trackId)?.producer;
        if (producer) this.rooms.get(event.roomId)?.addComponentTrack(event.componentId, event.trackId, producer);
      }
    });
  }

  attach(roomId: string, peerId: string, link: PeerLink): void {
    let room = this.rooms.get(roomId);
    if (!room) {
      const domainRoom = this.registry.get(roomId);
      room = new RoomSignaling(roomId, domainRoom.media, this.registry, this.logger.child({ room: roomId }), this.turn);
      // The room's components so far (later ones arrive as events).
      for (const component of domainRoom.components.values()) {
        room.addComponent(component.id, component.type);
        for (const track of component.tracks.values()) room.addComponentTrack(component.id, track.id, track.producer);
      }
      this.rooms.set(roomId, room);
    }
    room.attach(peerId, link);
  }

  isAttached(roomId: string, peerId: string): boolean {
    return this.rooms.get(roomId)?.sessions.has(peerId) ?? false;
  }

  detach(roomId: string, peerId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.detach(peerId);
    if (room.sessions.size === 0) this.rooms.delete(roomId);
  }

  receive(roomId: string, peerId: string, json: string): void {
    this.rooms.get(roomId)?.receive(peerId, json);
  }

  /** Every room's signalling, for per-peer statistics. */
  all(): RoomSignaling[] {
    return [...this.rooms.values()];
  }

  private closePeer(roomId: string, peerId: string, code: number, reason: string): void {
    const session = this.rooms.get(roomId)?.sessions.get(peerId);
    if (!session) return;
    session.link.close(code, reason);
    this.detach(roomId, peerId);
  }

  private closeRoom(roomId: string, code: number, reason: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.close(code, reason);
    this.rooms.delete(roomId);
  }
}
