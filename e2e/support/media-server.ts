// Runs the built media server (media-server/dist/main.js) as its own process on free localhost ports.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export interface RunningServer {
  base: string;
  host: string;
  token: string;
  child: ChildProcess;
  output: () => string;
  api: (path: string, init?: RequestInit & { json?: unknown }) => Promise<{ status: number; body: any }>;
  stop: () => Promise<number | null>;
}

export async function startMediaServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  const token = env.FJ_SERVER_API_TOKEN ?? 'e2e-token';
  const child = spawn(process.execPath, [path.join(root, 'media-server/dist/main.js')], {
    env: { ...process.env, FJ_MODE: 'development', FJ_SERVER_API_TOKEN: token, FJ_PORT: String(port), FJ_METRICS_PORT: String(await freePort()), FJ_WORKERS: '1', FJ_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (!(await fetch(`${base}/readyz`).catch(() => undefined))?.ok) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`media server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const api: RunningServer['api'] = async (p, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
    const res = await fetch(base + p, { ...init, headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    base,
    host: `127.0.0.1:${port}`,
    token,
    child,
    output: () => out,
    api,
    stop: async () => {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
}
