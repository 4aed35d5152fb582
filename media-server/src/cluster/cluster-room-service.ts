// The REST API's room operations for a cluster: new rooms go to the least-loaded node (placement.ts, from pushed load
// reports, no polling), and any node serves any room by calling its owner over the dist link.
// Creates are exactly-once: each carries an idempotency key; the owner answers a repeated key with the first result,
// and a create the entry node gave up on (timeout, link lost) is abandoned: the owner deletes the room if it made it
// anyway (at once, or when the link is back). So a create retried on the next node leaves neither a duplicate nor an
// orphan. Ids chosen by clients are claimed at their registrar first (room-directory.ts): unique cluster-wide.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { HttpError, toHttpError } from '../api/http-error.js';
import { DomainError } from '../rooms/domain-errors.js';
import { parseRoomConfig } from '../rooms/room-config.js';
import type { CreatedPeer, CreatedRoom, RoomService } from '../rooms/room-service.js';
import type { ComponentView, RoomView } from '../rooms/room-types.js';
import { checkComponentBody, checkSubscribeBody } from '../components/component-request.js';
import { parseDialBody } from '../components/sip-options.js';
import { RpcError, type ClusterNode } from './cluster-node.js';
import { DIST_MAX_PAYLOAD } from './dist-link.js';
import { rankNodes, type LoadReport } from './placement.js';
import { RoomDirectory } from './room-directory.js';
import { ownerOfRoomId } from './room-owner.js';

/** One page of a cluster-wide room list: rooms up to this many bytes of JSON (at least one room). */
export const LIST_PAGE_BYTES = 1024 * 1024;
/** How long a request for a room waits for the link to a node that other members already reach. */
const JOINING_LINK_WAIT_MS = 3000;
/** How long an owner remembers a create's key (a retry or an abandon arrives well within it). */
const CREATE_KEY_MS = 120_000;
/** How long an entry node remembers creates it abandoned on a node it could not reach. */
const ABANDON_MS = 120_000;
/** status of a room.list page refused because one room alone is too large for a dist message */
const TOO_LARGE = 507;

interface CreateRecord {
  result: Promise<CreatedRoom> | undefined;
  roomId: string | undefined;
  abandoned: boolean;
  at: number;
}

export class ClusterRoomService implements RoomService {
  /** rooms placed on each node since its last load report */
  private readonly reserved = new Map<string, number>();
  /** owner side: creates by idempotency key */
  private readonly creates = new Map<string, CreateRecord>();
  /** entry side: keys of creates given up on, per node, to abandon when its link is back */
  private readonly toAbandon = new Map<string, Map<string, number>>();
  readonly directory: RoomDirectory;

  constructor(
    private readonly local: RoomService,
    private readonly cluster: ClusterNode,
    private readonly selfReport: () => LoadReport,
    private readonly staleAfterMs: number,
    private readonly logger: Logger,
    private readonly createTimeoutMs = 5000,
  ) {
    cluster.on('load', (from) => this.reserved.delete(from));
    cluster.on('linkUp', (node) => this.sendAbandons(node));
    this.directory = new RoomDirectory(
      cluster,
      (roomId) => this.local.getRoom(roomId).then(() => true, () => false),
      async () => (await this.local.listRooms()).map((r) => r.id).filter((id) => ownerOfRoomId(id) === undefined),
      logger,
    );
    // Calls from other nodes run here against the local rooms; failures travel back as status + message.
    const serve = (method: string, run: (params: any, from: string, replyable: () => boolean) => Promise<unknown>) =>
      cluster.onRequest(method, (params, from, replyable) =>
        run(params, from, replyable).catch((error: unknown) => {
          const http = toHttpError(error);
          throw http ? new RpcError(http.status, http.message) : error;
        }),
      );
    serve('room.create', (p: { body: Record<string, unknown>; key: string }, _from, replyable) => this.createOnce(p.body, p.key, replyable));
    serve('room.abandon', async (p: { keys: string[] }) => {
      for (const key of p.keys) this.abandon(key);
      return {};
    });
    serve('room.list', (p: { after?: string; maxBytes?: number }) => this.listPage(p.after, p.maxBytes));
    serve('room.get', (p: { roomId: string }) => this.local.getRoom(p.roomId));
    serve('room.delete', (p: { roomId: string }) => this.local.deleteRoom(p.roomId));
    serve('peer.add', (p: { roomId: string; body: Record<string, unknown> }) => this.local.addPeer(p.roomId, p.body));
    serve('peer.remove', (p: { roomId: string; peerId: string }) => this.local.removePeer(p.roomId, p.peerId));
    serve('component.add', (p: { roomId: string; body: Record<string, unknown> }) => this.local.addComponent(p.roomId, p.body));
    serve('component.remove', (p: { roomId: string; componentId: string }) => this.local.removeComponent(p.roomId, p.componentId));
    serve('component.subscribe', (p: { roomId: string; componentId: string; body: Record<string, unknown> }) =>
      this.local.subscribeComponent(p.roomId, p.componentId, p.body),
    );
    serve('sip.dial', (p: { roomId: string; componentId: string; body: Record<string, unknown> }) => this.local.dialSip(p.roomId, p.componentId, p.body));
    serve('sip.hangup', (p: { roomId: string; componentId: string }) => this.local.endSipCall(p.roomId, p.componentId));
    const sweep = setInterval(() => this.sweep(), 10_000);
    sweep.unref();
  }

  async listRooms(): Promise<RoomView[]> {
    const remote = await Promise.all(
      this.cluster.linkedNodes().map((node) =>
        this.listNode(node).catch((error: Error) => {
          if (error instanceof HttpError) throw error;
          this.logger.warn({ node, err: error.message }, 'listing rooms: node did not answer');
          return [] as RoomView[];
        }),
      ),
    );
    return [...(await this.local.listRooms()), ...remote.flat()];
  }

  /** A node's rooms, page by page (each page well under the link's message limit). */
  private async listNode(node: string): Promise<RoomView[]> {
    const out: RoomView[] = [];
    let after: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      let answer: { rooms: RoomView[]; next?: string };
      try {
        answer = (await this.cluster.request(node, 'room.list', { after, maxBytes: LIST_PAGE_BYTES }, 2000)) as typeof answer;
      } catch (error) {
        // a room too large to list is the caller's to know; anything else is a node that did not answer
        if (error instanceof RpcError && error.status === TOO_LARGE) throw new HttpError(500, error.message);
        throw error;
      }
      out.push(...answer.rooms);
      if (answer.next === undefined) return out;
      after = answer.next;
    }
    return out;
  }

  private async listPage(after: string | undefined, maxBytes = LIST_PAGE_BYTES): Promise<{ rooms: RoomView[]; next?: string }> {
    const budget = Math.min(Math.max(1024, maxBytes), DIST_MAX_PAYLOAD / 2);
    const rooms = (await this.local.listRooms()).filter((r) => after === undefined || r.id > after).sort((a, b) => (a.id < b.id ? -1 : 1));
    const page: RoomView[] = [];
    let bytes = 0;
    for (const room of rooms) {
      const size = Buffer.byteLength(JSON.stringify(room));
      if (size > DIST_MAX_PAYLOAD / 2) {
        throw new RpcError(TOO_LARGE, `Room ${room.id} is too large (${size} bytes) to be listed across the cluster; GET /room/${room.id} on its node`);
      }
      if (page.length > 0 && bytes + size > budget) return { rooms: page, next: page[page.length - 1]!.id };
      page.push(room);
      bytes += size;
    }
    return { rooms: page };
  }

  async createRoom(body: Record<string, unknown>): Promise<CreatedRoom> {
    parseRoomConfig(body, randomUUID); // validate before placing: bad input is a 400 wherever it would land
    const roomId = typeof body.roomId === 'string' ? body.roomId : undefined;
    const key = randomUUID();
    if (roomId !== undefined) {
      if (await this.local.getRoom(roomId).then(() => true, () => false)) throw alreadyExists(roomId);
      await this.directory.claim(roomId, key);
    }
    const self = this.cluster.self.full;
    const tried = new Set<string>();
    try {
      for (;;) {
        const ranked = rankNodes([this.selfReport(), ...this.cluster.reports()], {
          now: Date.now(),
          maxAgeMs: this.staleAfterMs,
          reserved: this.reserved,
          exclude: tried,
          prefer: self,
        });
        const target = ranked[0];
        if (!target) {
          throw new DomainError(tried.size > 0 ? 'media_unavailable' : 'node_draining', tried.size > 0 ? 'Unable to create the room on any Fishjam instance' : 'No Fishjam instance accepts new rooms');
        }
        tried.add(target.node);
        this.reserved.set(target.node, (this.reserved.get(target.node) ?? 0) + 1);
        try {
          const created = target.node === self ? await this.local.createRoom(body) : ((await this.cluster.request(target.node, 'room.create', { body, key }, this.createTimeoutMs)) as CreatedRoom);
          if (roomId !== undefined) this.directory.confirm(roomId, key, target.node);
          return created;
        } catch (error) {
          // A 4xx is the caller's to see; a node that just started draining, cannot serve or cannot be reached is
          // skipped, and whatever it may still make of this create is abandoned.
          const status = error instanceof RpcError ? error.status : toHttpError(error)?.status;
          if (status !== undefined && status < 500) throw error instanceof RpcError ? toDomain(error) : error;
          if (target.node !== self && !(error instanceof RpcError)) this.abandonOn(target.node, key);
          this.logger.warn({ node: target.node, err: (error as Error).message }, 'room create failed on the chosen node; trying the next');
        } finally {
          // This node's own load is read live: its reservation ends with the create.
          if (target.node === self) this.reserved.set(self, Math.max(0, (this.reserved.get(self) ?? 1) - 1));
        }
      }
    } catch (error) {
      if (roomId !== undefined) this.directory.release(roomId, key);
      throw error;
    }
  }

  /** Owner side of a routed create: one room per key, however often the key arrives; none once it is abandoned. */
  private createOnce(body: Record<string, unknown>, key: string, replyable: () => boolean): Promise<CreatedRoom> {
    const known = this.creates.get(key);
    if (known?.abandoned) return Promise.reject(new DomainError('media_unavailable', 'This create was abandoned by its entry node'));
    if (known?.result) return known.result;
    const record: CreateRecord = { result: undefined, roomId: undefined, abandoned: false, at: Date.now() };
    record.result = this.local.createRoom(body).then((created) => {
      record.roomId = created.room.id;
      // The entry node gave up meanwhile, or the answer cannot reach it (its link closed): nobody will be told.
      if (record.abandoned || !replyable()) {
        record.abandoned = true;
        this.deleteAbandoned(created.room.id);
      }
      return created;
    });
    this.creates.set(key, record);
    return record.result;
  }

  private abandon(key: string): void {
    const record = this.creates.get(key);
    if (!record) {
      // the create has not arrived (yet): it is refused when it does
      this.creates.set(key, { result: undefined, roomId: undefined, abandoned: true, at: Date.now() });
      return;
    }
    if (record.abandoned) return;
    record.abandoned = true;
    if (record.roomId !== undefined) this.deleteAbandoned(record.roomId);
  }

  private deleteAbandoned(roomId: string): void {
    this.logger.warn({ roomId }, 'deleting a room whose create was abandoned by its entry node');
    this.local.deleteRoom(roomId).catch(() => undefined);
  }

  /** Entry side: tell `node` to drop create `key` now, or when its link is back. */
  private abandonOn(node: string, key: string): void {
    let keys = this.toAbandon.get(node);
    if (!keys) this.toAbandon.set(node, (keys = new Map()));
    keys.set(key, Date.now());
    if (this.cluster.isLinked(node)) this.sendAbandons(node);
  }

  private sendAbandons(node: string): void {
    const keys = this.toAbandon.get(node);
    if (!keys || keys.size === 0) return;
    const list = [...keys.keys()];
    this.cluster.request(node, 'room.abandon', { keys: list }, 5000).then(
      () => {
        for (const k of list) keys.delete(k);
      },
      (error: Error) => this.logger.warn({ node, err: error.message }, 'could not abandon creates yet'),
    );
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, r] of this.creates) if (now - r.at > CREATE_KEY_MS) this.creates.delete(key);
    for (const [node, keys] of this.toAbandon) {
      for (const [key, at] of keys) if (now - at > ABANDON_MS) keys.delete(key);
      if (keys.size === 0) this.toAbandon.delete(node);
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
    if (ownerOfRoomId(roomId) === undefined) this.directory.release(roomId);
  }

  async addPeer(roomId: string, body: Record<string, unknown>): Promise<CreatedPeer> {
    return this.route(roomId, () => this.local.addPeer(roomId, body), (node) => this.cluster.request(node, 'peer.add', { roomId, body }) as Promise<CreatedPeer>);
  }

  async removePeer(roomId: string, peerId: string): Promise<void> {
    await this.route(roomId, () => this.local.removePeer(roomId, peerId), (node) => this.cluster.request(node, 'peer.remove', { roomId, peerId }));
  }

  // Components run on their room's node. The checks the original makes before looking the room up run here first, so
  // their answers (and their order) are the same whichever node is asked, and only checked bodies travel.
  async addComponent(roomId: string, body: Record<string, unknown>): Promise<ComponentView> {
    checkComponentBody(body);
    return this.route(roomId, () => this.local.addComponent(roomId, body), (node) => this.cluster.request(node, 'component.add', { roomId, body }) as Promise<ComponentView>);
  }

  async removeComponent(roomId: string, componentId: string): Promise<void> {
    await this.route(roomId, () => this.local.removeComponent(roomId, componentId), (node) => this.cluster.request(node, 'component.remove', { roomId, componentId }));
  }

  async subscribeComponent(roomId: string, componentId: string, body: Record<string, unknown>): Promise<void> {
    const origins = checkSubscribeBody(body);
    await this.route(roomId, () => this.local.subscribeComponent(roomId, componentId, body), (node) =>
      this.cluster.request(node, 'component.subscribe', { roomId, componentId, body: { origins } }),
    );
  }

  async dialSip(roomId: string, componentId: string, body: Record<string, unknown>): Promise<string> {
    const phoneNumber = parseDialBody(body); // before the room is looked up, whichever node is asked
    return this.route(roomId, () => this.local.dialSip(roomId, componentId, body), (node) =>
      this.cluster.request(node, 'sip.dial', { roomId, componentId, body: { phoneNumber } }) as Promise<string>,
    );
  }

  async endSipCall(roomId: string, componentId: string): Promise<void> {
    await this.route(roomId, () => this.local.endSipCall(roomId, componentId), (node) => this.cluster.request(node, 'sip.hangup', { roomId, componentId }));
  }

  /**
   * Which node holds a room: encoded in generated ids; for ids chosen by clients, this node if it has it, else what
   * the id's registrar says; this node when nobody has it (it then answers 404).
   */
  async locate(roomId: string): Promise<string> {
    const encoded = ownerOfRoomId(roomId);
    if (encoded !== undefined) return encoded;
    if (await this.local.getRoom(roomId).then(() => true, () => false)) return this.cluster.self.full;
    return (await this.directory.lookup(roomId)) ?? this.cluster.self.full;
  }

  private async route<T>(roomId: string, here: () => Promise<T>, there: (node: string) => Promise<unknown>): Promise<T> {
    const owner = await this.locate(roomId);
    if (owner === this.cluster.self.full) return here();
    // A node that just (re)joined through another member may hold new rooms before its link to this node is up:
    // wait for that link briefly rather than answer 503 for a node the others reach.
    if (!this.cluster.isLinked(owner) && this.cluster.linkedElsewhere(owner)) await this.cluster.waitForLink(owner, JOINING_LINK_WAIT_MS);
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

function alreadyExists(roomId: string): DomainError {
  return new DomainError('room_already_exists', `Cannot add room with id "${roomId}" - room already exists`);
}

/** A remote node's failure, passed on with its own status and message. */
function toDomain(error: RpcError): Error {
  return new HttpError(error.status, error.message);
}
