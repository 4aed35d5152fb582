// The REST API's room operations for a cluster: new rooms go to the least-loaded node (from pushed load reports, no
// polling), and any node serves any room by calling its owner over the dist link. A create that fails on the chosen
// node is retried on the next best one before answering.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { HttpError, toHttpError } from '../api/http-error.js';
import { DomainError } from '../rooms/domain-errors.js';
import { parseRoomConfig } from '../rooms/room-config.js';
import type { CreatedPeer, CreatedRoom, RoomService } from '../rooms/room-service.js';
import type { RoomView } from '../rooms/room-types.js';
import { RpcError, type ClusterNode } from './cluster-node.js';
import { rankNodes, type LoadReport } from './placement.js';
import { ownerOfRoomId } from './room-owner.js';

export class ClusterRoomService implements RoomService {
  /** rooms placed on each node since its last load report */
  private readonly reserved = new Map<string, number>();

  constructor(
    private readonly local: RoomService,
    private readonly cluster: ClusterNode,
    private readonly selfReport: () => LoadReport,
    private readonly staleAfterMs: number,
    private readonly logger: Logger,
  ) {
    cluster.on('message', (message, from) => {
      if (message.t === 'load') this.reserved.delete(from);
    });
    // Calls from other nodes run here against the local rooms; failures travel back as status + message.
    const serve = (method: string, run: (params: any) => Promise<unknown>) =>
      cluster.onRequest(method, (params) =>
        run(params).catch((error: unknown) => {
          const http = toHttpError(error);
          throw http ? new RpcError(http.status, http.message) : error;
        }),
      );
    serve('room.create', (p: Record<string, unknown>) => this.local.createRoom(p));
    serve('room.list', () => this.local.listRooms());
    serve('room.get', (p: { roomId: string }) => this.local.getRoom(p.roomId));
    serve('room.delete', (p: { roomId: string }) => this.local.deleteRoom(p.roomId));
    serve('peer.add', (p: { roomId: string; body: Record<string, unknown> }) => this.local.addPeer(p.roomId, p.body));
    serve('peer.remove', (p: { roomId: string; peerId: string }) => this.local.removePeer(p.roomId, p.peerId));
  }

  async listRooms(): Promise<RoomView[]> {
    const remote = await Promise.all(
      this.cluster.linkedNodes().map((node) =>
        (this.cluster.request(node, 'room.list', {}, 2000) as Promise<RoomView[]>).catch((error: Error) => {
          this.logger.warn({ node, err: error.message }, 'listing rooms: node did not answer');
          return [] as RoomView[];
        }),
      ),
    );
    return [...(await this.local.listRooms()), ...remote.flat()];
  }

  async createRoom(body: Record<string, unknown>): Promise<CreatedRoom> {
    parseRoomConfig(body, randomUUID); // validate before placing: bad input is a 400 wherever it would land
    const roomId = typeof body.roomId === 'string' ? body.roomId : undefined;
    const heldHere = roomId !== undefined && (await this.local.getRoom(roomId).then(() => true, () => false));
    if (roomId !== undefined && (heldHere || this.cluster.holderOf(roomId) !== undefined)) {
      throw new DomainError('room_already_exists', `Cannot add room with id "${roomId}" - room already exists`);
    }
    const tried = new Set<string>();
    for (;;) {
      const ranked = rankNodes([this.selfReport(), ...this.cluster.reports()], {
        now: Date.now(),
        maxAgeMs: this.staleAfterMs,
        reserved: this.reserved,
        exclude: tried,
      });
      const target = ranked[0];
      if (!target) {
        throw new DomainError(tried.size > 0 ? 'media_unavailable' : 'node_draining', tried.size > 0 ? 'Unable to create the room on any Fishjam instance' : 'No Fishjam instance accepts new rooms');
      }
      tried.add(target.node);
      // This node's own report is read live; others' are up to a second old until their next report.
      if (target.node !== this.cluster.self.full) this.reserved.set(target.node, (this.reserved.get(target.node) ?? 0) + 1);
      try {
        if (target.node === this.cluster.self.full) return await this.local.createRoom(body);
        return (await this.cluster.request(target.node, 'room.create', body)) as CreatedRoom;
      } catch (error) {
        // A 4xx is the caller's to see; a node that just started draining or cannot serve is skipped.
        const status = error instanceof RpcError ? error.status : toHttpError(error)?.status;
        if (status !== undefined && status < 500) throw error instanceof RpcError ? toDomain(error) : error;
        this.logger.warn({ node: target.node, err: (error as Error).message }, 'room create failed on the chosen node; trying the next');
      }
    }
  }

  async getRoom(roomId: string): Promise<RoomView> {
    return this.route(roomId, () => this.local.getRoom(roomId), (node) => this.cluster.request(node, 'room.get', { roomId }) as Promise<RoomView>);
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.route(roomId, () => this.local.deleteRoom(roomId), async (node) => {
      await this.cluster.request(node, 'room.delete', { roomId });
      // A room placed there and already gone must not keep counting until the node's next report.
      const reserved = this.reserved.get(node) ?? 0;
      if (reserved > 0) this.reserved.set(node, reserved - 1);
    });
  }

  async addPeer(roomId: string, body: Record<string, unknown>): Promise<CreatedPeer> {
    return this.route(roomId, () => this.local.addPeer(roomId, body), (node) => this.cluster.request(node, 'peer.add', { roomId, body }) as Promise<CreatedPeer>);
  }

  async removePeer(roomId: string, peerId: string): Promise<void> {
    await this.route(roomId, () => this.local.removePeer(roomId, peerId), (node) => this.cluster.request(node, 'peer.remove', { roomId, peerId }));
  }

  /**
   * Which node holds a room: encoded in generated ids; for ids chosen by clients, this node if it has it, else the
   * holder named in load reports, else whichever node answers a cluster-wide lookup (a room made less than a report
   * interval ago); this node when nobody has it (it then answers 404).
   */
  async locate(roomId: string): Promise<string> {
    const encoded = ownerOfRoomId(roomId);
    if (encoded !== undefined) return encoded;
    if (await this.local.getRoom(roomId).then(() => true, () => false)) return this.cluster.self.full;
    const reported = this.cluster.holderOf(roomId);
    if (reported !== undefined) return reported;
    const answers = await Promise.all(
      this.cluster.linkedNodes().map((node) => this.cluster.request(node, 'room.get', { roomId }, 2000).then(() => node, () => undefined)),
    );
    return answers.find((n) => n !== undefined) ?? this.cluster.self.full;
  }

  private async route<T>(roomId: string, here: () => Promise<T>, there: (node: string) => Promise<unknown>): Promise<T> {
    const owner = await this.locate(roomId);
    if (owner === this.cluster.self.full) return here();
    if (!this.cluster.isLinked(owner)) {
      if (this.cluster.isKnown(owner)) throw new DomainError('owner_unreachable', `Unable to reach Fishjam instance holding room ${roomId}`);
      throw new DomainError('room_not_found', `Room ${roomId} does not exist`);
    }
    try {
      return (await there(owner)) as T;
    } catch (error) {
      if (error instanceof RpcError) throw toDomain(error);
      throw new DomainError('owner_unreachable', `Unable to reach Fishjam instance holding room ${roomId}`);
    }
  }
}

/** A remote node's failure, passed on with its own status and message. */
function toDomain(error: RpcError): Error {
  return new HttpError(error.status, error.message);
}
