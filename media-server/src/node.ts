// Builds one Fishjam node from a Config with real parts: worker pool -> rooms -> HTTP API and metrics.
// main.ts runs one; tests build as many as they like in-process.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createHttpApp } from './api/http-app.js';
import type { Config } from './config/config.js';
import { Drain } from './lifecycle/drain.js';
import { NodeState } from './lifecycle/node-state.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { NodeMetrics } from './metrics/node-metrics.js';
import { EventBus } from './rooms/event-bus.js';
import { RoomRegistry } from './rooms/room-registry.js';
import { LocalRoomService } from './rooms/room-service.js';
import { RoomMedia } from './sfu/room-media.js';
import { WorkerPool } from './sfu/worker-pool.js';
import { VERSION } from './version.js';

export interface FishjamNode {
  readonly config: Config;
  readonly bus: EventBus;
  readonly registry: RoomRegistry;
  readonly pool: WorkerPool;
  readonly state: NodeState;
  readonly metrics: NodeMetrics;
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
  const registry = new RoomRegistry({
    bus,
    logger,
    createMedia: (videoCodec) => RoomMedia.create(pool, videoCodec),
    webrtcEnabled: config.webrtcUsed,
  });
  pool.on('workerDied', ({ routerIds }) => registry.failRouters(routerIds));

  const drainer = new Drain({ state, roomCount: () => registry.size, timeoutMs: config.drainTimeoutMs, logger });
  const metrics = new NodeMetrics({
    bus,
    registry,
    workers: () => pool.stats(),
    workerRestarts: () => pool.restarts,
    draining: () => state.status === 'DRAINING',
    clusterNodes: () => 1,
  });
  const rooms = new LocalRoomService({
    registry,
    publicAddress: config.host,
    secretKeyBase: config.secretKeyBase,
    acceptsRooms: () => state.acceptsRooms,
  });
  const app = createHttpApp({
    serverApiToken: config.serverApiToken,
    logger,
    rooms,
    health: {
      state,
      version: VERSION,
      gitCommit: config.gitCommit,
      distribution: () => ({ enabled: config.dist.enabled, nodeStatus: 'UP', nodesInCluster: 1 }),
    },
    startDrain: () => void drainer.start(),
    drainStatus: () => ({ status: state.status, rooms: registry.size }),
    observeRequest: (o) => metrics.observeRequest(o),
  });

  const server = config.ssl
    ? https.createServer({ key: readFileSync(config.ssl.keyPath), cert: readFileSync(config.ssl.certPath) }, app.callback())
    : http.createServer(app.callback());
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  let metricsServer: http.Server;
  try {
    await listen(server, config.port, config.ip);
    metricsServer = await startMetricsServer(metrics.registry, config.metricsIp, config.metricsPort);
  } catch (error) {
    server.close();
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
    httpPort,
    metricsPort,
    drain: () => drainer.start(),
    stop: () =>
      (stopping ??= (async () => {
        state.set('STOPPING');
        registry.closeAll();
        await Promise.all([closeServer(server), closeServer(metricsServer)]);
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

/** 0.0.0.0 cannot go into an ICE candidate: announce the first external IPv4 instead. */
function announcedFor(listenIp: string): string | undefined {
  if (listenIp !== '0.0.0.0' && listenIp !== '::') return undefined;
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
