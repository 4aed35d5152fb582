// One process of the cluster simulation (cluster-sim.ts starts several): hosts a slice of the simulated nodes. Each
// node is the real cluster layer of a media node (ClusterNode with its dist listener and port mapper, and
// ClusterRoomService for placement and routed creates) on a loopback address of its own, as one node per host is in
// a deployment; only the local rooms are stubbed (no mediasoup): each node reports 1000 rooms plus the rooms created
// on it during the run. The parent drives it over the IPC channel; answers carry the request's id.
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { ClusterNode } from '../src/cluster/cluster-node.js';
import { ClusterRoomService } from '../src/cluster/cluster-room-service.js';
import { generatedRoomId } from '../src/cluster/room-owner.js';
import type { DistConfig } from '../src/config/config.js';
import { DomainError } from '../src/rooms/domain-errors.js';
import type { CreatedPeer, CreatedRoom, RoomService } from '../src/rooms/room-service.js';
import type { ComponentView, RoomView } from '../src/rooms/room-types.js';

export interface SimNodeSpec {
  readonly index: number;
  readonly name: string;
  readonly ip: string;
  readonly seeds: readonly string[];
  /** measured nodes run the production link timings; the others (if any) the relaxed ones, to save CPU */
  readonly measured: boolean;
}

/** Heartbeats of the unmeasured nodes: a tenth of the pings, a quarter of the checks. On a link to a measured node
 *  the measured end pings every 500 ms of silence, so the other end hears it and never pings: that link behaves as
 *  in production. */
export const RELAXED_TIMINGS = { pingAfterMs: 5000, silentAfterMs: 20_000, checkEveryMs: 1000 };

export type SimRequest =
  | { op: 'start'; nodes: SimNodeSpec[]; mapperPort: number }
  | { op: 'status'; watch?: string }
  | { op: 'traffic' }
  | { op: 'burst'; entry: number; count: number; concurrency: number }
  | { op: 'created' }
  | { op: 'stop' };

/** Rooms the synthetic load starts with on every node. */
export const BASE_ROOMS = 1000;

/** The local rooms of a simulated node: only what the cluster layer calls. */
class SimRooms implements RoomService {
  readonly rooms = new Map<string, RoomView>();

  constructor(
    private readonly self: string,
    private readonly host: string,
  ) {}

  async listRooms(): Promise<RoomView[]> {
    return [...this.rooms.values()];
  }

  async createRoom(): Promise<CreatedRoom> {
    const room: RoomView = { id: generatedRoomId(randomUUID(), this.self), config: {} as RoomView['config'], components: [], peers: [] };
    this.rooms.set(room.id, room);
    return { room, fishjamAddress: this.host };
  }

  async getRoom(roomId: string): Promise<RoomView> {
    const room = this.rooms.get(roomId);
    if (!room) throw new DomainError('room_not_found', `Room ${roomId} does not exist`);
    return room;
  }

  async deleteRoom(roomId: string): Promise<void> {
    if (!this.rooms.delete(roomId)) throw new DomainError('room_not_found', `Room ${roomId} does not exist`);
  }

  addPeer(): Promise<CreatedPeer> {
    return Promise.reject(new Error('not simulated'));
  }

  removePeer(): Promise<void> {
    return Promise.reject(new Error('not simulated'));
  }

  addComponent(): Promise<ComponentView> {
    return Promise.reject(new Error('not simulated'));
  }

  removeComponent(): Promise<void> {
    return Promise.reject(new Error('not simulated'));
  }

  subscribeComponent(): Promise<void> {
    return Promise.reject(new Error('not simulated'));
  }

  dialSip(): Promise<string> {
    return Promise.reject(new Error('not simulated'));
  }

  endSipCall(): Promise<void> {
    return Promise.reject(new Error('not simulated'));
  }
}

interface SimNode {
  readonly spec: SimNodeSpec;
  readonly cluster: ClusterNode;
  readonly rooms: SimRooms;
  readonly service: ClusterRoomService;
}

/** Log lines by message (link closures, failed dials): counted, not printed. */
const logCounts = new Map<string, number>();
const logger = pino(
  { level: 'info', base: undefined, timestamp: false },
  {
    write(line: string) {
      const record = JSON.parse(line) as { msg?: string; reason?: string; err?: string };
      // the reason, without the numbers that make every line different
      const why = String(record.reason ?? record.err ?? '').replace(/\d+/g, 'N');
      const msg = `${record.msg ?? '?'}${why ? `: ${why}` : ''}`;
      logCounts.set(msg, (logCounts.get(msg) ?? 0) + 1);
    },
  },
);

const nodes: SimNode[] = [];
/** How late this process's event loop ran (a late loop delays pongs: the others see silence). */
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

async function startNode(spec: SimNodeSpec, mapperPort: number): Promise<SimNode> {
  const dist: DistConfig = {
    enabled: true, strategy: 'NODES_LIST', mode: 'sname', nodeName: spec.name, cookie: 'sim', cookieIsDefault: false,
    nodes: [...spec.seeds], query: undefined, pollingIntervalMs: 5000, minPort: undefined, maxPort: undefined,
    tls: undefined, portMapperPort: mapperPort,
  };
  const host = `${spec.ip}:5002`;
  const rooms = new SimRooms(spec.name, host);
  // New rooms have no peers yet: they add rooms, not forwarded tracks (placement counts them at the expected cost).
  const localLoad = () => ({ state: 'SERVING' as const, rooms: BASE_ROOMS + rooms.rooms.size, peers: 2 * BASE_ROOMS, forwardedTracks: 4 * BASE_ROOMS, cpu: 0.3 });
  // The same timings as a media node (node.ts).
  const cluster = new ClusterNode({
    dist, bindIp: spec.ip, publicHost: host, portMapperPort: mapperPort, reportIntervalMs: 1000, staleAfterMs: 2000,
    leftAfterMs: 15_000, logger, localLoad, ...(spec.measured ? {} : { linkTimings: RELAXED_TIMINGS }),
  });
  await cluster.start();
  const service = new ClusterRoomService(rooms, cluster, () => ({ node: cluster.self.full, host, ...localLoad(), receivedAt: Date.now() }), 2000, logger);
  return { spec, cluster, rooms, service };
}

async function burst(entry: SimNode, count: number, concurrency: number): Promise<{ ok: number; failed: number; ms: number }> {
  const started = Date.now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  const client = async (): Promise<void> => {
    while (next < count) {
      next++;
      await entry.service.createRoom({}).then(() => ok++, () => failed++);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { ok, failed, ms: Date.now() - started };
}

async function handle(request: SimRequest): Promise<unknown> {
  switch (request.op) {
    case 'start':
      for (const spec of request.nodes) nodes.push(await startNode(spec, request.mapperPort));
      return {};
    case 'status':
      return {
        linked: nodes.map((n) => n.cluster.linkedNodes().length),
        listing: request.watch === undefined ? 0 : nodes.filter((n) => n.cluster.linkedNodes().includes(request.watch!)).length,
        listingMeasured: request.watch === undefined ? 0 : nodes.filter((n) => n.spec.measured && n.cluster.linkedNodes().includes(request.watch!)).length,
        measured: nodes.map((n) => n.spec.measured),
      };
    case 'traffic':
      return {
        out: nodes.map((n) => n.cluster.traffic().out),
        in: nodes.map((n) => n.cluster.traffic().in),
        dials: nodes.reduce((s, n) => s + n.cluster.dialsStarted, 0),
        cpuMicros: process.cpuUsage().user + process.cpuUsage().system,
        rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
        logs: Object.fromEntries(logCounts),
        loopDelayMaxMs: Math.round(loopDelay.max / 1e6),
      };
    case 'burst': {
      const entry = nodes.find((n) => n.spec.index === request.entry);
      if (!entry) throw new Error(`node ${request.entry} is not in this process`);
      return burst(entry, request.count, request.concurrency);
    }
    case 'created':
      return { created: nodes.map((n) => n.rooms.rooms.size) };
    case 'stop':
      await Promise.all(nodes.map((n) => n.cluster.stop()));
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on('message', (message: { id: number; request: SimRequest }) => {
  handle(message.request).then(
    (result) => process.send!({ id: message.id, ok: true, result }),
    (error: Error) => process.send!({ id: message.id, ok: false, error: error.message }),
  );
});
// The parent gone (it finished or was interrupted): nothing to simulate for.
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
