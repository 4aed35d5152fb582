// mediasoup workers, one per core by default, each with a WebRtcServer on its own port. Tracks each worker's load
// (routers, producers, consumers, CPU) from mediasoup's observer events, picks the least-loaded worker for a new
// router, and replaces a worker that dies (telling listeners which routers died with it).
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { chooseWorker, type WorkerLoad } from './worker-choice.js';

export interface WorkerPoolOptions {
  readonly size: number;
  readonly listenIp: string;
  readonly announcedAddress: string | undefined;
  readonly minPort: number;
  readonly maxPort: number;
  readonly logger: Logger;
  /** Path of the worker binary; undefined uses mediasoup's own. */
  readonly workerBin?: string;
}

export interface WorkerDiedEvent {
  readonly slot: number;
  readonly pid: number;
  readonly routerIds: readonly string[];
  readonly error: Error;
}

interface Slot {
  index: number;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  port: number;
  routers: Set<string>;
  producers: number;
  consumers: number;
  transports: number;
  cpuRatio: number;
  lastCpuMs: number | undefined;
  lastSampleAt: number;
}

export interface WorkerStats {
  readonly slot: number;
  readonly pid: number;
  readonly port: number;
  readonly routers: number;
  readonly producers: number;
  readonly consumers: number;
  /** open transports (WebRTC and pipe): a count that drifts up with nobody connected is a leak */
  readonly transports: number;
  readonly cpuRatio: number;
}

export class WorkerPool extends EventEmitter<{ workerDied: [WorkerDiedEvent]; workerReplaced: [WorkerStats] }> {
  private readonly slots: Slot[] = [];
  private readonly portsInUse = new Set<number>();
  private cpuTimer: NodeJS.Timeout | undefined;
  private closed = false;
  restarts = 0;

  private constructor(private readonly options: WorkerPoolOptions) {
    super();
  }

  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      for (let i = 0; i < options.size; i++) pool.slots.push(await pool.spawn(i));
    } catch (error) {
      pool.close();
      throw error;
    }
    pool.cpuTimer = setInterval(() => void pool.sampleCpu(), 1000).unref();
    return pool;
  }

  /** A router on the least-loaded worker. */
  async createRouter(mediaCodecs: types.RouterRtpCodecCapability[]): Promise<{ router: types.Router; webRtcServer: types.WebRtcServer }> {
    const slot = this.pick();
    const router = await slot.worker.createRouter({ mediaCodecs });
    return { router, webRtcServer: slot.webRtcServer };
  }

  /** Another worker's router for the same codecs, used to spread a big room's consumers (pipeToRouter). */
  leastLoadedSlotExcept(workerPids: ReadonlySet<number>): { worker: types.Worker; webRtcServer: types.WebRtcServer } | undefined {
    const others = this.slots.filter((s) => !workerPids.has(s.worker.pid));
    if (others.length === 0) return undefined;
    const chosen = others[chooseWorker(others.map(loadOf))]!;
    return { worker: chosen.worker, webRtcServer: chosen.webRtcServer };
  }

  stats(): WorkerStats[] {
    return this.slots.map((s) => ({
      slot: s.index,
      pid: s.worker.pid,
      port: s.port,
      routers: s.routers.size,
      producers: s.producers,
      consumers: s.consumers,
      transports: s.transports,
      cpuRatio: s.cpuRatio,
    }));
  }

  workerOfRouter(routerId: string): number | undefined {
    return this.slots.find((s) => s.routers.has(routerId))?.worker.pid;
  }

  close(): void {
    this.closed = true;
    if (this.cpuTimer) clearInterval(this.cpuTimer);
    for (const slot of this.slots) slot.worker.close();
  }

  private pick(): Slot {
    if (this.slots.length === 0) throw new Error('no mediasoup worker is running');
    return this.slots[chooseWorker(this.slots.map(loadOf))]!;
  }

  private async spawn(index: number): Promise<Slot> {
    const { logger } = this.options;
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      ...(this.options.workerBin ? { workerBin: this.options.workerBin } : {}),
    } as types.WorkerSettings);
    let webRtcServer: types.WebRtcServer | undefined;
    let port = 0;
    // The first free port of the range: two nodes on one host must work with defaults, so a taken port is skipped.
    for (let p = this.options.minPort; p <= this.options.maxPort && !webRtcServer; p++) {
      if (this.portsInUse.has(p)) continue;
      try {
        webRtcServer = await worker.createWebRtcServer({
          listenInfos: (['udp', 'tcp'] as const).map((protocol) => ({
            protocol,
            ip: this.options.listenIp,
            ...(this.options.announcedAddress ? { announcedAddress: this.options.announcedAddress } : {}),
            port: p,
          })),
        });
        port = p;
      } catch {
        // taken by another process: try the next port
      }
    }
    if (!webRtcServer) {
      worker.close();
      throw new Error(`no free WebRTC port in ${this.options.minPort}..${this.options.maxPort} for worker ${index}`);
    }
    this.portsInUse.add(port);
    const slot: Slot = {
      index,
      worker,
      webRtcServer,
      port,
      routers: new Set(),
      producers: 0,
      consumers: 0,
      transports: 0,
      cpuRatio: 0,
      lastCpuMs: undefined,
      lastSampleAt: Date.now(),
    };
    this.observeLoad(slot);
    worker.on('died', (error) => void this.onDied(slot, error));
    logger.info({ worker: worker.pid, slot: index, port }, 'mediasoup worker started');
    return slot;
  }

  private observeLoad(slot: Slot): void {
    slot.worker.observer.on('newrouter', (router) => {
      slot.routers.add(router.id);
      // Routers closed by the worker's death stay listed: onDied reports them as the rooms that died with it.
      router.observer.once('close', () => {
        if (!slot.worker.died) slot.routers.delete(router.id);
      });
      router.observer.on('newtransport', (transport) => {
        slot.transports++;
        transport.observer.once('close', () => slot.transports--);
        transport.observer.on('newproducer', (producer) => {
          slot.producers++;
          producer.observer.once('close', () => slot.producers--);
        });
        transport.observer.on('newconsumer', (consumer) => {
          slot.consumers++;
          consumer.observer.once('close', () => slot.consumers--);
        });
      });
    });
  }

  private async onDied(slot: Slot, error: Error): Promise<void> {
    const { logger } = this.options;
    const routerIds = [...slot.routers];
    logger.error({ worker: slot.worker.pid, slot: slot.index, routers: routerIds.length, err: error.message }, 'mediasoup worker died');
    this.portsInUse.delete(slot.port);
    const position = this.slots.indexOf(slot);
    if (position >= 0) this.slots.splice(position, 1);
    this.restarts++;
    this.emit('workerDied', { slot: slot.index, pid: slot.worker.pid, routerIds, error });
    // Replace it; a failed spawn is retried with a delay rather than leaving the node with fewer workers.
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        const replacement = await this.spawn(slot.index);
        if (this.closed) {
          replacement.worker.close();
          return;
        }
        this.slots.push(replacement);
        this.slots.sort((a, b) => a.index - b.index);
        logger.info({ worker: replacement.worker.pid, slot: slot.index }, 'mediasoup worker replaced');
        this.emit('workerReplaced', this.stats().find((s) => s.slot === slot.index)!);
        return;
      } catch (spawnError) {
        logger.error({ attempt, err: (spawnError as Error).message }, 'could not replace mediasoup worker');
        await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** attempt)));
      }
    }
  }

  private async sampleCpu(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        try {
          // The time of the request, not of the answer: on a busy machine one answer can come back late and the
          // next one early, and wall time taken at the answers then made a 1 s CPU delta look like 0.1 s (ratios of
          // 5-10 were reported). A worker is one thread: more than one core is a measuring error, clamped.
          const now = Date.now();
          const usage = await slot.worker.getResourceUsage();
          const cpuMs = usage.ru_utime + usage.ru_stime;
          if (slot.lastCpuMs !== undefined && now > slot.lastSampleAt) {
            slot.cpuRatio = Math.min(1, Math.max(0, (cpuMs - slot.lastCpuMs) / (now - slot.lastSampleAt)));
          }
          slot.lastCpuMs = cpuMs;
          slot.lastSampleAt = now;
        } catch {
          // the worker is closing or died; onDied handles it
        }
      }),
    );
  }
}

function loadOf(slot: Slot): WorkerLoad {
  return { consumers: slot.consumers, producers: slot.producers, routers: slot.routers.size };
}
