// The HLS component over HTTP: the original's expectations (defaults, one per room, codec, options and their errors,
// subscribe modes), GET /hls/:room_id/:filename and its hostile inputs (names escaping the folder in every spelling,
// symlinks, long names, a client that hangs up mid-download), and what deleting the component or the room leaves.
// Every JSON answer is checked against the openapi. Real node, real mediasoup, real ffmpeg.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { validateAgainst } from '../support/openapi-validator.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';
import { makeAudio, makeResources, makeVideo, type Resources } from './support/media-files.js';

const run = promisify(execFile);

let n: TestNode;
let res: Resources;

test.before(async () => {
  res = await makeResources();
  await makeVideo(path.join(res.sources, 'video.h264'), 30);
  // the supervision test's source must outlive five killed ffmpeg runs on a loaded machine (a room whose File source
  // ended has no track left, so no run would start and no crash could be counted)
  await makeVideo(path.join(res.sources, 'long.h264'), 180);
  await makeAudio(path.join(res.sources, 'audio.ogg'), 30);
  await writeFile(path.join(res.base, 'secret.m3u8'), 'outside the folder');
  n = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base });
});
test.after.always(async () => {
  await n?.stop();
  if (res) await rm(res.base, { recursive: true, force: true });
});

async function room(options: Record<string, unknown> = { videoCodec: 'h264' }): Promise<string> {
  const created = await n.api('/room', { method: 'POST', json: options });
  return created.body.data.room.id as string;
}
const add = (roomId: string, body: unknown) => n.api(`/room/${roomId}/component`, { method: 'POST', json: body });
const hlsGet = (roomId: string, name: string) => fetch(`${n.base}/hls/${roomId}/${name}`, { signal: AbortSignal.timeout(30_000) });

test('defaults: 201 with the original properties, listed in GET /room/:id', async (t) => {
  const id = await room();
  const r = await add(id, { type: 'hls' });
  t.is(r.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', r.body), []);
  t.deepEqual(r.body.data.properties, { playable: false, lowLatency: false, persistent: false, targetWindowDuration: null, subscribeMode: 'auto', s3: null });
  t.deepEqual(r.body.data.tracks, []);
  const shown = await n.api(`/room/${id}`);
  t.deepEqual(validateAgainst('RoomDetailsResponse', shown.body), []);
  t.is(shown.body.data.components[0].id, r.body.data.id);
});

test('options echoed: persistent, targetWindowDuration (seconds), subscribeMode manual', async (t) => {
  const id = await room();
  const r = await add(id, { type: 'hls', options: { persistent: true, targetWindowDuration: 30, subscribeMode: 'manual', lowLatency: false, s3: null } });
  t.is(r.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', r.body), []);
  t.deepEqual(r.body.data.properties, { playable: false, lowLatency: false, persistent: true, targetWindowDuration: 30, subscribeMode: 'manual', s3: null });
  await waitFor(() => existsSync(path.join(res.base, 'recordings', id)), 30_000, 'the persistent folder');
});

test('one HLS per room (checked before options), also for two requests at once', async (t) => {
  const id = await room();
  const [a, b] = await Promise.all([add(id, { type: 'hls' }), add(id, { type: 'hls', options: { lowLatency: 'x' } })]);
  t.deepEqual([a.status, b.status].sort(), [201, 400]);
  const refused = a.status === 400 ? a : b;
  t.deepEqual(refused.body, { errors: `Reached hls components limit in room ${id}` });
  const again = await add(id, { type: 'hls', options: { subscribeMode: 'nonsense' } });
  t.deepEqual([again.status, again.body], [400, { errors: `Reached hls components limit in room ${id}` }]);
  t.is((await n.api(`/room/${id}`)).body.data.components.length, 1);
});

test('vp8 and codec-less rooms are refused', async (t) => {
  for (const options of [{ videoCodec: 'vp8' }, {}]) {
    const id = await room(options);
    const r = await add(id, { type: 'hls' });
    t.deepEqual([r.status, r.body], [400, { errors: `Incompatible video codec enforced in room ${id}` }]);
    t.deepEqual(validateAgainst('Error', r.body), []);
  }
});

const badOptions: Array<[string, unknown, string]> = [
  ['options a string', 'hls', 'Invalid request body structure'],
  ['options an array', [], 'Invalid request body structure'],
  ['lowLatency a string', { lowLatency: 'yes' }, 'Invalid request body structure'],
  ['persistent a number', { persistent: 1 }, 'Invalid request body structure'],
  ['targetWindowDuration a string', { targetWindowDuration: '10' }, 'Invalid request body structure'],
  ['targetWindowDuration 1.5', { targetWindowDuration: 1.5 }, 'Invalid request body structure'],
  ['targetWindowDuration 0', { targetWindowDuration: 0 }, 'Invalid request body structure'],
  ['targetWindowDuration -10', { targetWindowDuration: -10 }, 'Invalid request body structure'],
  ['targetWindowDuration huge', { targetWindowDuration: 1e300 }, 'Invalid request body structure'],
  ['subscribeMode x', { subscribeMode: 'x' }, 'Invalid request body structure'],
  ['subscribeMode AUTO', { subscribeMode: 'AUTO' }, 'Invalid request body structure'],
  ['s3 a string', { s3: 'bucket' }, 'Invalid request body structure'],
  ['s3 without bucket', { s3: { accessKeyId: 'a', secretAccessKey: 'b', region: 'c' } }, 'Required field "bucket" missing'],
  ['s3 with a number', { s3: { accessKeyId: 1, secretAccessKey: 'b', region: 'c', bucket: 'd' } }, 'Invalid request body structure'],
];
for (const [what, options, message] of badOptions) {
  test(`hls: ${what} -> 400 ${message}`, async (t) => {
    const id = await room();
    const r = await add(id, { type: 'hls', options });
    t.deepEqual([r.status, r.body], [400, { errors: message }]);
    t.deepEqual((await n.api(`/room/${id}`)).body.data.components, []);
  });
}

test('subscribe: auto mode refused with the original message; manual mode 201 in plain text, twice, unknown origins too', async (t) => {
  const id = await room();
  const auto = await add(id, { type: 'hls' });
  const r = await n.api(`/room/${id}/component/${auto.body.data.id}/subscribe`, { method: 'POST', json: { origins: ['peer-1'] } });
  t.deepEqual([r.status, r.body], [400, { errors: `Component ${auto.body.data.id} option \`subscribe_mode\` is set to :auto` }]);
  const id2 = await room();
  const manual = await add(id2, { type: 'hls', options: { subscribeMode: 'manual' } });
  for (let i = 0; i < 2; i++) {
    const s = await n.api(`/room/${id2}/component/${manual.body.data.id}/subscribe`, { method: 'POST', json: { origins: ['peer-1', 'file-2'] } });
    t.deepEqual([s.status, s.body], [201, 'Successfully subscribed for tracks']);
  }
  const garbage = await n.api(`/room/${id2}/component/${manual.body.data.id}/subscribe`, { method: 'POST', json: { origins: [{ a: 1 }] } });
  t.deepEqual([garbage.status, garbage.body], [400, { errors: 'Invalid request body structure' }]);
});

test('manual mode records only what it was subscribed to: playable after subscribing to a File component', async (t) => {
  const id = await room();
  const hls = await add(id, { type: 'hls', options: { subscribeMode: 'manual' } });
  const file = await add(id, { type: 'file', options: { filePath: 'video.h264' } });
  t.is(file.status, 201);
  await new Promise((r) => setTimeout(r, 3000));
  t.is((await hlsGet(id, 'index.m3u8')).status, 404, 'nothing recorded before subscribe');
  const s = await n.api(`/room/${id}/component/${hls.body.data.id}/subscribe`, { method: 'POST', json: { origins: [file.body.data.id] } });
  t.is(s.status, 201);
  await waitFor(async () => (await hlsGet(id, 'index.m3u8')).status === 200, 60_000, 'the master playlist');
  const shown = await n.api(`/room/${id}`);
  t.true(shown.body.data.components.find((c: any) => c.id === hls.body.data.id).properties.playable);
  t.deepEqual(validateAgainst('RoomDetailsResponse', shown.body), []);
});

test('GET /hls: no HLS in the room (or no room) -> 404 File not found', async (t) => {
  const id = await room();
  for (const roomId of [id, 'no-such-room']) {
    const r = await hlsGet(roomId, 'index.m3u8');
    t.is(r.status, 404);
    const body = await r.json();
    t.deepEqual(body, { errors: 'File not found' });
    t.deepEqual(validateAgainst('Error', body), []);
  }
});

test('GET /hls: names that try to leave the folder, symlinks, long names, directories', async (t) => {
  const id = await room();
  t.is((await add(id, { type: 'hls' })).status, 201);
  const dir = path.join(res.base, 'temporary_hls', id);
  await waitFor(() => existsSync(dir), 30_000, 'the folder');
  await writeFile(path.join(dir, 'plain.m3u8'), '#EXTM3U\n');
  await symlink(path.join(res.base, 'secret.m3u8'), path.join(dir, 'link.m3u8'));
  await mkdir(path.join(dir, 'sub'));
  await writeFile(path.join(dir, 'sub', 'inner.m3u8'), 'inner');

  const ok = await hlsGet(id, 'plain.m3u8');
  t.is(ok.status, 200);
  t.is(ok.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  t.is(await ok.text(), '#EXTM3U\n');
  t.is(ok.headers.get('access-control-allow-origin'), '*');

  for (const name of ['..%2Fsecret.m3u8', '%2e%2e%2Fsecret.m3u8', '%2E%2E', '..', '%2e%2e', 'sub%2Finner.m3u8', '..%5Csecret.m3u8', 'plain.m3u8%00', 'x'.repeat(300)]) {
    // sent as written: fetch would turn %2e%2e into a dot segment and never send it
    const r = await rawGet(`/hls/${id}/${name}`);
    t.is(r.status, 400, name);
    t.regex(JSON.parse(r.body).errors, /^Invalid filename, got /, name);
  }
  for (const name of ['link.m3u8', 'sub', 'missing.m3u8', '%2e', 'x'.repeat(255)]) {
    const r = await rawGet(`/hls/${id}/${name}`);
    t.is(r.status, name === '%2e' ? 400 : 404, name);
    t.false(r.body.includes('outside the folder'));
  }
  // what the URL parser normalises away never reaches a file either
  for (const raw of [`/hls/${id}/../../../etc/passwd`, `/hls/${id}/%2e%2e/%2e%2e/secret.m3u8`, `/hls/${id}/sub/inner.m3u8`]) {
    const { status, body } = await rawGet(raw);
    t.true(status === 400 || status === 404, `${raw}: ${status}`);
    t.false(body.includes('outside the folder'));
  }
});

/** A GET with the path sent exactly as written (fetch would normalise dot segments). */
function rawGet(rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: n.node.httpPort, path: rawPath, method: 'GET' }, (reply) => {
      let body = '';
      reply.on('data', (d) => (body += d));
      reply.on('end', () => resolve({ status: reply.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('GET /hls: a client that hangs up mid-download, and many at once, leave the node serving', async (t) => {
  const id = await room();
  t.is((await add(id, { type: 'hls' })).status, 201);
  const dir = path.join(res.base, 'temporary_hls', id);
  await waitFor(() => existsSync(dir), 30_000, 'the folder');
  await writeFile(path.join(dir, 'big.m4s'), Buffer.alloc(8 * 1024 * 1024, 7));
  for (let i = 0; i < 20; i++) {
    const controller = new AbortController();
    const r = await fetch(`${n.base}/hls/${id}/big.m4s`, { signal: controller.signal });
    const reader = r.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => undefined);
  }
  // generous deadline: 160 MiB through one loaded node is slow, not wrong
  const whole = () => fetch(`${n.base}/hls/${id}/big.m4s`, { signal: AbortSignal.timeout(120_000) }).then(async (r) => [r.status, (await r.arrayBuffer()).byteLength]);
  const all = await Promise.all(Array.from({ length: 20 }, whole));
  t.true(all.every(([status, size]) => status === 200 && size === 8 * 1024 * 1024));
});

test('deleting the component: /hls answers 404 at once, a non-persistent folder goes, the same DELETE twice is 404', async (t) => {
  const id = await room();
  const hls = await add(id, { type: 'hls' });
  const dir = path.join(res.base, 'temporary_hls', id);
  await waitFor(() => existsSync(dir), 30_000, 'the folder');
  await writeFile(path.join(dir, 'plain.m3u8'), '#EXTM3U\n');
  t.is((await hlsGet(id, 'plain.m3u8')).status, 200);
  t.is((await n.api(`/room/${id}/component/${hls.body.data.id}`, { method: 'DELETE' })).status, 204);
  t.is((await hlsGet(id, 'plain.m3u8')).status, 404);
  const again = await n.api(`/room/${id}/component/${hls.body.data.id}`, { method: 'DELETE' });
  t.deepEqual([again.status, again.body], [404, { errors: `Component ${hls.body.data.id} does not exist` }]);
  await waitFor(() => !existsSync(dir), 30_000, 'the folder removed');
  // and a new HLS can be added to the room again
  t.is((await add(id, { type: 'hls' })).status, 201);
});

test('a persistent HLS keeps its folder after the room is deleted; ffmpeg is gone', async (t) => {
  const id = await room();
  t.is((await add(id, { type: 'hls', options: { persistent: true } })).status, 201);
  t.is((await add(id, { type: 'file', options: { filePath: 'video.h264' } })).status, 201);
  await waitFor(async () => (await hlsGet(id, 'index.m3u8')).status === 200, 60_000, 'playable');
  t.is((await n.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
  t.is((await hlsGet(id, 'index.m3u8')).status, 404);
  await waitFor(() => n.node.components.hls.folderOf(id) === undefined, 30_000, 'unregistered');
  t.true(existsSync(path.join(res.base, 'recordings', id, 'index.m3u8')));
});

test('several tracks: a track added later restarts ffmpeg (segment numbers go on, a new init); two videos are composed into 1280x720 H264 with AAC', async (t) => {
  const id = await room();
  t.is((await add(id, { type: 'hls' })).status, 201);
  t.is((await add(id, { type: 'file', options: { filePath: 'video.h264' } })).status, 201);
  const media = async () => {
    const r = await hlsGet(id, 'stream.m3u8');
    return r.status === 200 ? r.text() : '';
  };
  await waitFor(async () => /#EXTINF/.test(await media()), 60_000, 'the first segment of the first run');
  const firstRun = await media();
  t.regex(firstRun, /#EXT-X-MAP:URI="header_1\.mp4"/);
  const lastOfRun1 = Math.max(...[...firstRun.matchAll(/segment_(\d+)\.m4s/g)].map((m) => Number(m[1])));
  t.is((await add(id, { type: 'file', options: { filePath: 'video.h264' } })).status, 201);
  t.is((await add(id, { type: 'file', options: { filePath: 'audio.ogg' } })).status, 201);
  // the playlist goes on: the first run's segments stay, then a discontinuity, the new run's init and its segments
  const laterRun = /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="(header_\d+\.mp4)"\n(?:#EXT-X-DISCONTINUITY\n|#EXT-X-MAP:URI="header_\d+\.mp4"\n|#EXTINF:[\d.]+,\nsegment_\d+\.m4s\n)*?#EXTINF:[\d.]+,\n(segment_(\d+)\.m4s)\n(?![\s\S]*#EXT-X-DISCONTINUITY)/;
  let text = '';
  await waitFor(async () => {
    text = await media();
    return laterRun.test(text);
  }, 60_000, 'the first segment of a later run');
  const [, map, segmentName, segmentNumber] = laterRun.exec(text)! as unknown as [string, string, string, string];
  const segment = [segmentName, segmentName, segmentNumber];
  t.true(text.includes(`segment_${lastOfRun1}.m4s`), 'the first run is still listed');
  t.true(Number(segmentNumber) > lastOfRun1, 'numbers go on across runs');
  const dir = path.join(res.base, 'temporary_hls', id);
  const probeFile = path.join(res.base, `probe-${id}.mp4`);
  await writeFile(probeFile, Buffer.concat([await readFile(path.join(dir, map)), await readFile(path.join(dir, segment[1]!))]));
  const { stdout } = await run('nice', ['-n', '19', 'ffprobe', '-v', 'error', '-show_entries', 'stream=codec_name,width,height,channels', '-of', 'json', probeFile]);
  const streams = (JSON.parse(stdout) as { streams: Array<Record<string, unknown>> }).streams;
  t.deepEqual(streams.find((x) => x.codec_name === 'h264'), { codec_name: 'h264', width: 1280, height: 720 });
  t.deepEqual(streams.find((x) => x.codec_name === 'aac'), { codec_name: 'aac', channels: 2 });
  const master = await (await hlsGet(id, 'index.m3u8')).text();
  t.regex(master, /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
  t.is((await n.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
});

/** The HLS ffmpeg processes this test process runs (children reading an SDP), by pid. */
async function hlsFfmpegPids(): Promise<number[]> {
  const { readdir: list } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await list('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (cmdline.includes('sdp') && cmdline.includes('pipe:0')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

test.serial('supervision: a killed ffmpeg is started again and the playlist goes on; one that keeps dying is ComponentCrashed and only it goes', async (t) => {
  const { ServerSocket, terminateAll } = await import('../notifications/support/sockets.js');
  const { ServerEventType } = await import('../../src/proto/index.js');
  const socket = await ServerSocket.open(n.base);
  await socket.subscribe('test-token', [ServerEventType.SERVER_NOTIFICATION]);
  try {
    const id = await room();
    const hls = await add(id, { type: 'hls' });
    const file = await add(id, { type: 'file', options: { filePath: 'long.h264' } });
    await waitFor(async () => (await hlsGet(id, 'index.m3u8')).status === 200, 60_000, 'playable');
    const [first] = await hlsFfmpegPids();
    t.truthy(first);
    process.kill(first!, 'SIGKILL');
    await waitFor(async () => /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="header_2\.mp4"\n#EXTINF/.test(await (await hlsGet(id, 'stream.m3u8')).text()), 60_000, 'a segment of the restarted run');
    t.true(socket.received.some((m) => 'hlsPlayable' in m && m.hlsPlayable.componentId === hls.body.data.id), 'HlsPlayable went out');
    t.false(socket.received.some((m) => 'componentCrashed' in m), 'one death is not a crash');

    // now kill every new run before it makes a segment: after five in a row the component is reported crashed
    const killed = new Set<number>([first!]);
    await waitFor(async () => {
      for (const pid of await hlsFfmpegPids()) {
        if (killed.has(pid)) continue;
        killed.add(pid);
        process.kill(pid, 'SIGKILL');
      }
      return socket.received.some((m) => 'componentCrashed' in m && m.componentCrashed.componentId === hls.body.data.id);
    }, 90_000, 'ComponentCrashed');
    const shown = await n.api(`/room/${id}`);
    // the File component may have played its file to the end meanwhile on a slow machine (it then leaves by itself):
    // what matters is that the crash took the HLS component only, and the room lives on
    const left = shown.body.data.components.map((c: { id: string }) => c.id);
    t.false(left.includes(hls.body.data.id), 'the HLS component went');
    t.true(left.length === 0 || (left.length === 1 && left[0] === file.body.data.id), `only the HLS component went: ${left.join(', ')}`);
    t.false(socket.received.some((m) => 'componentCrashed' in m && m.componentCrashed.componentId === file.body.data.id), 'the File component did not crash');
    t.is((await hlsGet(id, 'index.m3u8')).status, 404);
    await waitFor(async () => (await hlsFfmpegPids()).length === 0, 20_000, 'no HLS ffmpeg left');
    t.is((await n.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
  } finally {
    await socket.close();
    terminateAll();
  }
});
