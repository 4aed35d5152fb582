// The built-in pages against hostile and production use, on the built server (no browser): production without
// FJ_DEMO_ENABLED serves no demo (404 for /demo, /check and the demo endpoint) but serves / and /cluster; the demo
// endpoint refuses garbage, huge bodies and anything but a demo room name, and answers bursts with 429; static
// assets cannot be reached by path traversal; and no page or asset served contains the server token.
import http from 'node:http';
import test from 'ava';
import { type RunningServer } from '../support/media-server.js';
import { PAGES_TOKEN, startPagesServer } from '../support/pages.js';

let dev: RunningServer;
let prod: RunningServer;
let prodDemo: RunningServer;

test.before(async () => {
  [dev, prod, prodDemo] = await Promise.all([
    startPagesServer(),
    startPagesServer({ FJ_MODE: 'production', FJ_IP: '127.0.0.1' }),
    startPagesServer({ FJ_MODE: 'production', FJ_IP: '127.0.0.1', FJ_DEMO_ENABLED: 'true' }),
  ]);
});

test.after.always(async () => {
  for (const s of [dev, prod, prodDemo]) {
    const code = await s?.stop();
    if (code !== 0) console.error(s?.output());
  }
});

const get = (s: RunningServer, path: string) => fetch(s.base + path, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
/** A GET with the path sent byte for byte (fetch would resolve dot segments such as %2e%2e before sending). */
function rawGet(s: RunningServer, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${s.base}/`, { path, method: 'GET', timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}
const demoPeer = (s: RunningServer, body: string, headers: Record<string, string> = {}) =>
  fetch(`${s.base}/pages-api/demo/peer`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(10_000) });

test('production without FJ_DEMO_ENABLED: / and /cluster are served, /demo, /check and the demo endpoint are 404', async (t) => {
  t.is((await get(prod, '/')).status, 200);
  t.is((await get(prod, '/cluster')).status, 200);
  for (const path of ['/demo', '/demo/room-1', '/check']) t.is((await get(prod, path)).status, 404, path);
  t.is((await demoPeer(prod, '{"room":"x"}')).status, 404);
  const info = await (await get(prod, '/pages-api/info')).json();
  t.deepEqual(info.pages, ['cluster', 'landing']);
  t.is(info.prefillToken, null);
  // the node's name carries its address: not for anyone who reaches the port
  t.is(info.node, null);
  t.is(info.version, null);
  t.is((await get(prod, '/pages-api/cluster')).status, 401, 'the cluster data needs the token');
  const withToken = await fetch(`${prod.base}/pages-api/cluster`, { headers: { authorization: `Bearer ${PAGES_TOKEN}` } });
  t.is(withToken.status, 200);
});

test('production with FJ_DEMO_ENABLED=true serves the demo, the check and the endpoint', async (t) => {
  t.is((await get(prodDemo, '/demo/room-1')).status, 200);
  t.is((await get(prodDemo, '/check')).status, 200);
  const demo = await get(prodDemo, '/demo');
  t.is(demo.status, 302);
  t.regex(demo.headers.get('location') ?? '', /^\/demo\/room-[0-9a-f]{8}$/);
  t.is((await demoPeer(prodDemo, '{"room":"prod-demo"}')).status, 201);
});

test('the demo endpoint refuses garbage, huge bodies and non-demo rooms, and mints peers in demo rooms only', async (t) => {
  // a room an application created: no demo request can reach it
  t.is((await dev.api('/room', { method: 'POST', json: { roomId: 'private-room' } })).status, 201);
  const refused: Array<[string, number]> = [
    ['not json', 400],
    ['[]', 400],
    ['"room"', 400],
    ['{}', 400],
    ['{"room": 7}', 400],
    ['{"room": ""}', 400],
    ['{"room": "../private-room"}', 400],
    ['{"room": "a/b"}', 400],
    ['{"room": "x", "roomId": "private-room"}', 400],
    [`{"room": "${'a'.repeat(49)}"}`, 400],
    [JSON.stringify({ room: 'x'.repeat(5000) }), 413],
  ];
  for (const [body, status] of refused) t.is((await demoPeer(dev, body)).status, status, body.slice(0, 60));
  const huge = await demoPeer(dev, JSON.stringify({ room: 'y', pad: 'z'.repeat(2 * 1024 * 1024) }));
  t.is(huge.status, 413);

  const ok = await demoPeer(dev, '{"room":"private-room"}');
  t.is(ok.status, 201);
  const minted = (await ok.json()).data;
  t.is(minted.roomId, 'demo-private-room', 'the name becomes a demo room id, never the application\'s room');
  t.deepEqual(Object.keys(minted).sort(), ['peerId', 'roomId', 'token']);
  t.is((await dev.api('/room/private-room')).body.data.peers.length, 0);
  const demoRoom = (await dev.api('/room/demo-private-room')).body.data;
  t.is(demoRoom.peers.length, 1);
  t.is(demoRoom.config.maxPeers, 8);
  t.is(demoRoom.config.peerlessPurgeTimeout, 60);

  // An application's own room that happens to start with "demo-" is not a demo room: no peer is minted in it.
  t.is((await dev.api('/room', { method: 'POST', json: { roomId: 'demo-standup', videoCodec: 'h264' } })).status, 201);
  const notDemo = await demoPeer(dev, '{"room":"standup"}');
  t.is(notDemo.status, 409);
  t.regex((await notDemo.json()).errors, /not a demo room/);
  t.is((await dev.api('/room/demo-standup')).body.data.peers.length, 0);
});

test('a burst at the demo endpoint is answered 429 with Retry-After; X-Forwarded-For does not get around it', async (t) => {
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 20; i++) {
    const res = await demoPeer(prodDemo, `{"room":"burst-${i}"}`, { 'x-forwarded-for': `10.0.0.${i}` });
    statuses.push(res.status);
    if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
  }
  t.log(statuses.join(' '));
  const created = statuses.filter((s) => s === 201).length;
  t.true(created >= 5 && created <= 11, `${created} created in a burst of 20 (burst 10, then one per 2 s)`);
  t.true(statuses.slice(-5).every((s) => s === 429), 'the end of the burst is refused');
  t.truthy(retryAfter);
  t.true(Number(retryAfter) >= 1);
});

test('static assets: path traversal and unknown names are 404, never a file outside the build', async (t) => {
  const paths = [
    '/assets/../../package.json',
    '/assets/..%2f..%2fpackage.json',
    '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
    '/assets/..%5c..%5cpackage.json',
    '/assets/....//package.json',
    '/assets/.env',
    '/assets/%00demo.js',
    '/assets/demo.js%00.html',
    '/assets/',
    '/assets/nope.js',
    '/demo/..%2f..%2fetc%2fpasswd',
    '/demo/%2e%2e',
    '/index.html/../../package.json',
  ];
  for (const path of paths) {
    const res = await rawGet(dev, path);
    t.true(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
    t.false(res.text.includes('"workspaces"') || res.text.includes('root:'), `${path} leaks a file`);
  }
  t.is((await get(dev, '/assets/demo.js')).status, 200);
});

test('no page or asset served contains the server token (every mode, every page and every asset the pages load)', async (t) => {
  for (const server of [dev, prod, prodDemo]) {
    const seen = new Set<string>();
    const queue = ['/', '/demo/token-grep', '/cluster', '/check', '/pages-api/info', '/assets/favicon.svg'];
    let bytes = 0;
    while (queue.length > 0) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await get(server, path);
      if (res.status !== 200) continue;
      const body = Buffer.from(await res.arrayBuffer());
      bytes += body.length;
      t.false(body.includes(PAGES_TOKEN), `${path} contains the token`);
      t.false(body.includes(Buffer.from(PAGES_TOKEN).toString('base64')), `${path} contains the token in base64`);
      for (const m of body.toString('utf8').matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) queue.push(m[1]!);
    }
    t.true(seen.has('/assets/demo.js') || server === prod, 'the demo page\'s script was checked');
    t.true(seen.has('/assets/cluster.js'));
    t.true(bytes > (server === prod ? 10_000 : 100_000), `${bytes} bytes checked`);
  }
});
