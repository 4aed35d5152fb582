// Fishjam's /health (authenticated) and the unauthenticated Kubernetes probes /livez and /readyz, which reveal
// nothing but the status code and one word.
import type Router from '@koa/router';
import type { NodeState } from '../../lifecycle/node-state.js';

export interface HealthSource {
  readonly state: NodeState;
  readonly version: string;
  readonly gitCommit: string;
  readonly distribution: () => { enabled: boolean; nodeStatus: 'UP' | 'DOWN'; nodesInCluster: number };
}

export function mountProbeRoutes(router: Router, health: HealthSource): void {
  router.get('/livez', (ctx) => {
    ctx.body = { status: 'alive' };
  });
  router.get('/readyz', (ctx) => {
    const ready = health.state.status === 'SERVING';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : health.state.status.toLowerCase() };
  });
}

export function mountHealthRoute(router: Router, health: HealthSource): void {
  router.get('/health', (ctx) => {
    ctx.body = {
      data: {
        status: 'UP',
        uptime: Math.floor((Date.now() - health.state.startedAt) / 1000),
        version: health.version,
        gitCommit: health.gitCommit,
        nodeState: health.state.status,
        distribution: health.distribution(),
      },
    };
  });
}
