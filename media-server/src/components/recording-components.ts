// The Recording components of this node's rooms (one per room at most, as the original): which tracks each records
// (auto / manual, as HLS), following the room's track events, a new part folder per component, the upload when it
// ends (deleted, crashed, or its room gone) and a crashed ffmpeg reported as ComponentCrashed.
import path from 'node:path';
import type { Logger } from 'pino';
import type { EventBus } from '../rooms/event-bus.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { RecordingComponent } from './recording-component.js';
import type { RecordingSpec } from './recording-options.js';
import type { RetryPolicy, S3Endpoint, UploadResult } from './s3-uploader.js';
import { subscribedTracks, type PeerProducerLookup } from './subscribed-tracks.js';

/** Endpoints one manual-mode recording may be subscribed to (ids are not checked, as in the original). */
export const MAX_SUBSCRIBED_ORIGINS = 1024;

interface Entry {
  readonly roomId: string;
  readonly componentId: string;
  readonly spec: RecordingSpec;
  readonly origins: Set<string>;
  component: RecordingComponent | undefined;
  stopped: boolean;
  started: Promise<void>;
}

export interface RecordingComponentsDeps {
  readonly registry: RoomRegistry;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly resourcesBasePath: string;
  readonly ffmpegPath: string;
  readonly peerProducer: PeerProducerLookup;
  readonly s3Endpoint: S3Endpoint;
  readonly retryPolicy: RetryPolicy;
  readonly shutdownSignal?: AbortSignal;
  /** the part folder's name; a clock in tests */
  readonly now?: () => Date;
}

export class RecordingComponents {
  private readonly entries = new Map<string, Entry>();
  /** the last part name given per room (two components in the same millisecond still get different parts) */
  private readonly lastPart = new Map<string, string>();
  /** uploads still running (node shutdown waits for them) */
  private readonly finishing = new Set<Promise<unknown>>();

  /** The processes of these components running now (for the node's CPU accounting). */
  processIds(): number[] {
    return [...this.entries.values()].map((e) => e.component?.pid).filter((pid): pid is number => pid !== undefined);
  }

  constructor(private readonly deps: RecordingComponentsDeps) {
    deps.bus.subscribe((event) => {
      switch (event.type) {
        case 'trackAdded':
        case 'trackRemoved':
        case 'componentTrackAdded':
        case 'componentTrackRemoved':
        case 'peerDisconnected':
        case 'peerDeleted':
          this.entries.get(event.roomId)?.component?.refresh();
          break;
        case 'roomDeleted':
        case 'roomCrashed':
          this.lastPart.delete(event.roomId);
      }
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /** raw_recordings/<room> */
  roomFolder(roomId: string): string {
    return path.join(this.deps.resourcesBasePath, 'raw_recordings', roomId);
  }

  start(room: Room, componentId: string, spec: RecordingSpec): Promise<void> {
    const entry: Entry = { roomId: room.id, componentId, spec, origins: new Set(), component: undefined, stopped: false, started: Promise.resolve() };
    this.entries.set(room.id, entry);
    entry.started = this.run(room, entry);
    return entry.started;
  }

  private async run(room: Room, entry: Entry): Promise<void> {
    const log = this.deps.logger.child({ room: room.id, component: entry.componentId });
    try {
      const partDir = path.join(this.roomFolder(room.id), this.partName(room.id));
      const component = await RecordingComponent.create({
        media: room.media,
        roomId: room.id,
        componentId: entry.componentId,
        spec: entry.spec,
        partDir,
        ffmpegPath: this.deps.ffmpegPath,
        logger: log,
        tracks: () => subscribedTracks(this.deps.registry, this.deps.peerProducer, entry.roomId, entry.componentId, entry.spec.subscribeMode, entry.origins),
        s3Endpoint: this.deps.s3Endpoint,
        retryPolicy: this.deps.retryPolicy,
        ...(this.deps.shutdownSignal ? { shutdownSignal: this.deps.shutdownSignal } : {}),
        onCrash: (reason) => {
          log.warn({ reason }, 'recording component crashed');
          // ComponentCrashed at once; what it recorded is uploaded in the background (stop() takes the entry out
          // synchronously, so a new recording created meanwhile is not confused with this one)
          void this.stop(room.id, entry.componentId);
          this.deps.registry.removeComponent(room.id, entry.componentId, true);
        },
      });
      entry.component = component;
      log.info({ part: path.basename(partDir) }, 'recording component started');
      if (entry.stopped) return; // stop() waits for this start and then stops what it made
      if (room.media.closed) {
        void this.stop(room.id, entry.componentId);
        return;
      }
      component.refresh();
    } catch (error) {
      if (entry.stopped || room.media.closed) return;
      log.error({ err: (error as Error).message }, 'recording component could not start');
      this.entries.delete(room.id);
      entry.stopped = true;
      this.deps.registry.removeComponent(room.id, entry.componentId, true);
    }
  }

  subscribe(roomId: string, componentId: string, origins: readonly string[]): void {
    const entry = this.entries.get(roomId);
    if (!entry || entry.componentId !== componentId) return;
    for (const origin of origins) {
      if (entry.origins.size >= MAX_SUBSCRIBED_ORIGINS) break;
      entry.origins.add(origin);
    }
    entry.component?.refresh();
  }

  /** Stops a room's recording and uploads it; resolves when the upload is done (or undefined if there was none). */
  async stop(roomId: string, componentId?: string): Promise<UploadResult | undefined> {
    const entry = this.entries.get(roomId);
    if (!entry || (componentId !== undefined && entry.componentId !== componentId)) return undefined;
    entry.stopped = true;
    this.entries.delete(roomId);
    const done = (async () => {
      await entry.started.catch(() => undefined);
      return entry.component?.stop();
    })();
    this.finishing.add(done);
    try {
      return await done;
    } finally {
      this.finishing.delete(done);
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((roomId) => this.stop(roomId)));
    await Promise.all([...this.finishing]);
  }

  /** `part_<UTC time>`, later than the room's previous part even within one millisecond. */
  private partName(roomId: string): string {
    let time = (this.deps.now ?? (() => new Date()))().getTime();
    const last = this.lastPart.get(roomId);
    const lastTime = last ? Date.parse(last.slice('part_'.length)) : Number.NaN;
    if (!Number.isNaN(lastTime) && time <= lastTime) time = lastTime + 1;
    const name = `part_${new Date(time).toISOString()}`;
    this.lastPart.set(roomId, name);
    return name;
  }
}
