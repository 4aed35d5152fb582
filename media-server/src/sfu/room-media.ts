// The media side of one room: its routers and the WebRtcServers their transports share. A room starts with one
// router on the least-loaded worker; once that worker holds its share of consumers (FJ_WORKER_MAX_CONSUMERS), new
// peers' transports go to a router on another worker and producers are piped there (pipeToRouter) on demand, so a
// room can outgrow one worker. Knows nothing of peers or signalling; closing it closes everything under it.
import type { types } from 'mediasoup';
import { mediaCodecsFor } from './media-codecs.js';
import type { WorkerPool } from './worker-pool.js';

interface RouterEntry {
  readonly router: types.Router;
  readonly webRtcServer: types.WebRtcServer;
  readonly workerPid: number;
  /** made once per router, on its first audio producer (a promise, so two producers arriving together share it) */
  audioLevels?: Promise<types.AudioLevelObserver>;
}

/** Per router: the audio producers above the threshold now, or silence on that router. */
export interface AudioLevelListener {
  volumes(routerId: string, producerIds: string[]): void;
  silence(routerId: string): void;
}

export class RoomMedia {
  private readonly entries: RouterEntry[] = [];
  /** producerId -> routers it is available on (its own, plus pipe targets) */
  private readonly availability = new Map<string, Set<string>>();
  private readonly pipes = new Map<string, Promise<void>>();
  private audioListener: AudioLevelListener | undefined;

  private constructor(
    private readonly pool: WorkerPool,
    private readonly mediaCodecs: types.RouterRtpCodecCapability[],
    private readonly maxConsumersPerWorker: number,
  ) {}

  static async create(pool: WorkerPool, videoCodec: 'h264' | 'vp8' | null, maxConsumersPerWorker = 500): Promise<RoomMedia> {
    const media = new RoomMedia(pool, mediaCodecsFor(videoCodec), maxConsumersPerWorker);
    const { router, webRtcServer } = await pool.createRouter(media.mediaCodecs);
    media.entries.push({ router, webRtcServer, workerPid: pool.workerOfRouter(router.id) ?? -1 });
    return media;
  }

  /** The first router's id: the room lives (and dies) with it. */
  get routerId(): string {
    return this.primary.router.id;
  }

  get routerIds(): string[] {
    return this.entries.map((e) => e.router.id);
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.primary.router.rtpCapabilities;
  }

  get closed(): boolean {
    return this.primary.router.closed;
  }

  private get primary(): RouterEntry {
    return this.entries[0]!;
  }

  /** A transport for one peer on the shared WebRtcServer port of a worker with room for more consumers. */
  async createWebRtcTransport(): Promise<types.WebRtcTransport> {
    const entry = await this.entryForNewPeer();
    const transport = await entry.router.createWebRtcTransport({
      webRtcServer: entry.webRtcServer,
      appData: { routerId: entry.router.id },
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
    });
    transport.observer.on('newproducer', (producer) => this.track(producer, entry));
    return transport;
  }

  /**
   * A producer fed with plain RTP by a local process (a component's player): a PlainTransport on the room's first
   * router, on 127.0.0.1 only, that learns the sender's port from its first packet (comedia). Closing the transport
   * closes the producer; closing the room closes both.
   */
  async createPlainProducer(
    kind: types.MediaKind,
    rtpParameters: types.RtpParameters,
    appData: Record<string, unknown>,
  ): Promise<{ transport: types.PlainTransport; producer: types.Producer; port: number }> {
    const entry = this.primary;
    const transport = await entry.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
    try {
      const producer = await transport.produce({ kind, rtpParameters, appData });
      this.track(producer, entry);
      return { transport, producer, port: transport.tuple.localPort };
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /**
   * A consumer that sends one producer's media as plain RTP to a local process (a component's recorder, e.g. the HLS
   * ffmpeg listening on a loopback `target`): a PlainTransport on the room's first router (the producer is piped there if
   * it lives on another), RTCP multiplexed on the RTP port, RTX left out (the receiver knows only the media payload
   * type). Closing the transport closes the consumer; closing the producer or the room closes both.
   */
  async createPlainConsumer(
    producerId: string,
    target: { ip: string; port: number },
    appData: Record<string, unknown>,
  ): Promise<{ transport: types.PlainTransport; consumer: types.Consumer }> {
    const entry = this.primary;
    const transport = await entry.router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: false,
      appData: { ...appData, routerId: entry.router.id },
    });
    try {
      // ensureConsumable reads only appData.routerId, which a PlainTransport carries as well
      await this.ensureConsumable(producerId, transport as unknown as types.WebRtcTransport);
      await transport.connect({ ip: target.ip, port: target.port });
      const caps = entry.router.rtpCapabilities;
      const rtpCapabilities: types.RtpCapabilities = {
        codecs: (caps.codecs ?? []).filter((c) => !c.mimeType.toLowerCase().endsWith('/rtx')),
        headerExtensions: [],
      };
      const consumer = await transport.consume({ producerId, rtpCapabilities, paused: false, appData });
      return { transport, consumer };
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /** Makes a producer consumable on the router of `transport` (piping it there once if it lives elsewhere). */
  async ensureConsumable(producerId: string, transport: types.WebRtcTransport): Promise<void> {
    const target = this.entries.find((e) => e.router.id === (transport.appData as { routerId?: string }).routerId) ?? this.primary;
    const available = this.availability.get(producerId);
    if (!available || available.has(target.router.id)) return;
    const key = `${producerId}->${target.router.id}`;
    let pipe = this.pipes.get(key);
    if (!pipe) {
      const source = this.entries.find((e) => available.has(e.router.id))!;
      pipe = source.router.pipeToRouter({ producerId, router: target.router }).then(() => {
        available.add(target.router.id);
      });
      this.pipes.set(key, pipe);
    }
    await pipe;
  }

  canConsume(producerId: string, rtpCapabilities: types.RtpCapabilities): boolean {
    return this.entries.some((e) => e.router.canConsume({ producerId, rtpCapabilities }));
  }

  /** Voice activity of every audio producer in the room, whichever router it is on. */
  onAudioLevels(listener: AudioLevelListener): void {
    this.audioListener = listener;
  }

  close(): void {
    for (const e of this.entries) if (!e.router.closed) e.router.close();
  }

  private async entryForNewPeer(): Promise<RouterEntry> {
    const loadOf = (pid: number) => this.pool.stats().find((s) => s.pid === pid)?.consumers ?? 0;
    const roomy = this.entries.find((e) => loadOf(e.workerPid) < this.maxConsumersPerWorker);
    if (roomy) return roomy;
    const used = new Set(this.entries.map((e) => e.workerPid));
    const other = this.pool.leastLoadedSlotExcept(used);
    if (!other) return this.entries.reduce((a, b) => (loadOf(a.workerPid) <= loadOf(b.workerPid) ? a : b));
    const router = await other.worker.createRouter({ mediaCodecs: this.mediaCodecs });
    const entry: RouterEntry = { router, webRtcServer: other.webRtcServer, workerPid: other.worker.pid };
    this.entries.push(entry);
    return entry;
  }

  private track(producer: types.Producer, entry: RouterEntry): void {
    this.availability.set(producer.id, new Set([entry.router.id]));
    producer.observer.once('close', () => {
      this.availability.delete(producer.id);
      for (const key of [...this.pipes.keys()]) if (key.startsWith(`${producer.id}->`)) this.pipes.delete(key);
    });
    if (producer.kind === 'audio') void this.observeAudio(producer, entry);
  }

  private async observeAudio(producer: types.Producer, entry: RouterEntry): Promise<void> {
    if (!entry.audioLevels) {
      const routerId = entry.router.id;
      entry.audioLevels = entry.router.createAudioLevelObserver({ maxEntries: 16, threshold: -55, interval: 400 }).then((observer) => {
        observer.on('volumes', (volumes) => this.audioListener?.volumes(routerId, volumes.map((v) => v.producer.id)));
        observer.on('silence', () => this.audioListener?.silence(routerId));
        return observer;
      });
    }
    const observer = await entry.audioLevels.catch(() => undefined);
    if (observer && !observer.closed && !producer.closed) await observer.addProducer({ producerId: producer.id }).catch(() => undefined);
  }
}
