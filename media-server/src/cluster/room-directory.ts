// Where rooms with ids chosen by clients live. Generated ids name their owner; a chosen id ("my-room") does not, so
// each chosen id has a home: its registrar, the member that wins rendezvous hashing over the id (the same answer on
// every node that sees the same members). The registrar
// - serializes creates of that id: a create first claims the id there (one 201 cluster-wide; concurrent claims of the
//   same id through other nodes get 400 "... already exists"), then confirms the node that holds it;
// - answers lookups: finding a chosen id is one call, not a question to every node.
// Holders re-register their chosen ids whenever membership changes (the registrar of an id may have moved); for a
// short while after a change a lookup the registrar cannot answer falls back to asking every member.
// A registrar keeps only what is current: entries it is no longer the registrar of are dropped after a membership
// change (their holders register them with the new registrar), and so are the entries of a node that left the
// cluster. Kept, they would leak, and worse, an old holder would win over the true one when the id's registrar moves
// back here (confirmHere trusts a linked holder).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { DomainError } from '../rooms/domain-errors.js';
import { RpcError, type ClusterNode } from './cluster-node.js';
import { ownerOfRoomId } from './room-owner.js';

/** Rendezvous (highest random weight) hashing: the node whose hash with the id is highest. Pure. */
export function registrarOf(roomId: string, nodes: readonly string[]): string {
  let best = '';
  let bestHash = '';
  for (const node of nodes) {
    const h = createHash('sha256').update(node).update('\0').update(roomId).digest('hex');
    if (h > bestHash || (h === bestHash && node < best)) [best, bestHash] = [node, h];
  }
  return best;
}

/** A claim not confirmed within this time lapses (its create failed or its entry node died). */
const CLAIM_MS = 15_000;
/** After a membership change, lookups the registrar cannot answer also ask every member this long. */
const SETTLE_MS = 5_000;

interface Entry {
  /** the node holding the room; undefined while claimed by a create in flight */
  holder: string | undefined;
  key: string;
  until: number;
}

const exists = (roomId: string) => new DomainError('room_already_exists', `Cannot add room with id "${roomId}" - room already exists`);

export class RoomDirectory {
  private readonly entries = new Map<string, Entry>();
  private changedAt = Date.now();
  private reregister: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster: ClusterNode,
    /** whether this node holds a room now */
    private readonly holdsLocally: (roomId: string) => Promise<boolean>,
    /** the chosen ids of this node's rooms */
    private readonly localChosenIds: () => Promise<string[]>,
    private readonly logger: Logger,
  ) {
    cluster.onRequest('dir.claim', (p) => {
      const { roomId, key } = p as { roomId: string; key: string };
      return this.claimHere(roomId, key);
    });
    cluster.onRequest('dir.confirm', async (p, from) => {
      const { roomIds, key } = p as { roomIds: string[]; key?: string; holder?: string };
      for (const id of roomIds) this.confirmHere(id, (p as { holder?: string }).holder ?? from, key);
      return {};
    });
    cluster.onRequest('dir.release', async (p) => {
      const { roomId, key } = p as { roomId: string; key?: string };
      this.releaseHere(roomId, key);
      return {};
    });
    cluster.onRequest('dir.lookup', async (p) => ({ holder: this.holderHere((p as { roomId: string }).roomId) }));
    const changed = () => {
      this.changedAt = Date.now();
      clearTimeout(this.reregister);
      this.reregister = setTimeout(() => {
        this.dropMoved();
        void this.registerLocalRooms();
      }, 300);
      this.reregister.unref();
    };
    cluster.on('linkUp', changed);
    cluster.on('linkDown', changed);
    cluster.on('left', (node) => {
      for (const [roomId, entry] of this.entries) if (entry.holder === node) this.entries.delete(roomId);
    });
  }

  /** Registered ids held here (claims in flight included). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops the registrations of ids whose registrar is now another member (claims in flight lapse on their own). */
  private dropMoved(): void {
    for (const [roomId, entry] of this.entries) {
      if (entry.holder !== undefined && this.registrar(roomId) !== this.cluster.self.full) this.entries.delete(roomId);
    }
  }

  /** The registrar of an id under the current membership. */
  registrar(roomId: string): string {
    return registrarOf(roomId, [this.cluster.self.full, ...this.cluster.linkedNodes()]);
  }

  /** Claims a chosen id for a create identified by `key`; throws 400 "... already exists" when taken. */
  async claim(roomId: string, key: string): Promise<void> {
    const registrar = this.registrar(roomId);
    if (registrar === this.cluster.self.full) {
      await this.claimHere(roomId, key).catch((error: unknown) => {
        throw error instanceof RpcError && error.status === 400 ? exists(roomId) : error;
      });
      return;
    }
    try {
      await this.cluster.request(registrar, 'dir.claim', { roomId, key }, 3000);
    } catch (error) {
      if (error instanceof RpcError && error.status === 400) throw exists(roomId);
      throw new DomainError('media_unavailable', `Unable to reserve room id "${roomId}": ${(error as Error).message}`);
    }
  }

  /** The create with `key` made the room on `holder`. */
  confirm(roomId: string, key: string, holder: string): void {
    this.toRegistrar(roomId, 'dir.confirm', { roomIds: [roomId], key, holder }, () => this.confirmHere(roomId, holder, key));
  }

  /** The create with `key` did not make the room (or the room was deleted: no key). */
  release(roomId: string, key?: string): void {
    this.toRegistrar(roomId, 'dir.release', { roomId, key }, () => this.releaseHere(roomId, key));
  }

  /** The node holding a chosen id, or undefined when nobody does. */
  async lookup(roomId: string): Promise<string | undefined> {
    const registrar = this.registrar(roomId);
    let holder: string | undefined;
    let answered = true;
    if (registrar === this.cluster.self.full) holder = this.holderHere(roomId);
    else {
      holder = await (this.cluster.request(registrar, 'dir.lookup', { roomId }, 2000) as Promise<{ holder?: string }>).then(
        (r) => r.holder,
        () => ((answered = false), undefined),
      );
    }
    if (holder !== undefined || (answered && Date.now() - this.changedAt > SETTLE_MS)) return holder;
    // Membership changed a moment ago (registrations may still be moving) or the registrar did not answer: ask all.
    const answers = await Promise.all(
      this.cluster.linkedNodes().map((node) => this.cluster.request(node, 'room.get', { roomId }, 2000).then(() => node, () => undefined)),
    );
    return answers.find((n) => n !== undefined);
  }

  private toRegistrar(roomId: string, method: string, params: Record<string, unknown>, here: () => void): void {
    const registrar = this.registrar(roomId);
    if (registrar === this.cluster.self.full) return here();
    this.cluster.request(registrar, method, params, 3000).catch((error: Error) => {
      this.logger.warn({ roomId, registrar, method, err: error.message }, 'room directory: registrar did not answer');
    });
  }

  private async claimHere(roomId: string, key: string): Promise<Record<string, never>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = this.entries.get(roomId);
      if (!entry || entry.key === key) {
        this.entries.set(roomId, { holder: undefined, key, until: Date.now() + CLAIM_MS });
        return {};
      }
      if (entry.holder === undefined) {
        if (entry.until > Date.now()) throw new RpcError(400, exists(roomId).message);
        this.entries.delete(roomId);
        continue;
      }
      // Held: verify (the room may have been deleted or its holder gone for good).
      if (!(await this.stillHeld(roomId, entry.holder))) {
        if (this.entries.get(roomId) === entry) this.entries.delete(roomId);
        continue;
      }
      throw new RpcError(400, exists(roomId).message);
    }
    throw new RpcError(400, exists(roomId).message);
  }

  private async stillHeld(roomId: string, holder: string): Promise<boolean> {
    if (holder === this.cluster.self.full) return this.holdsLocally(roomId);
    if (!this.cluster.isLinked(holder)) return this.cluster.isKnown(holder); // unreachable: its rooms may live on
    return this.cluster.request(holder, 'room.get', { roomId }, 2000).then(
      () => true,
      (error: unknown) => !(error instanceof RpcError && error.status === 404),
    );
  }

  private confirmHere(roomId: string, holder: string, key: string | undefined): void {
    const entry = this.entries.get(roomId);
    if (entry?.holder !== undefined && entry.holder !== holder && this.cluster.isLinked(entry.holder)) {
      this.logger.warn({ roomId, holder, registered: entry.holder }, 'room directory: two nodes hold the same room id');
      return;
    }
    this.entries.set(roomId, { holder, key: key ?? entry?.key ?? '', until: 0 });
  }

  private releaseHere(roomId: string, key: string | undefined): void {
    const entry = this.entries.get(roomId);
    if (entry && (key === undefined || entry.key === key)) this.entries.delete(roomId);
  }

  private holderHere(roomId: string): string | undefined {
    return this.entries.get(roomId)?.holder;
  }

  /** Tells each registrar (under the current membership) about this node's chosen ids. */
  private async registerLocalRooms(): Promise<void> {
    const byRegistrar = new Map<string, string[]>();
    for (const id of await this.localChosenIds()) {
      if (ownerOfRoomId(id) !== undefined) continue;
      const registrar = this.registrar(id);
      if (registrar === this.cluster.self.full) this.confirmHere(id, registrar, undefined);
      else byRegistrar.set(registrar, [...(byRegistrar.get(registrar) ?? []), id]);
    }
    for (const [registrar, ids] of byRegistrar) {
      for (let i = 0; i < ids.length; i += 1000) {
        this.cluster.request(registrar, 'dir.confirm', { roomIds: ids.slice(i, i + 1000) }, 5000).catch((error: Error) => {
          this.logger.warn({ registrar, err: error.message }, 'room directory: registering rooms failed');
        });
      }
    }
  }
}
