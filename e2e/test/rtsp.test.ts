// RTSP end to end: a real camera (GStreamer's RTSP server from Debian, an H264 test pattern, with a user and password)
// pulled by an `rtsp` component into an H264 room; an SDK peer in headless Chromium (unmodified @fishjam-dev/ts-client)
// decodes the camera's video at the camera's size, and an HLS component in the room makes it playable. Then the documented behaviours: the camera killed -> TrackRemoved and
// ComponentCrashed, the component gone; a camera not reachable yet -> retried every reconnectDelay until it answers
// (then its track comes); an unresolvable host -> 201 and retried, never crashed; the camera's password never on a
// command line nor in the node's log; the node SIGKILLed -> its ffmpeg dies too. The node runs as its own process
// (media-server/dist), so its whole log (level info) can be searched.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { reservePortPairs } from '../../media-server/src/components/udp-ports.js';
import { ServerEventType } from '../../media-server/src/proto/index.js';
import { ServerSocket, terminateAll } from '../../media-server/test/notifications/support/sockets.js';
import { validateAgainst } from '../../media-server/test/support/openapi-validator.js';
import { launchChromium, openPeerPage, servePage } from '../support/browser.js';
import { freePort, startMediaServer, until, type RunningServer } from '../support/media-server.js';
import { startRtspCamera, type RtspCamera } from '../support/rtsp-camera.js';

const PASSWORD = 'pw-7f3c9a-secret';
let browser: Browser;
let sdkPage: { url: string; close: () => Promise<void> };
let resources: string;
const servers: RunningServer[] = [];
const cameras: RtspCamera[] = [];

test.before(async () => {
  resources = mkdtempSync(path.join(os.tmpdir(), 'fj-rtsp-'));
  browser = await launchChromium();
  sdkPage = await servePage();
});

test.after.always(async () => {
  terminateAll();
  await browser?.close();
  await sdkPage?.close();
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const c of cameras) await c.kill();
  if (resources) rmSync(resources, { recursive: true, force: true });
});

async function node(): Promise<RunningServer> {
  const s = await startMediaServer({ FJ_COMPONENTS_USED: 'rtsp hls', FJ_RESOURCES_BASE_PATH: resources, FJ_WEBRTC_LISTEN_IP: '127.0.0.1', FJ_LOG_LEVEL: 'info' });
  servers.push(s);
  return s;
}

async function camera(o: Parameters<typeof startRtspCamera>[0]): Promise<RtspCamera> {
  const c = await startRtspCamera(o);
  cameras.push(c);
  return c;
}

/** A free UDP pair for the component's RTP and RTCP (released at once: the component's ffmpeg binds it). */
async function freeRtpPort(): Promise<number> {
  const { ports, release } = await reservePortPairs(1, '0.0.0.0');
  release();
  return ports[0]!;
}

/** The processes whose parent is `pid` (the node's ffmpegs: setpriv execs them, so they are direct children). */
function childrenOf(pid: number): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function everyCommandLine(): string {
  let all = '';
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      all += readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') + '\n';
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

async function h264Room(s: RunningServer): Promise<string> {
  const created = await s.api('/room', { method: 'POST', json: { videoCodec: 'h264' } });
  return created.body.data.room.id as string;
}

test.serial('a camera with a password: an SDK peer decodes its video; killing the camera crashes the component', async (t) => {
  const s = await node();
  const cam = await camera({ port: await freePort(), width: 320, height: 240, user: 'viewer', password: PASSWORD });
  const socket = await ServerSocket.open(s.base);
  await socket.subscribe(s.token, [ServerEventType.SERVER_NOTIFICATION]);
  const roomId = await h264Room(s);
  const peer = await s.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  t.is(peer.status, 201);

  let page: Page | undefined;
  try {
    page = await openPeerPage(browser, sdkPage.url);
    await page.evaluate((o) => (window as any).fishjam.join(o), { host: s.host, token: peer.body.data.token as string, name: 'viewer', audio: false, video: false, simulcast: false });

    const rtpPort = await freeRtpPort();
    const sourceUri = cam.url.replace('rtsp://', `rtsp://viewer:${PASSWORD}@`);
    const added = await s.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'rtsp', options: { sourceUri, rtpPort, reconnectDelay: 1000 } } });
    t.is(added.status, 201, JSON.stringify(added.body));
    t.deepEqual(validateAgainst('ComponentDetailsResponse', added.body), []);
    t.deepEqual(added.body.data.properties, { sourceUri, rtpPort, reconnectDelay: 1000, keepAliveInterval: 15000, pierceNat: true });
    t.deepEqual(added.body.data.tracks, []);
    const componentId = added.body.data.id as string;

    await until(async () => socket.received.some((m) => 'trackAdded' in m && m.trackAdded.componentId === componentId), (x) => x, 30_000, 'TrackAdded of the camera');
    const shown = await s.api(`/room/${roomId}`);
    t.deepEqual(validateAgainst('RoomDetailsResponse', shown.body), []);
    const component = shown.body.data.components.find((c: any) => c.id === componentId);
    t.is(component.tracks.length, 1);
    t.is(component.tracks[0].type, 'video');

    const remote = await until(
      () => page!.evaluate(() => (window as any).fishjam.remoteTracks() as Array<{ trackId: string; kind: string; endpointId: string }>),
      (list) => list.some((r) => r.endpointId === componentId && r.kind === 'video'),
      30_000,
      'the camera track at the SDK peer',
    );
    const trackId = remote.find((r) => r.endpointId === componentId)!.trackId;
    const video = await until(
      () => page!.evaluate((id) => (window as any).fishjam.remoteVideo(id), trackId),
      (v: any) => v !== undefined && v.framesDecoded > 30,
      60_000,
      'frames of the camera decoded by Chromium',
    );
    t.is(video.frameWidth, 320);
    t.is(video.frameHeight, 240);
    t.log('decoded at the SDK peer', video);

    // the camera's track is usable by HLS too: passed through (it is H264), the stream becomes playable
    const hls = await s.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls' } });
    t.is(hls.status, 201);
    await until(async () => socket.received.some((m) => 'hlsPlayable' in m && m.hlsPlayable.roomId === roomId), (x) => x, 60_000, 'HlsPlayable from the camera');
    const master = await (await fetch(`${s.base}/hls/${roomId}/index.m3u8`)).text();
    t.regex(master, /CODECS="avc1\.[0-9a-f]{6}"/, 'the camera passed through to HLS');

    // the password: not on any command line, not in the node's log (which logged the component's start at info)
    // the camera's ffmpeg is the one reading an ffconcat script (the HLS ffmpeg reads an SDP)
    const ffmpegs = childrenOf(s.child.pid!).filter((p) => p.cmdline.includes('ffmpeg') && p.cmdline.includes('concat'));
    t.is(ffmpegs.length, 1, 'one ffmpeg pulls the camera');
    t.false(everyCommandLine().includes(PASSWORD));
    t.regex(s.output(), /rtsp camera reached/);
    t.false(s.output().includes(PASSWORD));

    const killedAt = Date.now();
    await cam.kill();
    await until(async () => socket.received.some((m) => 'componentCrashed' in m && m.componentCrashed.componentId === componentId), (x) => x, 30_000, 'ComponentCrashed');
    t.log(`camera killed -> ComponentCrashed in ${Date.now() - killedAt} ms`);
    const removedIndex = socket.received.findIndex((m) => 'trackRemoved' in m && m.trackRemoved.componentId === componentId);
    const crashedIndex = socket.received.findIndex((m) => 'componentCrashed' in m && m.componentCrashed.componentId === componentId);
    t.true(removedIndex >= 0 && removedIndex < crashedIndex, 'TrackRemoved, then ComponentCrashed');
    const after = await s.api(`/room/${roomId}`);
    t.deepEqual(after.body.data.components.map((c: any) => c.type), ['hls'], 'the camera component is gone, the HLS one stays');
    await until(
      () => page!.evaluate(() => (window as any).fishjam.remoteTracks() as Array<{ endpointId: string }>),
      (list) => !list.some((r) => r.endpointId === componentId),
      20_000,
      'the track removed at the SDK peer',
    );
    await until(async () => childrenOf(s.child.pid!).filter((p) => p.cmdline.includes('ffmpeg') && p.cmdline.includes('concat')).length, (x) => x === 0, 10_000, 'no camera ffmpeg left');
    t.false(s.output().includes(PASSWORD));
  } catch (error) {
    t.log('SDK log', await page?.evaluate(() => (window as any).fishjam.log).catch(() => undefined));
    t.log('inbound', JSON.stringify(((await page?.evaluate(() => (window as any).fishjam.rawStats()).catch(() => [])) as any[]).filter((x: any) => x.type === 'inbound-rtp' || x.type === 'codec')));
    t.log('node log', s.output().slice(-4000));
    const state = await page?.evaluate(() => (window as any).fishjam.connectionState()).catch(() => undefined);
    t.log('local sdp', state?.local); t.log('remote sdp', state?.remote);
    throw error;
  } finally {
    await page?.close();
  }
  t.is((await s.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
});

test.serial('not reachable yet: retried every reconnectDelay until the camera answers; a bad host is retried, never crashed; delete and SIGKILL stop ffmpeg', async (t) => {
  const s = await node();
  const socket = await ServerSocket.open(s.base);
  await socket.subscribe(s.token, [ServerEventType.SERVER_NOTIFICATION]);
  const roomId = await h264Room(s);
  const cameraPort = await freePort();
  const late = await s.api(`/room/${roomId}/component`, {
    method: 'POST',
    json: { type: 'rtsp', options: { sourceUri: `rtsp://127.0.0.1:${cameraPort}/camera`, rtpPort: await freeRtpPort(), reconnectDelay: 500 } },
  });
  t.is(late.status, 201);
  const lateId = late.body.data.id as string;
  const bad = await s.api(`/room/${roomId}/component`, {
    method: 'POST',
    json: { type: 'rtsp', options: { sourceUri: 'rtsp://no-such-camera.invalid:554/stream', rtpPort: await freeRtpPort(), reconnectDelay: 500 } },
  });
  t.is(bad.status, 201, 'as the original: creation does not wait for the camera');
  const badId = bad.body.data.id as string;
  // a server that accepts the connection and never answers: ffmpeg waits in it (up to its I/O timeout)
  const silent = net.createServer((socket) => socket.on('error', () => undefined));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => silent.close());
  const mute = await s.api(`/room/${roomId}/component`, {
    method: 'POST',
    json: { type: 'rtsp', options: { sourceUri: `rtsp://127.0.0.1:${(silent.address() as net.AddressInfo).port}/camera`, rtpPort: await freeRtpPort(), reconnectDelay: 500 } },
  });
  t.is(mute.status, 201);
  const muteId = mute.body.data.id as string;

  // several attempts of each, and nothing announced or crashed meanwhile
  await until(async () => (s.output().match(/rtsp camera not reached yet: retrying/g) ?? []).length, (x) => x >= 6, 30_000, 'retries');
  t.false(socket.received.some((m) => 'componentCrashed' in m || 'trackAdded' in m));
  t.deepEqual((await s.api(`/room/${roomId}`)).body.data.components.map((c: any) => [c.id, c.tracks.length]).sort(), [[badId, 0], [lateId, 0], [muteId, 0]].sort());

  // the camera comes up: the next attempt reaches it
  await camera({ port: cameraPort, width: 160, height: 120 });
  await until(async () => socket.received.some((m) => 'trackAdded' in m && m.trackAdded.componentId === lateId), (x) => x, 30_000, 'TrackAdded once the camera is up');

  // deleted: TrackRemoved, no ComponentCrashed, its ffmpeg gone
  t.is((await s.api(`/room/${roomId}/component/${lateId}`, { method: 'DELETE' })).status, 204);
  await until(async () => socket.received.some((m) => 'trackRemoved' in m && m.trackRemoved.componentId === lateId), (x) => x, 10_000, 'TrackRemoved');
  t.false(socket.received.some((m) => 'componentCrashed' in m));

  t.is((await s.api(`/room/${roomId}/component/${badId}`, { method: 'DELETE' })).status, 204);

  // the node dies: the ffmpeg waiting on the silent server dies with it (setpriv --pdeathsig)
  const left = await until(async () => childrenOf(s.child.pid!).filter((p) => p.cmdline.includes('ffmpeg')), (x) => x.length === 1, 20_000, 'one ffmpeg (the silent server)');
  s.child.kill('SIGKILL');
  await until(async () => left.filter((p) => { try { process.kill(p.pid, 0); return true; } catch { return false; } }).length, (x) => x === 0, 10_000, 'the ffmpeg gone with its node');

});
