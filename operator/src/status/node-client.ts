// The operator's two HTTP calls to media pods, kept thin: read /metrics (parsed by prometheus-text.ts) and ask
// a node to drain. Both have short timeouts so one stuck pod cannot stall a status refresh.
import type { LoadResult } from './aggregate.js';
import { nodeLoad } from './prometheus-text.js';

export interface NodeClient {
  load(podIP: string, metricsPort: number): Promise<LoadResult>;
  drain(podIP: string, httpPort: number, token: string): Promise<void>;
}

const hostPart = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

export function httpNodeClient(timeoutMs = 2000): NodeClient {
  return {
    async load(podIP, metricsPort) {
      try {
        const res = await fetch(`http://${hostPart(podIP)}:${metricsPort}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
        if (!res.ok) return { ok: false, error: `metrics endpoint answered ${res.status}` };
        return { ok: true, load: nodeLoad(await res.text()) };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err) };
      }
    },
    async drain(podIP, httpPort, token) {
      const res = await fetch(`http://${hostPart(podIP)}:${httpPort}/admin/drain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status !== 202 && res.status !== 200) throw new Error(`POST /admin/drain answered ${res.status}`);
    },
  };
}
