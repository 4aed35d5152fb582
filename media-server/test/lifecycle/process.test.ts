// The real entry point as a child process: configuration errors stop it with a message naming the variable;
// SIGTERM drains and exits 0; SIGINT stops at once and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/test-node.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, FJ_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // generous: a cold tsx start of the whole node takes tens of seconds on a loaded 2-core machine
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void exit.then(() => clearTimeout(timer));
  return { child, output: () => out, exit };
}


test('an invalid variable stops start-up with exit 1 and a message naming it', async (t) => {
  const p = run({ FJ_MODE: 'development', FJ_PORT: 'eighty', FJ_LOG_LEVEL: 'loud' });
  t.is(await p.exit, 1);
  t.regex(p.output(), /FJ_PORT must be an integer between 1 and 65535, got: eighty/);
  t.regex(p.output(), /FJ_LOG_LEVEL must be one of info, debug, warning, error, got: loud/);
});

test('production mode without FJ_SERVER_API_TOKEN refuses to start', async (t) => {
  const p = run({});
  t.is(await p.exit, 1);
  t.regex(p.output(), /FJ_SERVER_API_TOKEN is required in production mode/);
});

test('SIGTERM drains: waits for rooms up to FJ_DRAIN_TIMEOUT, then closes them and exits 0', async (t) => {
  const [port, metrics] = [await freePort(), await freePort()];
  const p = run({ FJ_MODE: 'development', FJ_PORT: String(port), FJ_METRICS_PORT: String(metrics), FJ_DRAIN_TIMEOUT: '1', FJ_STRUCTURED_LOGGING: 'true' });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, 60_000, 'the node to serve');
  // (once more if the first attempt meets a kept-alive connection the server is closing: "fetch failed" under load)
  const post = () => fetch(`${base}/room`, { method: 'POST', headers: { authorization: 'Bearer development' } });
  const created = await post().catch(async (error: Error) => {
    t.log(`POST /room: ${error.message} (${String((error as { cause?: unknown }).cause)}); again`);
    return post();
  });
  t.is(created.status, 201);
  const sent = Date.now();
  p.child.kill('SIGTERM');
  await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 503, 10_000, 'readiness to drop');
  t.is(await p.exit, 0);
  const took = Date.now() - sent;
  // bounds far from the 1 s drain timeout's neighbours (0 and 30 s), so a busy machine cannot fail them
  t.true(took >= 900 && took < 10_000, `exit after ${took} ms`);
  t.regex(p.output(), /"outcome":"timeout"/);
  t.regex(p.output(), /room deleted/);
});

test('SIGTERM on an empty node exits 0 at once; SIGINT stops immediately', async (t) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const [port, metrics] = [await freePort(), await freePort()];
    const p = run({ FJ_MODE: 'development', FJ_PORT: String(port), FJ_METRICS_PORT: String(metrics), FJ_DRAIN_TIMEOUT: '30' });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/livez`).catch(() => undefined))?.status === 200, 60_000, 'the node to serve');
    const sent = Date.now();
    p.child.kill(signal);
    t.is(await p.exit, 0, signal);
    t.true(Date.now() - sent < 10_000, `${signal} took ${Date.now() - sent} ms (the drain timeout is 30 s)`);
  }
});
