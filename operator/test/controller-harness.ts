// A controller wired to the stand-in API server through the real @kubernetes/client-node, with media pods
// simulated by a fake NodeClient (their metrics and drain endpoint).
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Controller, type ControllerOptions } from '../src/controller/controller.js';
import { kubeApi, type KubeApi } from '../src/controller/kube-api.js';
import { operatorMetrics, type OperatorMetrics } from '../src/controller/operator-metrics.js';
import type { LoadResult } from '../src/status/aggregate.js';
import type { NodeClient } from '../src/status/node-client.js';
import { FakeApiServer, type FakeApiServerOptions } from './fake-kube/fake-api-server.js';
import { operatorDefaults } from './cluster-fixture.js';

export const silentLog = pino({ level: process.env['TEST_LOG'] ?? 'silent' });

export function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'test-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'test', namespace: 'default' }],
    currentContext: 'fake',
  });
  return kc;
}

export interface FakeNode {
  rooms: number;
  peers: number;
  tracks: number;
  draining: boolean;
  drainCalls: { token: string; port: number }[];
  down?: boolean;
}

export class FakeNodes implements NodeClient {
  readonly byIp = new Map<string, FakeNode>();
  node(ip: string): FakeNode {
    let n = this.byIp.get(ip);
    if (!n) {
      n = { rooms: 0, peers: 0, tracks: 0, draining: false, drainCalls: [] };
      this.byIp.set(ip, n);
    }
    return n;
  }
  async load(ip: string): Promise<LoadResult> {
    const n = this.node(ip);
    if (n.down) return { ok: false, error: 'connect ECONNREFUSED' };
    return { ok: true, load: { rooms: n.rooms, peers: n.peers, forwardedTracks: n.tracks, draining: n.draining } };
  }
  async drain(ip: string, port: number, token: string): Promise<void> {
    const n = this.node(ip);
    n.drainCalls.push({ token, port });
    n.draining = true;
  }
}

/** Simulated pods get 10.1.0.(ordinal + 10). */
export const podIp = (ordinal: number) => `10.1.0.${ordinal + 10}`;

export interface Harness {
  server: FakeApiServer;
  kc: KubeConfig;
  api: KubeApi;
  controller: Controller;
  metrics: OperatorMetrics;
  nodes: FakeNodes;
  close(): Promise<void>;
}

export async function startHarness(
  serverOptions: FakeApiServerOptions = { simulateStatefulSets: true },
  controllerOptions: Partial<ControllerOptions> = {},
): Promise<Harness> {
  const server = new FakeApiServer(serverOptions);
  const url = await server.start();
  const kc = kubeConfigFor(url);
  const api = kubeApi(kc);
  const metrics = operatorMetrics(false);
  const nodes = new FakeNodes();
  const controller = new Controller({
    kc,
    api,
    nodes,
    operator: operatorDefaults,
    metrics,
    log: silentLog,
    statusIntervalMs: 250,
    // Load totals written as soon as they change, so tests see them at once; the churn test sets the real default.
    statusLoadIntervalMs: 0,
    resyncIntervalMs: 60_000,
    backoff: { baseDelayMs: 100, maxDelayMs: 1000 },
    workers: 2,
    randomSecret: (bytes) => `secret-${bytes}`,
    ...controllerOptions,
  });
  await controller.start();
  return {
    server,
    kc,
    api,
    controller,
    metrics,
    nodes,
    async close() {
      await controller.stop();
      await server.stop();
    },
  };
}

/** Polls until check() returns a truthy value; fails with `what` after timeoutMs. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A spec as the tests write it, made valid for PodNetwork (the default mode, which needs the pod network) when it
 * names no exposure mode: the controller tests are about the controller, not exposure.
 */
export function withPodNetwork<T extends Record<string, unknown>>(spec: T): T {
  const exposure = (spec['exposure'] ?? {}) as Record<string, unknown>;
  if (exposure['mode'] !== undefined || exposure['podCidrs'] !== undefined) return spec;
  return { ...spec, exposure: { ...exposure, podCidrs: ['10.244.0.0/16'] } };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function counterValue(metrics: OperatorMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((a, v) => a + v.value, 0);
}
