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
import { launchChromium, openPeerPage, servePage } from '../support/browser.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const HLS_JS = readFileSync(path.join(path.dirname(require.resolve('hls.js/package.json')), 'dist/hls.min.js'), 'utf8');

let n: TestNode;
let res: Resources;
let browser: Browser;
let pageServer: http.Server;
let pageUrl: string;
let sdkPage: { url: string; close: () => Promise<void> };

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
  sdkPage = await servePage();
});

test.after.always(async () => {
  terminateAll();
  await browser?.close();
  await sdkPage?.close();
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

test('low-latency HLS: blocking reloads return the requested part, hls.js plays with lowLatencyMode, the waits are bounded', async (t) => {
  const created = await n.api('/room', { method: 'POST', json: { videoCodec: 'h264' } });
  const roomId = created.body.data.room.id as string;
  const hls = await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls', options: { lowLatency: true } } });
  t.is(hls.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', hls.body), []);
  t.true(hls.body.data.properties.lowLatency);
  const before = await fetch(`${n.base}/hls/${roomId}/stream.m3u8?_HLS_msn=0&_HLS_part=0`);
  t.is(before.status, 404, 'nothing published yet');
  t.is((await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'clock.h264' } } })).status, 201);
  await waitFor(async () => (await fetch(`${n.base}/hls/${roomId}/index.m3u8`)).status === 200, 60_000, 'the master playlist');

  const playlist = await (await fetch(`${n.base}/hls/${roomId}/stream.m3u8`)).text();
  t.regex(playlist, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=[\d.]+,PART-HOLD-BACK=[\d.]+/);
  t.regex(playlist, /#EXT-X-PART-INF:PART-TARGET=1\.000/);
  t.regex(playlist, /#EXT-X-PART:DURATION=[\d.]+,URI="segment_\d+_part_\d+\.m4s",INDEPENDENT=YES/);
  const [, msn, part] = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="segment_(\d+)_part_(\d+)\.m4s"/.exec(playlist)!.map(Number) as [number, number, number];

  // a blocking reload for the hinted part: answered once it is published, and it lists it
  const latencies: number[] = [];
  let target = { msn, part };
  for (let i = 0; i < 5; i++) {
    const reload = await fetch(`${n.base}/hls/${roomId}/stream.m3u8?_HLS_msn=${target.msn}&_HLS_part=${target.part}`, { signal: AbortSignal.timeout(30_000) });
    const arrived = Date.now();
    t.is(reload.status, 200);
    t.is(reload.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    const text = await reload.text();
    const listed = text.includes(`URI="segment_${target.msn}_part_${target.part}.m4s"`) || text.includes(`segment_${target.msn}.m4s\n`);
    t.true(listed, `part ${target.msn}.${target.part} in\n${text}`);
    // the part's file was written (renamed into place) just before the answer: publish -> answer latency
    const { mtimeMs } = await import('node:fs/promises').then((fs) => fs.stat(path.join(res.base, 'temporary_hls', roomId, `segment_${target.msn}_part_${target.part}.m4s`)).catch(() => ({ mtimeMs: NaN })));
    if (!Number.isNaN(mtimeMs)) latencies.push(arrived - mtimeMs);
    const [, m, p] = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="segment_(\d+)_part_(\d+)\.m4s"/.exec(text)!.map(Number) as [number, number, number];
    target = { msn: m, part: p };
  }
  t.log(`publish -> blocked reload answered (ms): ${latencies.map((x) => x.toFixed(0)).join(', ')}`);

  // the hinted part itself is held until it exists
  const partReply = await fetch(`${n.base}/hls/${roomId}/segment_${target.msn}_part_${target.part}.m4s`, { signal: AbortSignal.timeout(30_000) });
  t.true(partReply.status === 200 || partReply.status === 404, String(partReply.status)); // 404: the hint became the next segment's first part
  await partReply.arrayBuffer();

  // hostile: garbage directives, a part far ahead, clients that hang up while blocked
  for (const q of ['_HLS_msn=abc', '_HLS_msn=-1', '_HLS_msn=1e3', '_HLS_part=1', `_HLS_msn=${target.msn + 1000}`]) {
    const r = await fetch(`${n.base}/hls/${roomId}/stream.m3u8?${q}`);
    t.is(r.status, 400, q);
    t.truthy((await r.json()).errors);
  }
  const ll = n.node.components.hls.lowLatencyOf(roomId)!;
  const controllers = Array.from({ length: 50 }, () => new AbortController());
  const hung = controllers.map((c) => fetch(`${n.base}/hls/${roomId}/stream.m3u8?_HLS_msn=${target.msn + 2}&_HLS_part=0`, { signal: c.signal }).catch(() => undefined));
  await waitFor(() => ll.waiters.size >= 50, 20_000, '50 blocked requests');
  for (const c of controllers) c.abort();
  await Promise.all(hung);
  await waitFor(() => ll.waiters.size === 0, 20_000, 'the hung-up requests released');

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
    await waitFor(async () => (await playback(page)).currentTime > first!.currentTime + 2, 60_000, 'currentTime advancing');
    const latency = await page.evaluate(() => ({ latency: (window as any).hls.latency, target: (window as any).hls.targetLatency }));
    t.log('LL hls.js playback', await playback(page), latency);
  } finally {
    await page.close();
  }
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  t.is((await fetch(`${n.base}/hls/${roomId}/stream.m3u8?_HLS_msn=0&_HLS_part=0`)).status, 404);
});

test('an SDK publisher (camera and microphone from Chromium) into an HLS component: hls.js plays it', async (t) => {
  const created = await n.api('/room', { method: 'POST', json: { videoCodec: 'h264' } });
  const roomId = created.body.data.room.id as string;
  const hls = await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls' } });
  t.is(hls.status, 201);
  const added = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  t.is(added.status, 201);
  let publisher: Page | undefined;
  const viewer = await browser.newPage();
  try {
    publisher = await openPeerPage(browser, sdkPage.url);
    await publisher.evaluate((o) => (window as any).fishjam.join(o), { host: `127.0.0.1:${n.node.httpPort}`, token: added.body.data.token as string, name: 'camera', audio: true, video: true, simulcast: false });
    await waitFor(async () => (await fetch(`${n.base}/hls/${roomId}/index.m3u8`)).status === 200, 60_000, 'the first segment of the stream of the peer');
    const master = await (await fetch(`${n.base}/hls/${roomId}/index.m3u8`)).text();
    t.regex(master, /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/, 'the camera passed through, the microphone as AAC');
    await viewer.goto(pageUrl);
    await play(viewer, `${n.base}/hls/${roomId}/index.m3u8`);
    let first: Awaited<ReturnType<typeof playback>> | undefined;
    await waitFor(async () => {
      first = await playback(viewer);
      return first.fatal || (first.frames > 10 && first.currentTime > 0.5);
    }, 60_000, 'hls.js decoding the frames of the peer');
    t.false(first!.fatal, first!.errors.join(', '));
    t.true(first!.width > 0, 'a picture (its size is what the encoder chose: it scales down on a busy machine)');
    await waitFor(async () => (await playback(viewer)).currentTime > first!.currentTime + 2, 60_000, 'currentTime advancing');
    t.log('SDK publisher via HLS', await playback(viewer));
  } finally {
    await viewer.close();
    await publisher?.close();
  }
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
});
