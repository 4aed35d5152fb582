// The seed's NODES_LIST example on one machine, exactly as written (docs "Running from source"), with our processes
// (media-server/dist/main.js in development mode, as `npm start` runs it) in place of `mix phx.server`:
//   FJ_DIST_ENABLED=true FJ_DIST_NODE_NAME=f1@localhost
//   FJ_DIST_ENABLED=true FJ_DIST_NODE_NAME=f2@localhost FJ_DIST_NODES="f1@localhost" FJ_PORT=4002 FJ_METRICS_PORT=9468
// and the seed's check: `curl -X POST -H "authorization: Bearer development" http://localhost:4002/room` twice gives
// both nodes' addresses. Uses the fixed ports 5002, 4002, 9568, 9468 and the port mapper's 4369 (e2e runs serially).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { root, stopChild } from '../support/netns.js';

interface Proc {
  child: ChildProcess;
  output: () => string;
}

function start(env: Record<string, string>): Proc {
  // nothing of the caller's FJ_* leaks in: the example sets only what it shows (FJ_MODE is what `npm start` adds)
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FJ_') && !k.startsWith('JF_'))) as Record<string, string>;
  const child = spawn(process.execPath, [path.join(root, 'media-server/dist/main.js')], { env: { ...clean, FJ_MODE: 'development', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function curl(method: string, url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, headers: { authorization: 'Bearer development' }, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string, procs: Proc[]): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe().catch((e: Error) => e.message as unknown as T);
    if (ok(last)) return last;
    if (Date.now() > deadline || procs.some((p) => p.child.exitCode !== null)) {
      throw new Error(`no ${what} within ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${procs.map((p) => p.output()).join('\n---\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const procs: Proc[] = [];
test.after.always(async () => {
  await Promise.all(procs.map((p) => stopChild(p.child, 'SIGINT', 5000)));
});

test('the seed\'s two-node NODES_LIST example on localhost forms a cluster and spreads rooms', async (t) => {
  for (const port of [5002, 4002, 9568, 9468, 4369]) t.true(await portFree(port), `port ${port} must be free for the seed example`);
  const f1 = start({ FJ_DIST_ENABLED: 'true', FJ_DIST_NODE_NAME: 'f1@localhost' });
  procs.push(f1);
  await until(() => fetch('http://localhost:5002/readyz').then((r) => r.status), (s) => s === 200, 20_000, 'f1 ready', procs);
  const f2 = start({ FJ_DIST_ENABLED: 'true', FJ_DIST_NODE_NAME: 'f2@localhost', FJ_DIST_NODES: 'f1@localhost', FJ_PORT: '4002', FJ_METRICS_PORT: '9468' });
  procs.push(f2);
  const started = Date.now();
  for (const port of [5002, 4002]) {
    await until(() => curl('GET', `http://localhost:${port}/health`).then((r) => r.body?.data?.distribution?.nodesInCluster), (n) => n === 2, 20_000, `nodesInCluster 2 on ${port}`, procs);
  }
  t.log(`cluster of 2 seen on both ${Date.now() - started} ms after f2 was spawned`);
  for (const port of [5002, 4002]) {
    const health = await curl('GET', `http://localhost:${port}/health`);
    t.deepEqual(health.body.data.distribution, { enabled: true, nodeStatus: 'UP', nodesInCluster: 2 }, `/health on ${port}`);
  }
  // both nodes' first load report may say STARTING (they link before serving): placement waits for the next one
  await new Promise((r) => setTimeout(r, 1200));

  // the seed's two curls through localhost:4002
  const first = await curl('POST', 'http://localhost:4002/room');
  const second = await curl('POST', 'http://localhost:4002/room');
  t.is(first.status, 201);
  t.is(second.status, 201);
  const addresses = [first.body.data.fishjam_address, second.body.data.fishjam_address];
  t.log('fishjam_address of the two rooms:', addresses.join(', '));
  t.deepEqual([...addresses].sort(), ['localhost:4002', 'localhost:5002'], 'one room on each node');

  // a room created through one node is reachable through the other
  for (const [room, address] of [[first.body.data.room.id, addresses[0]], [second.body.data.room.id, addresses[1]]] as [string, string][]) {
    for (const port of [5002, 4002]) {
      const got = await curl('GET', `http://localhost:${port}/room/${room}`);
      t.is(got.status, 200, `room on ${address} through localhost:${port}`);
      t.is(got.body.data.id, room);
    }
    const other = address === 'localhost:5002' ? 4002 : 5002;
    const peer = await fetch(`http://localhost:${other}/room/${room}/peer`, {
      method: 'POST',
      headers: { authorization: 'Bearer development' },
      body: JSON.stringify({ type: 'webrtc', options: {} }),
      signal: AbortSignal.timeout(5000),
    });
    const peerBody = (await peer.json()) as { data: { peer_websocket_url: string } };
    t.is(peer.status, 201, `peer added through localhost:${other}`);
    t.is(peerBody.data.peer_websocket_url, `${address}/socket/peer/websocket`);
  }
  const listed = await curl('GET', 'http://localhost:5002/room');
  t.deepEqual(listed.body.data.map((r: { id: string }) => r.id).sort(), [first.body.data.room.id, second.body.data.room.id].sort(), 'GET /room on f1 lists both');
  const del = await curl('DELETE', `http://localhost:5002/room/${second.body.data.room.id}`);
  t.is(del.status, 204);
  t.is((await curl('GET', `http://localhost:4002/room/${second.body.data.room.id}`)).status, 404);
});
