// The components of this node's rooms: checks a request (component-request.ts), records the component in the
// registry, runs its media (file-player.ts) and turns how the media ends into the domain's events: the file played to
// its end -> the component leaves by itself (TrackRemoved); the player failed -> TrackRemoved, ComponentCrashed, and
// only that component goes; deleted, or its room gone -> its player is stopped. Every player is tracked here, so none
// outlives its component, its room or this node. HLS components (one ffmpeg each, recording the room) are kept by
// hls-components.ts, Recording components by recording-components.ts (their S3 uploads run when they end; at node
// shutdown they get UPLOAD_SHUTDOWN_GRACE_MS); their count shares MAX_PLAYERS_PER_NODE with the players.
import { randomUUID } from 'node:crypto';
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { DomainError } from '../rooms/domain-errors.js';
import type { EventBus } from '../rooms/event-bus.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { ComponentOperations } from '../rooms/room-service.js';
import type { ComponentType, ComponentView } from '../rooms/room-types.js';
import { checkComponentBody, checkSubscribable, checkSubscribeBody, parseComponentRequest, type ComponentContext } from './component-request.js';
import type { FileSpec, SourceLookup } from './file-options.js';
import { FilePlayer } from './file-player.js';
import { HlsComponents, type PeerProducerLookup } from './hls-components.js';
import { RawRecordingsCleaner } from './raw-recordings-cleaner.js';
import { RecordingComponents } from './recording-components.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './s3-uploader.js';
import type { S3Config } from '../config/s3-env.js';
import { RtspComponents } from './rtsp-components.js';
import { SipComponents } from './sip-components.js';
import { parseDialBody } from './sip-options.js';

/** The component types this server can run so far; the others answer as disabled, whatever FJ_COMPONENTS_USED says. */
export const BUILT_COMPONENT_TYPES: ReadonlySet<ComponentType> = new Set<ComponentType>(['file', 'hls', 'rtsp', 'recording', 'sip']);
/** When the node stops, S3 uploads still running get this long before they are cut (and reported as failed). */
export const UPLOAD_SHUTDOWN_GRACE_MS = 20_000;
/** Players (ffmpeg processes) one node runs at once; past it a create answers 503. */
export const MAX_PLAYERS_PER_NODE = 64;

export interface ComponentManagerDeps {
  readonly registry: RoomRegistry;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** FJ_RESOURCES_BASE_PATH, absolute */
  readonly resourcesBasePath: string;
  /** FJ_COMPONENTS_USED */
  readonly componentsUsed: readonly string[];
  /** FJ_SIP_IP */
  readonly sipIp?: string;
  readonly ffmpegPath?: string;
  readonly newComponentId?: () => string;
  /** the producer of a peer's track, for HLS (peers' producers live in signalling) */
  readonly peerProducer?: PeerProducerLookup;
  /** FJ_S3_*: the Recording component's credentials and where every upload goes */
  readonly s3?: S3Config;
  readonly s3RetryPolicy?: RetryPolicy;
}

interface Running {
  readonly roomId: string;
  readonly componentId: string;
  player: FilePlayer | undefined;
  stopped: boolean;
}

export class ComponentManager implements ComponentOperations {
  private readonly running = new Map<string, Running>();
  private readonly context: ComponentContext;
  private readonly newId: () => string;
  /** aborted UPLOAD_SHUTDOWN_GRACE_MS into stopAll(): uploads still running are cut */
  private readonly shutdown = new AbortController();
  /** the HLS components (GET /hls reads their folders) */
  readonly hls: HlsComponents;
  /** the RTSP components (their cameras) */
  readonly rtsp: RtspComponents;
  /** the Recording components (raw recordings uploaded to S3) */
  readonly recordings: RecordingComponents;
  /** removes raw recordings of rooms gone for an hour (only when Recording components are enabled) */
  private readonly cleaner: RawRecordingsCleaner | undefined;
  /** the SIP components (their user agents and calls) */
  readonly sip: SipComponents;

  constructor(private readonly deps: ComponentManagerDeps) {
    this.newId = deps.newComponentId ?? randomUUID;
    const enabled = new Set(deps.componentsUsed.filter((t): t is ComponentType => BUILT_COMPONENT_TYPES.has(t as ComponentType)));
    for (const t of deps.componentsUsed) {
      if (!enabled.has(t as ComponentType)) deps.logger.warn({ type: t }, 'FJ_COMPONENTS_USED names a component type this server does not run yet: creating one answers "disabled"');
    }
    this.context = {
      enabled,
      lookup: fileSystemLookup(path.join(deps.resourcesBasePath, 'file_component_sources')),
      recordingEnv: { credentials: deps.s3?.credentials, pathPrefix: deps.s3?.pathPrefix },
    };
    this.hls = new HlsComponents({
      registry: deps.registry,
      bus: deps.bus,
      logger: deps.logger,
      resourcesBasePath: deps.resourcesBasePath,
      ffmpegPath: deps.ffmpegPath ?? 'ffmpeg',
      peerProducer: deps.peerProducer ?? (() => undefined),
      s3Endpoint: { endpoint: deps.s3?.endpoint, forcePathStyle: deps.s3?.forcePathStyle ?? false },
      ...(deps.s3RetryPolicy ? { s3RetryPolicy: deps.s3RetryPolicy } : {}),
      shutdownSignal: this.shutdown.signal,
    });
    this.rtsp = new RtspComponents({ registry: deps.registry, logger: deps.logger, ffmpegPath: deps.ffmpegPath ?? 'ffmpeg' });
    this.recordings = new RecordingComponents({
      registry: deps.registry,
      bus: deps.bus,
      logger: deps.logger,
      resourcesBasePath: deps.resourcesBasePath,
      ffmpegPath: deps.ffmpegPath ?? 'ffmpeg',
      peerProducer: deps.peerProducer ?? (() => undefined),
      s3Endpoint: { endpoint: deps.s3?.endpoint, forcePathStyle: deps.s3?.forcePathStyle ?? false },
      retryPolicy: deps.s3RetryPolicy ?? DEFAULT_RETRY_POLICY,
      shutdownSignal: this.shutdown.signal,
    });
    if (enabled.has('recording')) {
      this.cleaner = new RawRecordingsCleaner(path.join(deps.resourcesBasePath, 'raw_recordings'), (roomId) => deps.registry.find(roomId) !== undefined, deps.logger);
      this.cleaner.start();
    }
    this.sip = new SipComponents({
      registry: deps.registry,
      bus: deps.bus,
      logger: deps.logger,
      ffmpegPath: deps.ffmpegPath ?? 'ffmpeg',
      peerProducer: deps.peerProducer ?? (() => undefined),
      externalIp: deps.sipIp,
    });
    deps.bus.subscribe((event) => {
      if (event.type === 'roomDeleted' || event.type === 'roomCrashed') {
        this.stopRoom(event.roomId);
        this.rtsp.stopRoom(event.roomId);
        this.sip.stopRoom(event.roomId);
        void this.hls.stop(event.roomId);
        void this.recordings.stop(event.roomId);
      }
    });
  }

  async add(roomId: string, body: Record<string, unknown>): Promise<ComponentView> {
    const { type, options } = checkComponentBody(body);
    const room = this.deps.registry.get(roomId);
    const spec = parseComponentRequest(type, options, roomFacts(room), this.context);
    if (this.running.size + this.hls.size + this.rtsp.size + this.recordings.size + this.sip.size >= MAX_PLAYERS_PER_NODE) {
      throw new DomainError('component_capacity', `Reached the limit of ${MAX_PLAYERS_PER_NODE} playing components on this Fishjam instance`);
    }
    const component = this.deps.registry.addComponent(roomId, this.newId(), type, spec.properties);
    if (spec.type === 'hls') {
      // As the original: the answer comes at once; `playable` turns true (and HlsPlayable goes out) with the first segment.
      void this.hls.start(room, component.id, spec.hls, spec.properties);
      return component.view();
    }
    if (spec.type === 'rtsp') {
      // As the original: the answer comes at once; the track is announced when the camera's video first flows.
      void this.rtsp.start(room, component.id, spec.rtsp);
      return component.view();
    }
    if (spec.type === 'recording') {
      // As the original: the answer comes at once, without waiting for S3 (a 201 does not prove the credentials work).
      void this.recordings.start(room, component.id, spec.recording);
      return component.view();
    }
    if (spec.type === 'sip') {
      // As the original: the answer comes at once; registration goes on in the background.
      this.sip.start(room, component.id, spec.sip);
      return component.view();
    }
    // As the original: the answer comes at once, with no tracks; the track is announced when the player runs.
    void this.play(room, component.id, spec.file);
    return component.view();
  }

  async remove(roomId: string, componentId: string): Promise<void> {
    this.deps.registry.getComponent(roomId, componentId);
    const running = this.running.get(key(roomId, componentId));
    if (running) this.stop(running);
    void this.rtsp.stop(componentId);
    void this.sip.stop(componentId);
    // the folder is no longer served from now on; ffmpeg finishes in the background
    void this.hls.stop(roomId, componentId);
    void this.recordings.stop(roomId, componentId);
    this.deps.registry.removeComponent(roomId, componentId);
  }

  async subscribe(roomId: string, componentId: string, body: Record<string, unknown>): Promise<void> {
    const origins = checkSubscribeBody(body);
    const component = this.deps.registry.get(roomId).components.get(componentId);
    // 400, not 404, for a missing component here: the original's answer.
    if (!component) throw new DomainError('invalid_component', `Component ${componentId} does not exist`);
    checkSubscribable(componentId, component.type, component.properties);
    // Only HLS and Recording in manual mode get here.
    if (component.type === 'recording') this.recordings.subscribe(roomId, componentId, origins);
    else this.hls.subscribe(roomId, componentId, origins);
  }

  /** Players running now (tests and metrics). */
  get playing(): number {
    return this.running.size;
  }

  /** The processes of this node's components (for its CPU accounting: placement and the load ratio). */
  processIds(): number[] {
    const players = [...this.running.values()].map((r) => r.player?.pid).filter((pid): pid is number => pid !== undefined);
    return [...players, ...this.hls.processIds(), ...this.rtsp.processIds(), ...this.recordings.processIds(), ...this.sip.processIds()];
  }

  /** Stops every player and waits for their processes (node shutdown). */
  async stopAll(): Promise<void> {
    const cut = setTimeout(() => this.shutdown.abort(), UPLOAD_SHUTDOWN_GRACE_MS);
    cut.unref();
    try {
      await this.stopEverything();
    } finally {
      clearTimeout(cut);
    }
  }

  private async stopEverything(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => this.stop(r)));
    await this.hls.stopAll();
    await this.rtsp.stopAll();
    await this.recordings.stopAll();
    await this.cleaner?.stop();
    await this.sip.stopAll();
  }

  /** POST /sip/:room/:component/call: the original's checks in its order; the call is set up in the background. */
  async dial(roomId: string, componentId: string, body: Record<string, unknown>): Promise<string> {
    const phoneNumber = parseDialBody(body);
    this.sipComponent(roomId, componentId, 'a SIP component');
    void this.sip.dial(componentId, phoneNumber);
    return phoneNumber;
  }

  /** DELETE /sip/:room/:component/call */
  async hangUp(roomId: string, componentId: string): Promise<void> {
    this.sipComponent(roomId, componentId, 'SIP component');
    await this.sip.hangUp(componentId);
  }

  /** 404 for a missing room, 400 for a missing or non-SIP component (the original's two wordings of the latter). */
  private sipComponent(roomId: string, componentId: string, wording: string): void {
    const component = this.deps.registry.get(roomId).components.get(componentId);
    if (!component) throw new DomainError('invalid_component', `Component ${componentId} does not exist`);
    if (component.type !== 'sip') throw new DomainError('invalid_component', `Component ${componentId} is not ${wording}`);
  }

  private async play(room: Room, componentId: string, file: FileSpec): Promise<void> {
    const roomId = room.id;
    const running: Running = { roomId, componentId, player: undefined, stopped: false };
    this.running.set(key(roomId, componentId), running);
    const log = this.deps.logger.child({ room: roomId, component: componentId });
    try {
      let player: FilePlayer;
      try {
        const realRoot = this.context.lookup.realRoot();
        if (realRoot === undefined) throw new Error('the sources folder is gone');
        player = await FilePlayer.start(room.media, file, { peerId: componentId, componentId }, this.deps.ffmpegPath ?? 'ffmpeg', realRoot);
      } catch (error) {
        if (running.stopped || room.media.closed) return; // deleted, or its room went, while it started
        log.error({ err: (error as Error).message }, 'file component could not start');
        this.deps.registry.removeComponent(roomId, componentId, true);
        return;
      }
      running.player = player;
      if (running.stopped || !this.deps.registry.find(roomId)?.components.has(componentId)) {
        await player.stop();
        return;
      }
      this.deps.registry.addComponentTrack(roomId, componentId, { id: `${componentId}:${randomUUID()}`, type: file.kind, metadata: null, producer: player.producer });
      const end = await player.ended;
      if (end.kind === 'stopped' || running.stopped) return;
      if (end.kind === 'finished') {
        log.info('file component played its file to the end: it leaves the room');
        this.deps.registry.removeComponent(roomId, componentId);
      } else {
        log.warn({ reason: end.reason }, 'file component crashed');
        this.deps.registry.removeComponent(roomId, componentId, true);
      }
    } finally {
      this.running.delete(key(roomId, componentId));
    }
  }

  private stop(running: Running): Promise<void> {
    running.stopped = true;
    return running.player?.stop() ?? Promise.resolve();
  }

  private stopRoom(roomId: string): void {
    for (const running of this.running.values()) if (running.roomId === roomId) void this.stop(running);
  }
}

function key(roomId: string, componentId: string): string {
  return `${roomId}\0${componentId}`;
}

function roomFacts(room: Room) {
  return { roomId: room.id, videoCodec: room.config.videoCodec, componentTypes: [...room.components.values()].map((c) => c.type) };
}

/** The sources folder on disk: regular files only, symlinks resolved (so the caller can check where they lead). */
function fileSystemLookup(root: string): SourceLookup {
  const real = (p: string): string | undefined => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  };
  return {
    root,
    realRoot: () => real(root),
    realFile: (absolutePath) => {
      const target = real(absolutePath);
      if (target === undefined) return undefined;
      try {
        return lstatSync(target).isFile() ? target : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
