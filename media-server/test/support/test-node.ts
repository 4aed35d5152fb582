// Starts a whole node in-process with real parts (mediasoup workers, koa, prom-client) on free ports.
import { parseConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import { startNode, type FishjamNode } from '../../src/node.js';

export const TOKEN = 'test-token';

export function testConfig(env: Record<string, string> = {}): Config {
  const parsed = parseConfig(
    { FJ_MODE: 'development', FJ_SERVER_API_TOKEN: TOKEN, FJ_WORKERS: '1', FJ_LOG_LEVEL: 'error', ...env },
    { hostname: 'test-host', cpuCount: 2, randomSecret: () => 'x'.repeat(48) },
  );
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return { ...parsed.config, port: 0, metricsPort: 0 };
}

export interface TestNode {
  node: FishjamNode;
  base: string;
  /** fetch against the node with the server token unless headers say otherwise. */
  api: (path: string, init?: RequestInit & { json?: unknown }) => Promise<{ status: number; body: any; headers: Headers }>;
  stop: () => Promise<void>;
}

export async function startTestNode(
  env: Record<string, string> = {},
  overrides: Partial<Config> = {},
  /** every log line (info and up) is also pushed here, for tests of what logs say and must not say */
  logLines?: string[],
): Promise<TestNode> {
  const config = { ...testConfig(env), ...overrides };
  const quiet = {
    write: (line: string) => {
      logLines?.push(line);
      if (process.env.FJ_TEST_LOGS) process.stderr.write(line);
    },
  };
  const node = await startNode(config, createLogger({ level: logLines ? 'info' : 'error', structured: true, destination: quiet }));
  const base = `http://127.0.0.1:${node.httpPort}`;
  const api: TestNode['api'] = async (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${TOKEN}`);
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers.set('content-type', 'application/json');
    }
    const res = await fetch(base + path, { ...init, headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { node, base, api, stop: () => node.stop() };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Transports, producers and consumers open on every worker of the node: all 0 once no peer is left (else a leak). */
export function workerObjectTotals(node: FishjamNode): { transports: number; producers: number; consumers: number } {
  return node.pool
    .stats()
    .reduce((sum, w) => ({ transports: sum.transports + w.transports, producers: sum.producers + w.producers, consumers: sum.consumers + w.consumers }), { transports: 0, producers: 0, consumers: 0 });
}
