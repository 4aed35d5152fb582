// LL-HLS of a room held by another node, played through the entry node: node b holds the room (a File component
// playing an H264 clip into a low-latency HLS component); hls.js (lowLatencyMode, the npm package's dist file served
// by this test) in headless Chromium plays http://<node a>/hls/<room>/index.m3u8: every playlist (blocking reloads
// included), part and segment comes through a, which fetches it from b over the dist link. Frames are decoded and
// currentTime advances; a's forwarded requests are counted in its request metrics; b serves nothing to the browser.
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { makeResources } from '../../media-server/test/components/support/media-files.js';
import { freePort } from '../../media-server/test/support/free-port.js';
import { startTestNode, waitFor } from '../../media-server/test/support/test-node.js';
import { launchChromium } from '../support/browser.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const HLS_JS = readFileSync(path.join(path.dirname(require.resolve('hls.js/package.json')), 'dist/hls.min.js'), 'utf8');

test('hls.js in Chromium plays LL-HLS of a room on b through node a', async (t) => {
  const [resA, resB] = [await makeResources(), await makeResources()];
  await run('nice', ['-n', '19', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30:duration=60',
    '-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '30', '-bf', '0', '-x264-params', 'repeat-headers=1', '-f', 'h264', path.join(resB.sources, 'clip.h264')]);
  const mapper = String(await freePort());
  const common = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: mapper, FJ_DIST_COOKIE: 'e2e-hls', FJ_COMPONENTS_USED: 'file hls' };
  const a = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'a@127.0.0.1', FJ_HOST: 'a.example:1', FJ_RESOURCES_BASE_PATH: resA.base });
  const b = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'b@127.0.0.1', FJ_DIST_NODES: 'a@127.0.0.1', FJ_HOST: 'b.example:1', FJ_RESOURCES_BASE_PATH: resB.base });
  // the player page comes from a third origin: CORS through the entry node is part of what is tested
  const pageServer = http.createServer((req, reply) => {
    if (req.url === '/hls.js') reply.writeHead(200, { 'content-type': 'text/javascript' }).end(HLS_JS);
    else reply.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><body><video id="v" muted playsinline></video><script src="/hls.js"></script></body></html>');
  });
  await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', r));
  const browser = await launchChromium();
  t.teardown(async () => {
    await browser.close();
    await new Promise((r) => pageServer.close(r));
    await b.stop();
    await a.stop();
    for (const r of [resA, resB]) await rm(r.base, { recursive: true, force: true });
  });
  await waitFor(() => a.node.cluster!.linkedNodes().length === 1 && b.node.cluster!.linkedNodes().length === 1, 10_000, 'the link');
  const created = await b.api('/room', { method: 'POST', json: { videoCodec: 'h264' } });
  const roomId = created.body.data.room.id as string;
  t.true(b.node.registry.has(roomId) && !a.node.registry.has(roomId));
  t.is((await a.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls', options: { lowLatency: true } } })).status, 201);
  t.is((await a.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'clip.h264' } } })).status, 201);
  await waitFor(async () => (await fetch(`${a.base}/hls/${roomId}/index.m3u8`)).status === 200, 90_000, 'the master playlist through a');

  const page: Page = await browser.newPage();
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  await page.goto(`http://127.0.0.1:${(pageServer.address() as { port: number }).port}/`);
  await page.evaluate((src) => {
    const w = window as any;
    const video = document.getElementById('v') as HTMLVideoElement;
    w.hlsState = { errors: [] as string[], fatal: false };
    const hls = new w.Hls({ lowLatencyMode: true });
    hls.on(w.Hls.Events.ERROR, (_: unknown, data: any) => {
      w.hlsState.errors.push(`${data.type}/${data.details}${data.fatal ? ' (fatal)' : ''}`);
      if (data.fatal) w.hlsState.fatal = true;
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    hls.on(w.Hls.Events.MANIFEST_PARSED, () => void video.play().catch((e: Error) => w.hlsState.errors.push(`play: ${e.message}`)));
    w.hls = hls;
  }, `${a.base}/hls/${roomId}/index.m3u8`);
  const playback = () =>
    page.evaluate(() => {
      const video = document.getElementById('v') as HTMLVideoElement;
      return { currentTime: video.currentTime, frames: video.getVideoPlaybackQuality().totalVideoFrames, width: video.videoWidth, errors: (window as any).hlsState.errors as string[], fatal: (window as any).hlsState.fatal as boolean };
    });
  let first: Awaited<ReturnType<typeof playback>> | undefined;
  await waitFor(async () => {
    first = await playback();
    return first.fatal || (first.frames > 10 && first.currentTime > 0.5);
  }, 90_000, 'hls.js decoding frames');
  t.false(first!.fatal, first!.errors.join(', '));
  t.is(first!.width, 320);
  await waitFor(async () => (await playback()).currentTime > first!.currentTime + 3, 60_000, 'currentTime advancing');
  const latency = await page.evaluate(() => ({ latency: (window as any).hls.latency, target: (window as any).hls.targetLatency }));
  t.log('hls.js through the entry node', await playback(), latency);
  const hlsUrls = urls.filter((u) => u.includes('/hls/'));
  t.true(hlsUrls.length > 5);
  t.true(hlsUrls.every((u) => u.startsWith(`${a.base}/hls/${roomId}/`)), 'every HLS request went to a');
  t.true(hlsUrls.some((u) => u.includes('_HLS_msn=')), 'blocking reloads among them');
  t.true(hlsUrls.some((u) => /_part_\d+\.m4s$/.test(u) || /segment_\d+\.m4s$/.test(u)), 'parts or segments among them');
  t.log(`${hlsUrls.length} HLS requests through a, ${hlsUrls.filter((u) => u.includes('_HLS_msn=')).length} of them blocking reloads`);
  await page.close();
});
