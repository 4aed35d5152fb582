// HLS end to end: a File component plays an H264 clip (testsrc with its timestamp drawn in) into an H264 room whose
// HLS component passes it through to CMAF/fMP4 HLS; hls.js (the npm package's dist file, served by this test: no CDN)
// plays /hls/<room>/index.m3u8 in headless Chromium: frames are decoded and currentTime advances. Also: HlsPlayable on
// the server socket, `playable` in the properties, every REST answer checked against the openapi, and the room's
// deletion stopping ffmpeg and removing the folder. The node runs in-process (real mediasoup worker, real ffmpeg).
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { ServerEventType } from '../../media-server/src/proto/index.js';
import { makeResources, type Resources } from '../../media-server/test/components/support/media-files.js';
import { ServerSocket, terminateAll } from '../../media-server/test/notifications/support/sockets.js';
import { validateAgainst } from '../../media-server/test/support/openapi-validator.js';
import { startTestNode, TOKEN, waitFor, type TestNode } from '../../media-server/test/support/test-node.js';
import { launchChromium } from '../support/browser.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const HLS_JS = readFileSync(path.join(path.dirname(require.resolve('hls.js/package.json')), 'dist/hls.min.js'), 'utf8');

let n: TestNode;
let res: Resources;
let browser: Browser;
let pageServer: http.Server;
let pageUrl: string;

/** A clip with the playback time drawn in (a key frame every second, SPS/PPS before each). */
async function makeTimestampedClip(file: string, seconds: number): Promise<void> {
  await run('nice', [
    '-n', '19', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${seconds}`,
    '-vf', "drawtext=text='%{pts\\:hms}':fontsize=28:x=8:y=8:fontcolor=white:box=1:boxcolor=black",
    '-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '30', '-bf', '0',
    '-x264-params', 'repeat-headers=1', '-f', 'h264', file,
  ]);
}

test.before(async () => {
  res = await makeResources();
  await makeTimestampedClip(path.join(res.sources, 'clock.h264'), 60);
  n = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base });
  // the player page comes from another origin than the node: CORS is part of what is tested
  pageServer = http.createServer((req, reply) => {
    if (req.url === '/hls.js') reply.writeHead(200, { 'content-type': 'text/javascript' }).end(HLS_JS);
    else reply.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><body><video id="v" muted playsinline></video><script src="/hls.js"></script></body></html>');
  });
  await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', r));
  pageUrl = `http://127.0.0.1:${(pageServer.address() as { port: number }).port}/`;
  browser = await launchChromium();
});

test.after.always(async () => {
  terminateAll();
  await browser?.close();
  await new Promise((r) => (pageServer ? pageServer.close(r) : r(undefined)));
  await n?.stop();
  if (res) await rm(res.base, { recursive: true, force: true });
});

/** Starts hls.js on the page; the page records decoded frames, currentTime and errors in window.hlsState. */
async function play(page: Page, url: string): Promise<void> {
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
  }, url);
}

const playback = (page: Page) =>
  page.evaluate(() => {
    const video = document.getElementById('v') as HTMLVideoElement;
    return {
      currentTime: video.currentTime,
      frames: video.getVideoPlaybackQuality().totalVideoFrames,
      width: video.videoWidth,
      errors: (window as any).hlsState.errors as string[],
      fatal: (window as any).hlsState.fatal as boolean,
    };
  });

test('a File component into an HLS component: hls.js in Chromium plays /hls/<room>/index.m3u8', async (t) => {
  const socket = await ServerSocket.open(n.base);
  await socket.subscribe(TOKEN, [ServerEventType.SERVER_NOTIFICATION]);
  const created = await n.api('/room', { method: 'POST', json: { videoCodec: 'h264' } });
  t.is(created.status, 201);
  const roomId = created.body.data.room.id as string;
  const hls = await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls', options: { targetWindowDuration: 60 } } });
  t.is(hls.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', hls.body), []);
  t.deepEqual(hls.body.data.properties, { playable: false, lowLatency: false, persistent: false, targetWindowDuration: 60, subscribeMode: 'auto', s3: null });
  const hlsId = hls.body.data.id as string;
  t.is((await fetch(`${n.base}/hls/${roomId}/index.m3u8`)).status, 404, 'nothing to play before the first segment');

  const file = await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'clock.h264' } } });
  t.is(file.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', file.body), []);

  await waitFor(() => socket.received.some((m) => 'hlsPlayable' in m && m.hlsPlayable.roomId === roomId && m.hlsPlayable.componentId === hlsId), 60_000, 'HlsPlayable');
  const shown = await n.api(`/room/${roomId}`);
  t.deepEqual(validateAgainst('RoomDetailsResponse', shown.body), []);
  t.is(shown.body.data.components.find((c: any) => c.id === hlsId).properties.playable, true);

  const master = await fetch(`${n.base}/hls/${roomId}/index.m3u8`);
  t.is(master.status, 200);
  t.is(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  const masterText = await master.text();
  t.regex(masterText, /#EXT-X-STREAM-INF:BANDWIDTH=\d+,CODECS="avc1\.[0-9a-f]{6}"/);
  const media = await (await fetch(`${n.base}/hls/${roomId}/stream.m3u8`)).text();
  t.regex(media, /#EXT-X-MAP:URI="header_\d+\.mp4"/);
  t.regex(media, /segment_\d+\.m4s/);

  const page = await browser.newPage();
  try {
    await page.goto(pageUrl);
    await play(page, `${n.base}/hls/${roomId}/index.m3u8`);
    let first: Awaited<ReturnType<typeof playback>> | undefined;
    await waitFor(async () => {
      first = await playback(page);
      return first.fatal || (first.frames > 10 && first.currentTime > 0.5);
    }, 60_000, 'hls.js decoding frames');
    t.false(first!.fatal, first!.errors.join(', '));
    t.is(first!.width, 320);
    await waitFor(async () => (await playback(page)).currentTime > first!.currentTime + 2, 60_000, 'currentTime advancing');
    t.log('hls.js playback', await playback(page));
  } finally {
    await page.close();
  }

  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  t.is((await fetch(`${n.base}/hls/${roomId}/index.m3u8`)).status, 404, 'not served once the room is gone');
  const folder = path.join(res.base, 'temporary_hls', roomId);
  await waitFor(() => !existsSync(folder), 20_000, 'the non-persistent folder removed');
  await waitFor(() => n.node.components.hls.size === 0, 20_000, 'no HLS component left');
  await socket.close();
});
