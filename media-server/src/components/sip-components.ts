// The SIP components of this node's rooms: each one's user agent (sip-user-agent.ts: registered from creation on),
// its call (one at a time: POST /sip/.../call dials, DELETE hangs up) and the call's media (sip-media.ts). The callee's
// audio becomes a track of the room (TrackAdded) once it answers, and leaves it (TrackRemoved) when the call ends,
// whoever ends it; the component stays for the next call. The room's audio tracks are followed for the mix sent to
// the callee. Deleted, or its room gone -> the call is hung up, the agent unregisters, its ffmpegs are stopped.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventBus } from '../rooms/event-bus.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { PeerProducerLookup } from './hls-components.js';
import { SipMedia, type RoomAudio } from './sip-media.js';
import { sipAccount, type SipSpec } from './sip-options.js';
import { SipUserAgent } from './sip-user-agent.js';

export interface SipComponentsDeps {
  readonly registry: RoomRegistry;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly ffmpegPath: string;
  readonly peerProducer: PeerProducerLookup;
  /** FJ_SIP_IP (undefined when SIP is not enabled: then no SIP component can be created) */
  readonly externalIp: string | undefined;
  /** how long a callee may send nothing before the call is ended (default RTP_TIMEOUT_MS) */
  readonly rtpTimeoutMs?: number;
}

interface Call {
  readonly media: SipMedia;
  trackId: string | undefined;
  over: boolean;
  /** someone else in the room has published audio during this call */
  heardRoom: boolean;
}

interface Entry {
  readonly room: Room;
  readonly componentId: string;
  readonly log: Logger;
  agent: SipUserAgent | undefined;
  call: Call | undefined;
  stopped: boolean;
  readonly started: Promise<void>;
  /** dial and hang-up requests, one after another (two at once must not both open a call) */
  queue: Promise<void>;
}

export class SipComponents {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly deps: SipComponentsDeps) {
    deps.bus.subscribe((event) => {
      switch (event.type) {
        case 'trackAdded':
        case 'trackRemoved':
        case 'componentTrackAdded':
        case 'componentTrackRemoved':
        case 'peerDisconnected':
        case 'peerDeleted':
          for (const entry of this.entries.values()) if (entry.room.id === event.roomId) this.followRoomAudio(entry);
      }
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The processes of these components' calls running now (for the node's CPU accounting). */
  processIds(): number[] {
    return [...this.entries.values()].flatMap((e) => e.call?.media.processIds() ?? []);
  }

  /** The agent of a component (tests). */
  agent(componentId: string): SipUserAgent | undefined {
    return this.entries.get(componentId)?.agent;
  }

  /** Packets relayed by a component's current call (tests). */
  callCounts(componentId: string): { fromCallee: number; toCallee: number } | undefined {
    return this.entries.get(componentId)?.call?.media.counts;
  }

  start(room: Room, componentId: string, spec: SipSpec): void {
    const log = this.deps.logger.child({ room: room.id, component: componentId });
    const entry: Entry = { room, componentId, log, agent: undefined, call: undefined, stopped: false, started: Promise.resolve(), queue: Promise.resolve() };
    (entry as { started: Promise<void> }).started = (async () => {
      try {
        const agent = await SipUserAgent.start(sipAccount(spec, this.deps.externalIp ?? '127.0.0.1'), log);
        if (entry.stopped) return void (await agent.close());
        entry.agent = agent;
      } catch (error) {
        log.error({ err: (error as Error).message }, 'sip component could not start its user agent');
      }
    })();
    this.entries.set(componentId, entry);
  }

  /** Dials; the answer comes at once (the call is set up in the background, as the original). */
  dial(componentId: string, phoneNumber: string): Promise<void> {
    return this.queued(componentId, (entry) => this.dialNow(entry, phoneNumber));
  }

  /** Hangs up the component's call, if any. */
  hangUp(componentId: string): Promise<void> {
    return this.queued(componentId, async (entry) => {
      entry.agent?.hangUp();
      await this.endCall(entry, 'hung up');
    });
  }

  private queued(componentId: string, op: (entry: Entry) => Promise<void>): Promise<void> {
    const entry = this.entries.get(componentId);
    if (!entry) return Promise.resolve();
    const run = entry.queue.then(async () => {
      await entry.started;
      if (!entry.stopped) await op(entry);
    });
    entry.queue = run.catch(() => undefined);
    return run;
  }

  private async dialNow(entry: Entry, phoneNumber: string): Promise<void> {
    const componentId = entry.componentId;
    if (entry.stopped || !entry.agent) return;
    await this.endCall(entry, 'a new call was dialled');
    const media = await SipMedia.open(entry.room.media, this.deps.ffmpegPath, { peerId: componentId, componentId }, entry.log).catch((error: Error) => {
      entry.log.error({ err: error.message }, 'sip call: no RTP socket');
      return undefined;
    });
    if (!media) return;
    if (entry.stopped) return void (await media.close());
    const call: Call = { media, trackId: undefined, over: false, heardRoom: false };
    entry.call = call;
    entry.log.info('sip: dialling');
    entry.agent.dial(phoneNumber, media.rtpPort, {
      answered: (remote) => void this.answered(entry, call, remote),
      ended: (reason) => {
        entry.log.info({ reason }, 'sip: call ended');
        void this.endCall(entry, reason, call);
      },
    });
  }

  async stop(componentId: string): Promise<void> {
    const entry = this.entries.get(componentId);
    if (!entry) return;
    this.entries.delete(componentId);
    entry.stopped = true;
    await entry.started;
    await entry.queue;
    await this.endCall(entry, 'component removed');
    await entry.agent?.close();
  }

  stopRoom(roomId: string): void {
    for (const [id, entry] of this.entries) if (entry.room.id === roomId) void this.stop(id);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.stop(id)));
  }

  private async answered(entry: Entry, call: Call, remote: { ip: string; port: number }): Promise<void> {
    if (call.over) return;
    entry.log.info('sip: the callee answered');
    try {
      await call.media.connect(remote, () => {
        entry.log.warn('sip: no audio from the callee for too long: hanging up');
        if (entry.call === call) entry.agent?.hangUp();
        void this.endCall(entry, 'no audio from the callee', call);
      }, this.deps.rtpTimeoutMs);
    } catch (error) {
      entry.log.error({ err: (error as Error).message }, 'sip call: media could not start');
      entry.agent?.hangUp();
      await this.endCall(entry, 'media failed', call);
      return;
    }
    const producer = await call.media.producer.catch(() => undefined);
    if (!producer || call.over || entry.stopped || !this.deps.registry.find(entry.room.id)?.components.has(entry.componentId)) return;
    call.trackId = `${entry.componentId}:${randomUUID()}`;
    this.deps.registry.addComponentTrack(entry.room.id, entry.componentId, { id: call.trackId, type: 'audio', metadata: null, producer });
    this.followRoomAudio(entry);
  }

  private async endCall(entry: Entry, reason: string, only?: Call): Promise<void> {
    const call = entry.call;
    if (!call || (only && call !== only) || call.over) return;
    call.over = true;
    entry.call = undefined;
    if (call.trackId) this.deps.registry.removeComponentTrack(entry.room.id, entry.componentId, call.trackId);
    await call.media.close();
    void reason;
  }

  /** Every audio track of the room but the callee's own: what the callee hears, mixed. */
  private followRoomAudio(entry: Entry): void {
    const call = entry.call;
    if (!call || call.over) return;
    const room = this.deps.registry.find(entry.room.id);
    if (!room) return;
    const tracks: RoomAudio[] = [];
    for (const peer of room.peers.values()) {
      for (const track of peer.tracks.values()) {
        if (track.type !== 'audio') continue;
        const producer = this.deps.peerProducer(room.id, peer.id, track.id);
        if (producer && !producer.closed) tracks.push({ trackId: track.id, producer });
      }
    }
    for (const component of room.components.values()) {
      if (component.id === entry.componentId) continue;
      for (const track of component.tracks.values()) if (track.type === 'audio' && !track.producer.closed) tracks.push({ trackId: track.id, producer: track.producer });
    }
    // As the original: the call ends when nobody else publishes audio any more (here: once someone has, during the call)
    if (tracks.length > 0) call.heardRoom = true;
    else if (call.heardRoom && call.trackId !== undefined) {
      call.heardRoom = false; // once
      entry.log.info('sip: nobody else publishes audio: hanging up');
      void this.hangUp(entry.componentId);
      return;
    }
    call.media.roomAudio(tracks);
  }
}
