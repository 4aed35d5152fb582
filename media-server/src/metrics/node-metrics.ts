// The node's Prometheus metrics (names in docs/media-server-contract.md). Gauges are read from the registry and
// the worker pool at scrape time; counters follow domain events on the bus.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestObservation } from '../api/http-app.js';
import type { EventBus } from '../rooms/event-bus.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { WorkerStats } from '../sfu/worker-pool.js';
import { LOAD_RATIO_METRIC, loadRatio, type ComponentCpu } from './load-ratio.js';

export interface NodeMetricsSources {
  readonly bus: EventBus;
  readonly registry: RoomRegistry;
  readonly workers: () => WorkerStats[];
  readonly workerRestarts: () => number;
  readonly draining: () => boolean;
  readonly clusterNodes: () => number;
  /** FJ_WORKER_MAX_CONSUMERS, the consumer capacity of one worker (for the load ratio). */
  readonly workerMaxConsumers?: number;
  /** CPU of the component processes (ffmpeg), for the load ratio */
  readonly componentCpu?: () => ComponentCpu;
}

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly httpIn: Counter;
  private readonly httpOut: Counter;
  readonly webrtcIn: Counter;
  readonly webrtcOut: Counter;

  constructor(sources: NodeMetricsSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    const { registry: rooms } = sources;
    new Gauge({ name: 'fishjam_rooms', help: 'Rooms on this node', registers: [r], collect() { this.set(rooms.size); } });
    new Gauge({
      name: 'fishjam_peers',
      help: 'Peers on this node, all rooms',
      registers: [r],
      collect() {
        this.set(rooms.list().reduce((n, room) => n + room.peers.size, 0));
      },
    });
    new Gauge({
      name: 'fishjam_room_peers',
      help: 'Peers in a room',
      labelNames: ['room_id'],
      registers: [r],
      collect() {
        this.reset();
        for (const room of rooms.list()) this.set({ room_id: room.id }, room.peers.size);
      },
    });
    new Gauge({
      name: 'fishjam_forwarded_tracks',
      help: 'Tracks forwarded to peers (consumers) on this node',
      registers: [r],
      collect() {
        this.set(sources.workers().reduce((n, w) => n + w.consumers, 0));
      },
    });
    new Gauge({ name: 'fishjam_node_draining', help: '1 while the node drains', registers: [r], collect() { this.set(sources.draining() ? 1 : 0); } });
    new Gauge({
      name: LOAD_RATIO_METRIC,
      help: 'How full this node is, 0..1: the largest of mean worker CPU, consumers over worker capacity, and the CPU of workers and component processes over the cores (for autoscalers)',
      registers: [r],
      collect() {
        this.set(loadRatio(sources.workers(), sources.workerMaxConsumers ?? 500, sources.componentCpu?.()));
      },
    });
    new Gauge({
      name: 'fishjam_component_cpu_cores',
      help: 'CPU used by the component processes of this node (ffmpeg of HLS and File components; 1 = one core)',
      registers: [r],
      collect() {
        this.set(sources.componentCpu?.().cores ?? 0);
      },
    });
    new Gauge({ name: 'fishjam_cluster_nodes', help: 'Nodes in the cluster, this one included', registers: [r], collect() { this.set(sources.clusterNodes()); } });
    const perWorker = (name: string, help: string, pick: (w: WorkerStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['worker'],
        registers: [r],
        collect() {
          this.reset();
          for (const w of sources.workers()) this.set({ worker: String(w.slot) }, pick(w));
        },
      });
    perWorker('fishjam_worker_cpu_ratio', 'CPU used by a mediasoup worker (1 = one core)', (w) => w.cpuRatio);
    perWorker('fishjam_worker_consumers', 'Consumers on a mediasoup worker', (w) => w.consumers);
    perWorker('fishjam_worker_producers', 'Producers on a mediasoup worker', (w) => w.producers);
    perWorker('fishjam_worker_transports', 'Transports (WebRTC and pipe) on a mediasoup worker', (w) => w.transports);
    perWorker('fishjam_worker_routers', 'Routers on a mediasoup worker', (w) => w.routers);
    let lastRestarts = 0;
    new Counter({
      name: 'fishjam_worker_restarts_total',
      help: 'mediasoup workers that died and were replaced',
      registers: [r],
      collect() {
        const now = sources.workerRestarts();
        if (now > lastRestarts) this.inc(now - lastRestarts);
        lastRestarts = now;
      },
    });
    this.webrtcIn = new Counter({ name: 'fishjam_traffic_ingress_webrtc_total_bytes', help: 'Bytes received from WebRTC peers', registers: [r] });
    this.webrtcOut = new Counter({ name: 'fishjam_traffic_egress_webrtc_total_bytes', help: 'Bytes sent to WebRTC peers', registers: [r] });
    this.httpIn = new Counter({ name: 'fishjam_traffic_ingress_http_total_bytes', help: 'HTTP request bytes', registers: [r] });
    this.httpOut = new Counter({ name: 'fishjam_traffic_egress_http_total_bytes', help: 'HTTP response bytes', registers: [r] });
    const connects = new Counter({ name: 'fishjam_room_peer_connects_total', help: 'Peer sockets authenticated', registers: [r] });
    const disconnects = new Counter({ name: 'fishjam_room_peer_disconnects_total', help: 'Peer sockets closed', registers: [r] });
    const crashes = new Counter({ name: 'fishjam_room_peer_crashes_total', help: 'Peers lost to a failure', registers: [r] });
    this.httpDuration = new Histogram({
      name: 'fishjam_http_request_duration_seconds',
      help: 'REST request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [r],
    });
    sources.bus.subscribe((event) => {
      if (event.type === 'peerConnected') connects.inc();
      else if (event.type === 'peerDisconnected') disconnects.inc();
      else if (event.type === 'peerCrashed') crashes.inc();
    });
  }

  observeRequest(o: RequestObservation): void {
    this.httpDuration.observe({ method: o.method, route: o.route, status: String(o.status) }, o.seconds);
    this.httpIn.inc(o.requestBytes);
    this.httpOut.inc(o.responseBytes);
  }
}
