// The RTSP components of this node's rooms: each one's camera (rtsp-camera.ts) started when the component is created,
// its video track added to the room when video first flows (TrackAdded), and how it ends turned into the domain's
// events. A camera that was reached and then went away -> TrackRemoved, ComponentCrashed, and only that component goes
// (the original's behaviour, kept on purpose: see README, "RTSP"). Deleted, or its room gone -> its ffmpeg is stopped.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { RtspCamera } from './rtsp-camera.js';
import type { RtspSpec } from './rtsp-options.js';

export interface RtspComponentsDeps {
  readonly registry: RoomRegistry;
  readonly logger: Logger;
  readonly ffmpegPath: string;
}

interface Entry {
  readonly roomId: string;
  camera: RtspCamera | undefined;
  stopped: boolean;
}

export class RtspComponents {
  /** componentId -> its camera (ids are uuids: unique across rooms) */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly deps: RtspComponentsDeps) {}

  get size(): number {
    return this.entries.size;
  }

  /** The processes of these components running now (for the node's CPU accounting). */
  processIds(): number[] {
    return [...this.entries.values()].map((e) => e.camera?.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Whether a component's camera runs (or is starting). */
  has(componentId: string): boolean {
    return this.entries.has(componentId);
  }

  /** The camera of a component (tests). */
  camera(componentId: string): RtspCamera | undefined {
    return this.entries.get(componentId)?.camera;
  }

  async start(room: Room, componentId: string, spec: RtspSpec): Promise<void> {
    const roomId = room.id;
    const entry: Entry = { roomId, camera: undefined, stopped: false };
    this.entries.set(componentId, entry);
    const log = this.deps.logger.child({ room: roomId, component: componentId });
    try {
      let camera: RtspCamera;
      try {
        camera = await RtspCamera.start(room.media, spec, { peerId: componentId, componentId }, this.deps.ffmpegPath, log);
      } catch (error) {
        if (entry.stopped || room.media.closed) return;
        log.error({ err: (error as Error).message }, 'rtsp component could not start');
        this.deps.registry.removeComponent(roomId, componentId, true);
        return;
      }
      entry.camera = camera;
      if (entry.stopped || !this.deps.registry.find(roomId)?.components.has(componentId)) {
        await camera.stop();
        return;
      }
      void camera.reached.then(() => {
        if (entry.stopped || !this.deps.registry.find(roomId)?.components.has(componentId)) return;
        log.info({ attempts: camera.attempts }, 'rtsp camera reached: its video is a track of the room');
        this.deps.registry.addComponentTrack(roomId, componentId, { id: `${componentId}:${randomUUID()}`, type: 'video', metadata: null, producer: camera.producer });
      });
      const end = await camera.ended;
      if (end.kind === 'stopped' || entry.stopped) return;
      log.warn({ reason: end.reason }, 'rtsp camera went away: the component crashed');
      this.deps.registry.removeComponent(roomId, componentId, true);
    } finally {
      this.entries.delete(componentId);
    }
  }

  /** Stops a component's camera (deleted); resolves when its ffmpeg has exited. */
  stop(componentId: string): Promise<void> {
    const entry = this.entries.get(componentId);
    if (!entry) return Promise.resolve();
    entry.stopped = true;
    return entry.camera?.stop() ?? Promise.resolve();
  }

  stopRoom(roomId: string): void {
    for (const [id, entry] of this.entries) if (entry.roomId === roomId) void this.stop(id);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.stop(id)));
  }
}
