// The node's room operations as the REST API needs them (one shape for a local node now, and for the cluster layer to
// wrap later): validates input, talks to the registry, signs peer tokens, knows this node's public address.
import { randomUUID } from 'node:crypto';
import { DomainError } from './domain-errors.js';
import { signPeerToken } from './peer-token.js';
import { parseRoomConfig } from './room-config.js';
import type { RoomRegistry } from './room-registry.js';
import type { ComponentView, PeerView, RoomView } from './room-types.js';

export interface CreatedRoom {
  room: RoomView;
  fishjamAddress: string;
}

export interface CreatedPeer {
  peer: PeerView;
  token: string;
  peerWebsocketUrl: string;
}

export interface RoomService {
  listRooms(): Promise<RoomView[]>;
  createRoom(body: Record<string, unknown>): Promise<CreatedRoom>;
  getRoom(roomId: string): Promise<RoomView>;
  deleteRoom(roomId: string): Promise<void>;
  addPeer(roomId: string, body: Record<string, unknown>): Promise<CreatedPeer>;
  removePeer(roomId: string, peerId: string): Promise<void>;
  addComponent(roomId: string, body: Record<string, unknown>): Promise<ComponentView>;
  removeComponent(roomId: string, componentId: string): Promise<void>;
  subscribeComponent(roomId: string, componentId: string, body: Record<string, unknown>): Promise<void>;
  /** POST /sip/:room/:component/call: the number dialled */
  dialSip(roomId: string, componentId: string, body: Record<string, unknown>): Promise<string>;
  /** DELETE /sip/:room/:component/call */
  endSipCall(roomId: string, componentId: string): Promise<void>;
}

/** What runs components (components/ implements it; rooms/ only passes requests on). */
export interface ComponentOperations {
  add(roomId: string, body: Record<string, unknown>): Promise<ComponentView>;
  remove(roomId: string, componentId: string): Promise<void>;
  subscribe(roomId: string, componentId: string, body: Record<string, unknown>): Promise<void>;
  dial(roomId: string, componentId: string, body: Record<string, unknown>): Promise<string>;
  hangUp(roomId: string, componentId: string): Promise<void>;
}

export interface LocalRoomServiceDeps {
  readonly registry: RoomRegistry;
  /** FJ_HOST: what clients use to reach this node. */
  readonly publicAddress: string;
  readonly secretKeyBase: string;
  readonly now?: () => number;
  readonly generateRoomId?: () => string;
  /** False while draining: rooms go on, no new ones start here. */
  readonly acceptsRooms: () => boolean;
  readonly components: ComponentOperations;
}

export class LocalRoomService implements RoomService {
  private readonly now: () => number;
  private readonly generateRoomId: () => string;

  constructor(private readonly deps: LocalRoomServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.generateRoomId = deps.generateRoomId ?? randomUUID;
  }

  async listRooms(): Promise<RoomView[]> {
    return this.deps.registry.list().map((r) => r.view());
  }

  async createRoom(body: Record<string, unknown>): Promise<CreatedRoom> {
    const config = parseRoomConfig(body, this.generateRoomId);
    if (!this.deps.acceptsRooms()) {
      throw new DomainError('node_draining', 'This Fishjam instance is draining and accepts no new rooms');
    }
    const room = await this.deps.registry.create(config);
    return { room: room.view(), fishjamAddress: this.deps.publicAddress };
  }

  async getRoom(roomId: string): Promise<RoomView> {
    return this.deps.registry.get(roomId).view();
  }

  async deleteRoom(roomId: string): Promise<void> {
    this.deps.registry.delete(roomId);
  }

  async addPeer(roomId: string, body: Record<string, unknown>): Promise<CreatedPeer> {
    this.deps.registry.get(roomId);
    if (!('type' in body)) throw new DomainError('invalid_peer_options', 'Invalid request body structure');
    const { peer } = this.deps.registry.addPeer(roomId, body.type, body.options);
    return {
      peer: peer.view(),
      token: signPeerToken({ roomId, peerId: peer.id }, this.deps.secretKeyBase, this.now()),
      peerWebsocketUrl: `${this.deps.publicAddress}/socket/peer/websocket`,
    };
  }

  async removePeer(roomId: string, peerId: string): Promise<void> {
    this.deps.registry.removePeer(roomId, peerId);
  }

  addComponent(roomId: string, body: Record<string, unknown>): Promise<ComponentView> {
    return this.deps.components.add(roomId, body);
  }

  removeComponent(roomId: string, componentId: string): Promise<void> {
    return this.deps.components.remove(roomId, componentId);
  }

  subscribeComponent(roomId: string, componentId: string, body: Record<string, unknown>): Promise<void> {
    return this.deps.components.subscribe(roomId, componentId, body);
  }

  dialSip(roomId: string, componentId: string, body: Record<string, unknown>): Promise<string> {
    return this.deps.components.dial(roomId, componentId, body);
  }

  endSipCall(roomId: string, componentId: string): Promise<void> {
    return this.deps.components.hangUp(roomId, componentId);
  }
}
