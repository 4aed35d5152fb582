// Builds one Fishjam node from a Config with real parts: worker pool -> rooms -> HTTP API and metrics.
// main.ts runs one; tests build as many as they like in-process.
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createHttpApp } from './api/http-app.js';
import type { Config } from './config/config.js';
import { Drain } from './lifecycle/drain.js';
import { NodeState } from './lifecycle/node-state.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { NodeMetrics } from './metrics/node-metrics.js';
import { availableCores, ProcessCpu } from './metrics/process-cpu.js';
import { componentShare, type ComponentCpu } from './metrics/load-ratio.js';

/** How often the component processes' CPU is read. */
const COMPONENT_CPU_SAMPLE_MS = 1000;
import { EventBus } from './rooms/event-bus.js';
import { RoomRegistry } from './rooms/room-registry.js';
import { LocalRoomService } from './rooms/room-service.js';
import { RoomMedia } from './sfu/room-media.js';
import { WorkerPool } from './sfu/worker-pool.js';
import { VERSION } from './version.js';
import { mountWebSockets } from './api/websocket-routes.js';
import type { NotificationHub } from './notifications/notification-hub.js';
import { startMetricsReporter } from './notifications/metrics-reporter.js';
import { handleServerSocket } from './notifications/server-socket.js';
import { WebhookSender } from './notifications/webhook-sender.js';
import { collectPeerStats } from './signaling/peer-stats.js';
import { handlePeerSocket } from './signaling/peer-socket.js';
import { SignalingHub } from './signaling/signaling-hub.js';
import { startTurnServer, type TurnServer } from './turn/turn-server.js';
import { randomUUID } from 'node:crypto';
import { ClusterNode } from './cluster/cluster-node.js';
import { ClusterRoomService } from './cluster/cluster-room-service.js';
import { PeerSocketProxy } from './cluster/peer-socket-proxy.js';
import { ClusterFiles } from './cluster/cluster-files.js';
import { generatedRoomId } from './cluster/room-owner.js';
import { ObservedNotificationHub, shareNotifications } from './cluster/cluster-notifications.js';
import { withEffectiveCookie } from './cluster/dist-cookie.js';
import type { RoomService } from './rooms/room-service.js';
import { ComponentManager } from './components/component-manager.js';
import { Recordings } from './components/recordings.js';
import { clusterOverviewSource } from './pages/cluster-overview.js';
import { pageAccess } from './pages/page-access.js';
import { loadStaticAssets } from './pages/static-assets.js';
import { fileURLToPath } from 'node:url';

export interface FishjamNode {
  readonly config: Config;
  readonly bus: EventBus;
  readonly registry: RoomRegistry;
  readonly pool: WorkerPool;
  readonly state: NodeState;
  readonly metrics: NodeMetrics;
  readonly notifications: NotificationHub;
  readonly cluster: ClusterNode | undefined;
  readonly webhooks: WebhookSender;
  readonly components: ComponentManager;
  /** Actual ports (a config port of 0 picks a free one, which tests use). */
  readonly httpPort: number;
  readonly metricsPort: number;
  /** Stop taking rooms; resolves when empty or timed out. */
  drain(): Promise<'empty' | 'timeout'>;
  /** Close every room (peers told, events sent), the listeners and the workers. */
  stop(): Promise<void>;
}

export async function startNode(config: Config, logger: Logger): Promise<FishjamNode> {
  const state = new NodeState();
  const bus = new EventBus();
  const pool = await WorkerPool.start({
    size: config.workers,
    listenIp: config.webrtc.listenIp,
    announcedAddress: config.webrtc.announcedIp ?? announcedFor(config.webrtc.listenIp),
    minPort: config.webrtc.minPort,
    maxPort: config.webrtc.maxPort,
    logger,
  });
  const webrtcAddress = config.webrtc.announcedIp ?? announcedFor(config.webrtc.listenIp) ?? config.webrtc.listenIp;
  let turn: TurnServer | undefined;
  if (config.webrtcUsed) {
    try {
      turn = await startTurnServer({
        ...config.webrtc.turn,
        announcedIp: config.webrtc.turn.announcedIp ?? webrtcAddress,
        allowedPeerIps: await relayTargets(webrtcAddress, config.webrtc.listenIp, logger),
        mediaPorts: { min: config.webrtc.minPort, max: config.webrtc.maxPort },
        logger,
      });
    } catch (error) {
      pool.close();
      throw error;
    }
  }
  const registry = new RoomRegistry({
    bus,
    logger,
    createMedia: (videoCodec) => RoomMedia.create(pool, videoCodec, config.workerMaxConsumers),
    webrtcEnabled: config.webrtcUsed,
  });
  pool.on('workerDied', ({ routerIds }) => registry.failRouters(routerIds));
  const components = new ComponentManager({
    registry,
    bus,
    logger: logger.child({ component: 'components' }),
    resourcesBasePath: config.resourcesBasePath,
    componentsUsed: config.componentsUsed,
    sipIp: config.sipIp,
    s3: config.s3,
    // peers' producers live in their room's signalling (created when the first peer's socket attaches)
    peerProducer: (roomId, peerId, trackId) =>
      signaling.all().find((r) => r.roomId === roomId)?.sessions.get(peerId)?.published.get(trackId)?.producer,
  });

  const signaling = new SignalingHub(registry, bus, logger, turn);
  const notifications = new ObservedNotificationHub(bus);
  const webhooks = new WebhookSender(bus, (roomId) => registry.find(roomId)?.config.webhookUrl, logger, { allowPrivate: config.webhookAllowPrivate });

  // The component processes' CPU, sampled every second (placement and the load ratio read the last sample).
  const processCpu = new ProcessCpu();
  let componentCpu: ComponentCpu = { cores: 0, available: availableCores() };
  const cpuTimer = setInterval(() => {
    componentCpu = { cores: processCpu.sample(components.processIds()), available: componentCpu.available };
  }, COMPONENT_CPU_SAMPLE_MS);
  cpuTimer.unref();
  const drainer = new Drain({ state, roomCount: () => registry.size, timeoutMs: config.drainTimeoutMs, logger });
  const metrics = new NodeMetrics({
    bus,
    registry,
    workers: () => pool.stats(),
    workerRestarts: () => pool.restarts,
    draining: () => state.status === 'DRAINING',
    clusterNodes: () => clusterSize(),
    workerMaxConsumers: config.workerMaxConsumers,
    componentCpu: () => componentCpu,
  });
  const localLoad = () => {
    const workers = pool.stats();
    return {
      state: state.status,
      rooms: registry.size,
      peers: registry.list().reduce((n, r) => n + r.peers.size, 0),
      forwardedTracks: workers.reduce((n, w) => n + w.consumers, 0),
      cpu: workers.reduce((n, w) => n + w.cpuRatio, 0) / Math.max(1, workers.length),
      componentCpu: componentShare(componentCpu),
      capacity: workers.length * config.workerMaxConsumers,
    };
  };
  let cluster: ClusterNode | undefined;
  if (config.dist.enabled) {
    cluster = new ClusterNode({
      dist: withEffectiveCookie(config.dist, config.serverApiToken),
      bindIp: config.ip,
      publicHost: config.host,
      portMapperPort: config.dist.portMapperPort,
      reportIntervalMs: 1000,
      staleAfterMs: 2000,
      leftAfterMs: 15_000,
      localLoad,
      logger: logger.child({ component: 'cluster' }),
      wantsNotifications: () => notifications.wantsNotifications(),
    });
    try {
      await cluster.start();
    } catch (error) {
      await turn?.stop();
      pool.close();
      throw error;
    }
  }
  state.on('change', () => cluster?.broadcastLoad());
  const selfName = cluster?.self.full;
  const local = new LocalRoomService({
    registry,
    publicAddress: config.host,
    secretKeyBase: config.secretKeyBase,
    acceptsRooms: () => state.acceptsRooms,
    components,
    ...(selfName ? { generateRoomId: () => generatedRoomId(randomUUID(), selfName) } : {}),
  });
  let rooms: RoomService = local;
  let proxy: PeerSocketProxy | undefined;
  let remoteFiles: ClusterFiles | undefined;
  const hls = { folderOf: (roomId: string) => components.hls.folderOf(roomId), lowLatencyOf: (roomId: string) => components.hls.lowLatencyOf(roomId) };
  const recordings = new Recordings(path.join(config.resourcesBasePath, 'recordings'), (roomId) => components.hls.isLive(roomId));
  const peerSocket = (socket: import('ws').WebSocket) => handlePeerSocket(socket, { registry, hub: signaling, secretKeyBase: config.secretKeyBase, logger });
  if (cluster) {
    const c = cluster;
    const clusterRooms = new ClusterRoomService(
      local,
      c,
      () => ({ node: c.self.full, host: config.host, ...localLoad(), receivedAt: Date.now() }),
      2000,
      logger.child({ component: 'cluster' }),
    );
    rooms = clusterRooms;
    proxy = new PeerSocketProxy(c, (roomId) => clusterRooms.locate(roomId), peerSocket, logger.child({ component: 'cluster' }));
    remoteFiles = new ClusterFiles({ cluster: c, locate: (roomId) => clusterRooms.locate(roomId), hls, recordings, logger: logger.child({ component: 'cluster' }) });
    // Server notifications are cluster-wide: each node passes its own events to the nodes that have subscribers.
    shareNotifications(c, bus, notifications);
  }
  const clusterSize = () => (cluster ? cluster.linkedNodes().length + 1 : 1);
  const nodeName = cluster?.self.full ?? config.dist.nodeName;
  const selfReport = () => ({ node: nodeName, host: config.host, ...localLoad(), receivedAt: Date.now() });
  const app = createHttpApp({
    hls,
    recordings,
    ...(remoteFiles ? { remoteFiles } : {}),
    serverApiToken: config.serverApiToken,
    logger,
    rooms,
    health: {
      state,
      version: VERSION,
      gitCommit: config.gitCommit,
      distribution: () => ({ enabled: config.dist.enabled, nodeStatus: 'UP', nodesInCluster: clusterSize() }),
    },
    startDrain: () => void drainer.start(),
    drainStatus: () => ({ status: state.status, rooms: registry.size }),
    observeRequest: (o) => metrics.observeRequest(o),
    pages: {
      access: pageAccess(config.mode, config.demoEnabled, config.serverApiToken),
      // built by `npm run build` into dist/public (the same path from src/ under tsx and from dist/)
      assets: loadStaticAssets(fileURLToPath(new URL('../dist/public/', import.meta.url))),
      rooms,
      overview: clusterOverviewSource({ selfName: nodeName, selfReport, cluster, localRooms: () => registry.list().map((r) => r.view()), staleAfterMs: 2000 }),
      info: { node: nodeName, version: VERSION, mode: config.mode, clustered: cluster !== undefined },
    },
  });

  const server = config.ssl
    ? https.createServer({ key: readFileSync(config.ssl.keyPath), cert: readFileSync(config.ssl.certPath) }, app.callback())
    : http.createServer(app.callback());
  const sockets = mountWebSockets(server as http.Server, {
    '/socket/peer/websocket': (socket) => (proxy ? proxy.accept(socket) : peerSocket(socket)),
    '/socket/server/websocket': (socket) => handleServerSocket(socket, { token: config.serverApiToken, hub: notifications, logger }),
  });
  const stopReporter = startMetricsReporter({
    hub: notifications,
    collect: () => collectPeerStats(signaling),
    countTraffic: (ingress, egress) => {
      metrics.webrtcIn.inc(ingress);
      metrics.webrtcOut.inc(egress);
    },
    logger,
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  let metricsServer: http.Server;
  try {
    await listen(server, config.port, config.ip);
    metricsServer = await startMetricsServer(metrics.registry, config.metricsIp, config.metricsPort);
  } catch (error) {
    server.close();
    stopReporter();
    await turn?.stop();
    pool.close();
    throw error;
  }
  const httpPort = (server.address() as AddressInfo).port;
  const metricsPort = (metricsServer.address() as AddressInfo).port;
  state.set('SERVING');
  logger.info({ http: `${config.ip}:${httpPort}`, metrics: `${config.metricsIp}:${metricsPort}`, host: config.host, workers: config.workers }, 'fishjam node serving');

  let stopping: Promise<void> | undefined;
  return {
    config,
    bus,
    registry,
    pool,
    state,
    metrics,
    notifications,
    cluster,
    webhooks,
    components,
    httpPort,
    metricsPort,
    drain: () => drainer.start(),
    stop: () =>
      (stopping ??= (async () => {
        state.set('STOPPING');
        clearInterval(cpuTimer);
        registry.closeAll();
        await components.stopAll(); // their processes are gone before the workers are
        stopReporter();
        await cluster?.stop();
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        await Promise.all([closeServer(server), closeServer(metricsServer), turn?.stop()]);
        pool.close();
        logger.info('fishjam node stopped');
      })()),
  };
}

function listen(server: http.Server | https.Server, port: number, ip: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The addresses TURN may relay to: this node's WebRTC candidates. coturn takes only IPs, so an announced DNS name
 * (e.g. one per pod) is resolved; the listen address is allowed too unless it is a wildcard.
 */
async function relayTargets(announced: string, listenIp: string, logger: Logger): Promise<string[]> {
  const targets = new Set<string>();
  if (isIP(announced)) targets.add(announced);
  else {
    try {
      for (const a of await lookup(announced, { all: true, family: 4 })) targets.add(a.address);
    } catch (error) {
      logger.warn({ announced, err: (error as Error).message }, 'cannot resolve the announced WebRTC address for the TURN relay');
    }
  }
  if (listenIp !== '0.0.0.0' && listenIp !== '::' && isIP(listenIp) === 4) targets.add(listenIp);
  if (targets.size === 0) targets.add('127.0.0.1');
  return [...targets];
}

/** 0.0.0.0 cannot go into an ICE candidate: announce the first external IPv4 instead. */
function announcedFor(listenIp: string): string | undefined {
  if (listenIp !== '0.0.0.0' && listenIp !== '::') return undefined;
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
