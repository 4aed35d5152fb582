// Glass-to-glass latency of regular and low-latency HLS, measured (not asserted: a loaded machine decides the numbers).
// The source is a File component playing, in real time from the moment it is created, a clip whose every frame carries
// its own frame number as a 16-bit barcode in the top strip; the page draws the playing video on a canvas, reads the
// number back and reports now - (start + number / 30). hls.js runs with its defaults (regular: 3 segments behind the
// live edge) and with lowLatencyMode. The clip's start is when its first frame reached the SFU (the producer's byte
// count, polled every 10 ms), so the File player's start-up is not counted; the 10 ms poll and the first frame's own
// packetisation are (the figures are upper bounds by that much).
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { makeResources, type Resources } from '../../media-server/test/components/support/media-files.js';
import { startTestNode, waitFor, type TestNode } from '../../media-server/test/support/test-node.js';
import { launchChromium } from '../support/browser.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const HLS_JS = readFileSync(path.join(path.dirname(require.resolve('hls.js/package.json')), 'dist/hls.min.js'), 'utf8');
const FPS = 30;
const BITS = 16;
const BLOCK = 20;

let n: TestNode;
let res: Resources;
let browser: Browser;
let pageServer: http.Server;
let pageUrl: string;

/** testsrc with the frame number drawn as 16 black/white blocks (bit k at x = 20k) in a black strip at the top. */
async function makeBarcodeClip(file: string, seconds: number): Promise<void> {
  const bits = Array.from({ length: BITS }, (_, k) => `drawbox=x=${k * BLOCK}:y=0:w=${BLOCK}:h=40:color=white:t=fill:enable='mod(floor(n/${2 ** k}),2)'`);
  await run('nice', [
    '-n', '19', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=${FPS}:duration=${seconds}`,
    '-vf', ['drawbox=x=0:y=0:w=320:h=40:color=black:t=fill', ...bits].join(','),
    '-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', String(FPS), '-bf', '0', '-qp', '18',
    '-x264-params', 'repeat-headers=1', '-f', 'h264', file,
  ]);
}

test.before(async () => {
  res = await makeResources();
  await makeBarcodeClip(path.join(res.sources, 'barcode.h264'), 90);
  n = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base });
  pageServer = http.createServer((req, reply) => {
    if (req.url === '/hls.js') reply.writeHead(200, { 'content-type': 'text/javascript' }).end(HLS_JS);
    else reply.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><body><video id="v" muted playsinline></video><canvas id="c" width="320" height="240"></canvas><script src="/hls.js"></script></body></html>');
  });
  await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', r));
  pageUrl = `http://127.0.0.1:${(pageServer.address() as { port: number }).port}/`;
  browser = await launchChromium();
});

test.after.always(async () => {
  await browser?.close();
  await new Promise((r) => (pageServer ? pageServer.close(r) : r(undefined)));
  await n?.stop();
  if (res) await rm(res.base, { recursive: true, force: true });
});

/** Plays `url` with hls.js; samples the frame number shown every 200 ms into window.samples as [Date.now(), frame]. */
async function watch(page: Page, url: string, lowLatency: boolean): Promise<void> {
  await page.goto(pageUrl);
  // a script text, not a function: the test runner's transpiler would add helpers the page does not have
  await page.evaluate(`(${PAGE_SCRIPT})(${JSON.stringify({ src: url, ll: lowLatency, bits: BITS, block: BLOCK })})`);
}

const PAGE_SCRIPT = `function (o) {
  var w = window;
  var video = document.getElementById('v');
  var ctx = document.getElementById('c').getContext('2d', { willReadFrequently: true });
  w.samples = [];
  w.errors = [];
  var hls = new w.Hls({ lowLatencyMode: o.ll });
  hls.on(w.Hls.Events.ERROR, function (_, d) { w.errors.push(d.details + (d.fatal ? ' fatal' : '')); });
  hls.loadSource(o.src);
  hls.attachMedia(video);
  hls.on(w.Hls.Events.MANIFEST_PARSED, function () { video.play().catch(function () {}); });
  w.hls = hls;
  function sample() {
    if (video.readyState < 2 || video.paused) return;
    ctx.drawImage(video, 0, 0, 320, 240);
    var row = ctx.getImageData(0, 20, 320, 1).data;
    var frame = 0;
    for (var k = 0; k < o.bits; k++) if (row[(k * o.block + o.block / 2) * 4] > 128) frame += Math.pow(2, k);
    w.samples.push([Date.now(), frame]);
  }
  // each displayed frame when the browser says so, else on a timer
  if (typeof video.requestVideoFrameCallback === 'function') {
    var onFrame = function () { sample(); video.requestVideoFrameCallback(onFrame); };
    video.requestVideoFrameCallback(onFrame);
  } else setInterval(sample, 200);
}`;

/**
 * When the File component's first frame reached the SFU (its producer's byte count leaves 0; polled every 10 ms):
 * frame N arrives N / 30 s later (ffmpeg -re). Anchoring here keeps ffmpeg's start-up out of the latency.
 */
async function firstPacketAt(roomId: string, componentId: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const track = [...(n.node.registry.find(roomId)?.components.get(componentId)?.tracks.values() ?? [])][0];
    if (track) {
      const stats = await track.producer.getStats().catch(() => []);
      if (stats.some((s) => s.byteCount > 0)) return Date.now();
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the File component sent nothing');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('glass-to-glass latency: regular vs low-latency HLS of the same clip', async (t) => {
  const rooms: Array<{ name: string; ll: boolean; roomId: string; start: number; page: Page }> = [];
  for (const [name, ll] of [['regular', false], ['low latency', true]] as const) {
    const roomId = (await n.api('/room', { method: 'POST', json: { videoCodec: 'h264' } })).body.data.room.id as string;
    t.is((await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls', options: { lowLatency: ll } } })).status, 201);
    const file = await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'barcode.h264' } } });
    t.is(file.status, 201);
    rooms.push({ name, ll, roomId, start: await firstPacketAt(roomId, file.body.data.id as string), page: await browser.newPage() });
  }
  try {
    for (const r of rooms) {
      await waitFor(async () => (await fetch(`${n.base}/hls/${r.roomId}/index.m3u8`)).status === 200, 60_000, `${r.name}: playable`);
      await watch(r.page, `${n.base}/hls/${r.roomId}/index.m3u8`, r.ll);
    }
    for (const r of rooms) await waitFor(async () => (await r.page.evaluate(() => (window as any).samples.length)) > 20, 60_000, `${r.name}: frames read`);
    // let both settle (hls.js seeks to its target latency once it has enough playlist), then measure for 10 s
    await new Promise((resolve) => setTimeout(resolve, 8000));
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    for (const r of rooms) {
      const samples = ((await r.page.evaluate(() => (window as any).samples)) as Array<[number, number]>).filter(([at]) => at >= from);
      const latencies = samples.map(([at, frame]) => at - (r.start + (frame * 1000) / FPS)).filter((x) => x > -1000 && x < 120_000);
      const frames = new Set(samples.map(([, f]) => f)).size;
      t.true(latencies.length > 10, `${r.name}: ${latencies.length} samples`);
      t.true(frames > 10, `${r.name}: the frame number advances`);
      const errors = (await r.page.evaluate(() => (window as any).errors)) as string[];
      t.log(`${r.name}: glass-to-glass median ${median(latencies).toFixed(0)} ms (min ${Math.min(...latencies).toFixed(0)}, max ${Math.max(...latencies).toFixed(0)}, ${latencies.length} samples, ${frames} distinct frames; hls.js latency ${(await r.page.evaluate(() => (window as any).hls.latency)).toFixed(2)} s${errors.length ? `; errors ${errors.join(', ')}` : ''})`);
    }
  } finally {
    for (const r of rooms) await r.page.close();
  }
});
