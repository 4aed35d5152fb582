// The HLS components of this node's rooms (one per room at most): which tracks each records (auto: every track of
// every peer and component of the room; manual: the tracks of the endpoints named through subscribe), following the
// room's track events, their folders for GET /hls, `playable` and HlsPlayable, and a crashed ffmpeg reported as
// ComponentCrashed, and the S3 upload of the stream (HlsUploaded / HlsUploadCrashed) when the component ends. The
// manager (component-manager.ts) creates and removes them; this keeps their state.
import path from 'node:path';
import type { Logger } from 'pino';
import type { EventBus } from '../rooms/event-bus.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { HlsComponent } from './hls-component.js';
import type { HlsSpec } from './hls-options.js';
import type { SourceTrack } from './hls-session.js';
import { subscribedTracks, type PeerProducerLookup } from './subscribed-tracks.js';
import { DEFAULT_RETRY_POLICY, filesUnder, objectKey, S3Uploader, type RetryPolicy, type S3Credentials, type S3Endpoint } from './s3-uploader.js';

/** Endpoints one manual-mode HLS component may be subscribed to (ids are not checked, as in the original). */
export const MAX_SUBSCRIBED_ORIGINS = 1024;

export type { PeerProducerLookup } from './subscribed-tracks.js';

interface Entry {
  readonly roomId: string;
  readonly componentId: string;
  readonly spec: HlsSpec;
  /** the object the registry shows as the component's properties (its `playable` turns true here) */
  readonly properties: Record<string, unknown>;
  readonly origins: Set<string>;
  component: HlsComponent | undefined;
  stopped: boolean;
  /** the start (folder made, component created) */
  started: Promise<void>;
}

export interface HlsComponentsDeps {
  readonly registry: RoomRegistry;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly resourcesBasePath: string;
  readonly ffmpegPath: string;
  readonly peerProducer: PeerProducerLookup;
  /** FJ_S3_ENDPOINT / FJ_S3_FORCE_PATH_STYLE: where `s3` uploads go */
  readonly s3Endpoint: S3Endpoint;
  readonly s3RetryPolicy?: RetryPolicy;
  /** aborted when the node stops and its uploads have had their grace */
  readonly shutdownSignal?: AbortSignal;
}

/** The files of an HLS folder that are uploaded (as the original: playlists, segments and parts, init segments). */
const UPLOADED_FILE = /\.(m3u8|m4s|mp4)$/;

export class HlsComponents {
  /** roomId -> its HLS component */
  private readonly entries = new Map<string, Entry>();
  /** roomId -> the stop of its earlier HLS components, until done (bounded: one per room, removed when done) */
  private readonly stopping = new Map<string, Promise<void>>();

  constructor(private readonly deps: HlsComponentsDeps) {
    deps.bus.subscribe((event) => {
      switch (event.type) {
        case 'trackAdded':
        case 'trackRemoved':
        case 'componentTrackAdded':
        case 'componentTrackRemoved':
        case 'trackMetadataUpdated':
        case 'peerDisconnected':
        case 'peerDeleted':
          this.entries.get(event.roomId)?.component?.refresh();
      }
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The processes of the HLS components running now (for the node's CPU accounting). */
  processIds(): number[] {
    return [...this.entries.values()].map((e) => e.component?.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** The folder of a room's HLS output: temporary_hls/<room> or, when persistent, recordings/<room>. */
  folderFor(roomId: string, persistent: boolean): string {
    return path.join(this.deps.resourcesBasePath, persistent ? 'recordings' : 'temporary_hls', roomId);
  }

  /** Whether a room has an HLS component now (its recording is live: not listed or served by /recording). */
  isLive(roomId: string): boolean {
    return this.entries.has(roomId);
  }

  /** The folder GET /hls serves for a room: only while its HLS component lives. */
  folderOf(roomId: string): string | undefined {
    const entry = this.entries.get(roomId);
    return entry?.component && !entry.stopped ? entry.component.dir : undefined;
  }

  /** The low-latency state of a room's live HLS component (blocking reloads, delta playlists). */
  lowLatencyOf(roomId: string) {
    const entry = this.entries.get(roomId);
    return entry?.component && !entry.stopped ? entry.component.ll : undefined;
  }

  /**
   * Starts the component (its folder is made first, once an earlier HLS of the same room has finished with that
   * folder); resolves when it runs or failed (then it is removed, crashed).
   */
  start(room: Room, componentId: string, spec: HlsSpec, properties: Record<string, unknown>): Promise<void> {
    const entry: Entry = { roomId: room.id, componentId, spec, properties, origins: new Set(), component: undefined, stopped: false, started: Promise.resolve() };
    this.entries.set(room.id, entry);
    entry.started = this.run(room, entry);
    return entry.started;
  }

  private async run(room: Room, entry: Entry): Promise<void> {
    const { componentId, spec, properties } = entry;
    const log = this.deps.logger.child({ room: room.id, component: componentId });
    try {
      // a component deleted just before may still be stopping its ffmpeg and removing this very folder
      await this.stopping.get(room.id);
      if (entry.stopped) return;
      const component = await HlsComponent.create({
        media: room.media,
        componentId,
        spec,
        dir: this.folderFor(room.id, spec.persistent),
        ffmpegPath: this.deps.ffmpegPath,
        logger: log,
        tracks: () => this.tracksFor(entry),
        onPlayable: () => {
          if (entry.stopped) return;
          properties.playable = true;
          this.deps.bus.publish({ type: 'hlsPlayable', roomId: room.id, componentId });
        },
        onCrash: (reason) => {
          log.warn({ reason }, 'HLS component crashed');
          void this.stop(room.id, componentId).then(() => this.deps.registry.removeComponent(room.id, componentId, true));
        },
      });
      // stop() waits for this start and then stops what it made
      entry.component = component;
      if (entry.stopped) return;
      if (room.media.closed) {
        void this.stop(room.id, componentId);
        return;
      }
      component.refresh();
    } catch (error) {
      if (entry.stopped || room.media.closed) return;
      log.error({ err: (error as Error).message }, 'HLS component could not start');
      this.entries.delete(room.id);
      entry.stopped = true;
      this.deps.registry.removeComponent(room.id, componentId, true);
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

  /** Stops a room's HLS component (ffmpeg finishes, the folder goes unless persistent); a no-op if it is not there. */
  async stop(roomId: string, componentId?: string): Promise<void> {
    const entry = this.entries.get(roomId);
    if (!entry || (componentId !== undefined && entry.componentId !== componentId)) return;
    entry.stopped = true;
    this.entries.delete(roomId);
    const done = (async () => {
      await entry.started.catch(() => undefined);
      const s3 = entry.spec.s3;
      // As the original: the stream goes to S3 when the component ends (its room deleted; here also when the
      // component alone is deleted or crashed, since its folder goes then), before a non-persistent folder is removed.
      await entry.component?.stop(s3 ? (dir) => this.upload(roomId, dir, s3) : undefined);
    })();
    // later components of the room wait for this one (and any before it) to be done with the folder
    const all = Promise.all([this.stopping.get(roomId), done]).then(() => undefined);
    this.stopping.set(roomId, all);
    void all.finally(() => {
      if (this.stopping.get(roomId) === all) this.stopping.delete(roomId);
    });
    await all;
  }

  /** Sends the folder's files to `<bucket>/<room_id>/<file>`; HlsUploaded when all are there, else HlsUploadCrashed. */
  private async upload(roomId: string, dir: string, credentials: S3Credentials): Promise<void> {
    const log = this.deps.logger.child({ room: roomId });
    const uploader = new S3Uploader(credentials, this.deps.s3Endpoint, log, this.deps.s3RetryPolicy ?? DEFAULT_RETRY_POLICY);
    try {
      let files: string[];
      try {
        files = (await filesUnder(dir)).filter((f) => UPLOADED_FILE.test(f));
      } catch (error) {
        log.error({ err: (error as Error).message, ...uploader.target }, 'HLS: the folder to upload cannot be read: HlsUploadCrashed');
        this.deps.bus.publish({ type: 'hlsUploadCrashed', roomId });
        return;
      }
      const started = Date.now();
      log.info({ files: files.length, ...uploader.target }, 'HLS: uploading the stream to S3');
      const result = await uploader.uploadAll(files.map((f) => ({ file: path.join(dir, f), key: objectKey(roomId, f) })), this.deps.shutdownSignal);
      if (result.ok) {
        log.info({ files: result.uploaded, bytes: result.bytes, ms: Date.now() - started, ...uploader.target }, 'HLS: stream uploaded to S3');
        this.deps.bus.publish({ type: 'hlsUploaded', roomId });
      } else {
        const notSent = files.length - result.uploaded;
        log.error({ key: result.failedKey, attempts: result.attempts, reason: result.reason, uploaded: result.uploaded, notSent, ...uploader.target }, 'HLS: S3 upload failed: HlsUploadCrashed');
        this.deps.bus.publish({ type: 'hlsUploadCrashed', roomId });
      }
    } finally {
      uploader.close();
    }
  }

  /** Stops every component and waits for every stop still running (its S3 upload included: rooms deleted at shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((roomId) => this.stop(roomId)));
    await Promise.all([...this.stopping.values()]);
  }

  /** Every track of the room the component takes (auto: all; manual: its origins'), with the producer to consume. */
  private tracksFor(entry: Entry): SourceTrack[] {
    return subscribedTracks(this.deps.registry, this.deps.peerProducer, entry.roomId, entry.componentId, entry.spec.subscribeMode, entry.origins);
  }
}
