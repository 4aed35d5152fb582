// Starts child-node.ts in a process of its own and talks to it over HTTP on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TOKEN } from '../support/test-node.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ChildNode {
  child: ChildProcess;
  name: string;
  httpPort: number;
  api: (path: string, init?: { method?: string; json?: unknown; timeoutMs?: number }) => Promise<{ status: number; body: any }>;
  stop: () => Promise<void>;
}

export async function startChildNode(env: Record<string, string>, timeoutMs = 30_000): Promise<ChildNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'child-node.ts'), JSON.stringify(env)], {
    cwd: path.resolve(here, '../..'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + String(d)).slice(-4000)));
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child node did not start: ${err}`)), timeoutMs);
    readline.createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child node exited ${code}: ${err}`));
    });
  });
  const { httpPort, name } = JSON.parse(first) as { httpPort: number; name: string };
  const api: ChildNode['api'] = async (p, init = {}) => {
    const res = await fetch(`http://127.0.0.1:${httpPort}${p}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { child, name, httpPort, api, stop };
}
