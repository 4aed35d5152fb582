// REST benchmark: room create+delete pairs and room reads against a real node (its own process, dev mode,
// mediasoup workers included), and the same load against a bare koa route in the same run. Prints req/s, p50 and
// p99 latency, and our/bare ratios. Bounded: each run lasts BENCH_SECONDS (default 5) with 10 connections.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from '../test/support/free-port.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = 10;
const auth = { authorization: 'Bearer development', 'content-type': 'application/json' };


async function startProcess(args: string[], env: Record<string, string>, readyUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: path.resolve(here, '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await fetch(readyUrl).catch(() => undefined))?.ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${args.join(' ')} did not become ready`);
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(name: string, opts: autocannon.Options): Promise<Row> {
  const result = await autocannon({ connections, duration: seconds, ...opts });
  const non2xx = result.non2xx + result.errors + result.timeouts;
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: non2xx };
}

const ourPort = await freePort();
const barePort = await freePort();
const ours = await startProcess(['dist/main.js'], { FJ_MODE: 'development', FJ_PORT: String(ourPort), FJ_METRICS_PORT: String(await freePort()), FJ_LOG_LEVEL: 'error' }, `http://127.0.0.1:${ourPort}/livez`);
const bare = await startProcess(['--import', 'tsx', path.join(here, 'bare-koa.ts')], { PORT: String(barePort) }, `http://127.0.0.1:${barePort}/`);

const rows: Row[] = [];
try {
  const ourBase = `http://127.0.0.1:${ourPort}`;
  // Create then delete the same room on each connection: rooms (and their routers) do not pile up.
  rows.push(
    await load('ours: POST /room + DELETE /room/:id', {
      url: ourBase,
      requests: [
        {
          method: 'POST',
          path: '/room',
          headers: auth,
          body: '{}',
          onResponse: (_status: number, body: string, context: Record<string, unknown>) => {
            context.roomId = JSON.parse(body).data.room.id;
          },
        },
        {
          method: 'DELETE',
          headers: auth,
          setupRequest: (req: any, context: Record<string, unknown>) => ({ ...req, path: `/room/${context.roomId}` }),
        },
      ] as any,
    }),
  );
  await fetch(`${ourBase}/room`, { method: 'POST', headers: auth, body: '{"roomId":"bench"}' });
  rows.push(await load('ours: GET /room/:id', { url: `${ourBase}/room/bench`, headers: auth }));
  rows.push(await load('bare koa: POST + DELETE', { url: `http://127.0.0.1:${barePort}`, requests: [{ method: 'POST', path: '/', body: '{}' }, { method: 'DELETE', path: '/x' }] }));
  rows.push(await load('bare koa: GET', { url: `http://127.0.0.1:${barePort}/` }));
} finally {
  ours.kill('SIGINT');
  bare.kill('SIGTERM');
}

console.log(`\n${connections} connections, ${seconds} s per run, ${new Date().toISOString()}`);
console.log('run'.padEnd(40), 'req/s'.padStart(9), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'non-2xx'.padStart(8));
for (const r of rows) console.log(r.name.padEnd(40), r.rps.toFixed(0).padStart(9), String(r.p50).padStart(8), String(r.p99).padStart(8), String(r.errors).padStart(8));
const [pair, get, barePair, bareGet] = rows as [Row, Row, Row, Row];
console.log(`\nratio ours/bare, create+delete: ${(pair.rps / barePair.rps).toFixed(2)} of the throughput, p99 x${(pair.p99 / Math.max(barePair.p99, 1)).toFixed(1)}`);
console.log(`ratio ours/bare, read:          ${(get.rps / bareGet.rps).toFixed(2)} of the throughput, p99 x${(get.p99 / Math.max(bareGet.p99, 1)).toFixed(1)}`);
if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
