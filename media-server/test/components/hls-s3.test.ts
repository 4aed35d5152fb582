// The HLS component's S3 upload against a real S3-protocol server (s3rver, started here on a free loopback port):
// a File component feeds the HLS component, the room is deleted, and the playlists, init segment and segments are
// then in the bucket under <room_id>/ (listed and read with the AWS SDK, the segments probed by ffprobe), with
// HlsUploaded on the server notification socket. Hostile: an unknown access key, a missing bucket, a server that
// drops every connection and one that is not there give HlsUploadCrashed after a bounded number of tries, and the
// node goes on; the secret never shows in the logs or on a command line. (A wrong secret with a known key cannot be
// shown against s3rver: it does not check SigV4 signatures.) Real node, real mediasoup, real ffmpeg.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeServerMessage, ServerEventType, type ServerMessage } from '../../src/proto/index.js';
import { ServerSocket, terminateAll } from '../notifications/support/sockets.js';
import { validateAgainst } from '../support/openapi-validator.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-test-server.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';
import { makeResources, makeVideo, type Resources } from './support/media-files.js';

const run = promisify(execFile);
const BUCKET = 'hls-bucket';

let s3: S3TestServer;
let n: TestNode;
let res: Resources;
let socket: ServerSocket;
const logs: string[] = [];
/** a room's webhook receiver: what it got */
let webhook: http.Server;
const hooked: ServerMessage[] = [];

test.before(async () => {
  res = await makeResources();
  await makeVideo(path.join(res.sources, 'video.h264'), 40);
  s3 = await startS3TestServer([BUCKET]);
  n = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base, FJ_S3_ENDPOINT: s3.endpoint, FJ_WEBHOOK_ALLOW_PRIVATE: 'true' }, {}, logs);
  webhook = http.createServer((req, reply) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const decoded = decodeServerMessage(Buffer.concat(chunks));
      if (decoded.ok) hooked.push(decoded.value);
      reply.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  socket = await ServerSocket.open(n.base);
  await socket.subscribe('test-token', [ServerEventType.SERVER_NOTIFICATION]);
});
test.after.always(async () => {
  await new Promise((r) => (webhook ? webhook.close(r) : r(undefined)));
  await socket?.close();
  terminateAll();
  await n?.stop();
  await s3?.close();
  if (res) await rm(res.base, { recursive: true, force: true });
});

const credentials = (over: Record<string, string> = {}) => ({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: s3.region, bucket: BUCKET, ...over });
const add = (node: TestNode, roomId: string, body: unknown) => node.api(`/room/${roomId}/component`, { method: 'POST', json: body });
const roomIn = async (node: TestNode) => (await node.api('/room', { method: 'POST', json: { videoCodec: 'h264' } })).body.data.room.id as string;
const uploadedFor = (roomId: string) => (m: ServerMessage) => 'hlsUploaded' in m && m.hlsUploaded.roomId === roomId;
const crashedFor = (roomId: string) => (m: ServerMessage) => 'hlsUploadCrashed' in m && m.hlsUploadCrashed.roomId === roomId;

/** A room with an HLS component (s3 set) fed by a File component, playable; returns once the playlist lists `segments`. */
async function playableRoom(node: TestNode, s3Options: unknown, segments: number, webhookUrl?: string): Promise<{ roomId: string; hlsId: string }> {
  const roomId = webhookUrl
    ? ((await node.api('/room', { method: 'POST', json: { videoCodec: 'h264', webhookUrl } })).body.data.room.id as string)
    : await roomIn(node);
  const hls = await add(node, roomId, { type: 'hls', options: { s3: s3Options } });
  if (hls.status !== 201) throw new Error(`hls: ${hls.status} ${JSON.stringify(hls.body)}`);
  const file = await add(node, roomId, { type: 'file', options: { filePath: 'video.h264' } });
  if (file.status !== 201) throw new Error(`file: ${file.status} ${JSON.stringify(file.body)}`);
  await waitFor(async () => {
    const r = await fetch(`${node.base}/hls/${roomId}/stream.m3u8`, { signal: AbortSignal.timeout(30_000) });
    return r.status === 200 && ((await r.text()).match(/#EXTINF/g) ?? []).length >= segments;
  }, 90_000, `${segments} segments in the playlist`);
  return { roomId, hlsId: hls.body.data.id as string };
}

/** Command lines of this process's children (ffmpeg and whatever else runs): no secret may be there. */
async function childCommandLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      lines.push((await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' '));
    } catch {
      // gone meanwhile
    }
  }
  return lines;
}

test.serial('room deleted: playlists, init segment and segments are in the bucket under <room_id>/, HlsUploaded on the socket and the webhook, the folder goes', async (t) => {
  const { roomId } = await playableRoom(n, credentials(), 2, `http://127.0.0.1:${(webhook.address() as net.AddressInfo).port}/hooks`);
  const shown = await n.api(`/room/${roomId}`);
  t.deepEqual(validateAgainst('RoomDetailsResponse', shown.body), []);
  t.is(shown.body.data.components.find((c: { type: string }) => c.type === 'hls').properties.s3, null, 'credentials are never echoed');
  const commandLines = await childCommandLines();
  t.true(commandLines.some((l) => l.includes('ffmpeg')), 'the HLS ffmpeg runs');
  t.false(commandLines.some((l) => l.includes(s3.secretAccessKey) || l.includes(s3.accessKeyId)), 'no credential on a command line');
  const folder = path.join(res.base, 'temporary_hls', roomId);

  const deletedAt = Date.now();
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  await socket.waitFor(uploadedFor(roomId), 60_000, 'HlsUploaded');
  t.log(`HlsUploaded ${Date.now() - deletedAt} ms after DELETE`);
  t.false(socket.received.some(crashedFor(roomId)));
  // the room's webhook gets it too, after its RoomDeleted (the original sends every notification to both)
  await waitFor(() => hooked.some(uploadedFor(roomId)), 20_000, 'HlsUploaded at the webhook');
  const order = hooked.filter((m) => ('roomDeleted' in m && m.roomDeleted.roomId === roomId) || uploadedFor(roomId)(m)).map((m) => Object.keys(m)[0]);
  t.deepEqual(order, ['roomDeleted', 'hlsUploaded']);

  const objects = await s3.list(BUCKET, `${roomId}/`);
  const keys = objects.map((o) => o.Key!.slice(roomId.length + 1));
  t.true(keys.includes('index.m3u8'), keys.join(' '));
  t.true(keys.includes('stream.m3u8'));
  t.true(keys.includes('header_1.mp4'));
  t.true(keys.filter((k) => /^segment_\d+\.m4s$/.test(k)).length >= 2, keys.join(' '));
  t.false(keys.some((k) => k.endsWith('.tmp')));
  t.is(await s3.contentType(BUCKET, `${roomId}/index.m3u8`), 'application/vnd.apple.mpegurl');
  // every file the uploaded playlists name is in the bucket
  const master = (await s3.get(BUCKET, `${roomId}/index.m3u8`)).toString();
  t.true(master.includes('stream.m3u8'));
  const media = (await s3.get(BUCKET, `${roomId}/stream.m3u8`)).toString();
  const named = [...media.matchAll(/^(segment_\d+\.m4s)$/gm)].map((m) => m[1]!).concat([...media.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!));
  t.true(named.length >= 3);
  for (const name of named) t.true(keys.includes(name), `${name} named by the playlist is in the bucket`);
  // the uploaded init segment and segments are real video: ffprobe decodes frames from them
  const segmentKeys = keys.filter((k) => /^segment_\d+\.m4s$/.test(k)).sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
  const joined = Buffer.concat([await s3.get(BUCKET, `${roomId}/header_1.mp4`), ...(await Promise.all(segmentKeys.slice(0, 2).map((k) => s3.get(BUCKET, `${roomId}/${k}`))))]);
  const probeFile = path.join(os.tmpdir(), `fj-hls-s3-${roomId}.mp4`);
  await writeFile(probeFile, joined);
  try {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', probeFile]);
    const stream = JSON.parse(stdout).streams[0];
    t.is(stream.codec_name, 'h264');
    t.true(Number(stream.nb_read_frames) >= 100, `frames decoded from two uploaded segments: ${stream.nb_read_frames}`);
  } finally {
    await rm(probeFile, { force: true });
  }
  await waitFor(() => !existsSync(folder), 10_000, 'the temporary folder to go after the upload');
  t.false(logs.some((l) => l.includes(s3.secretAccessKey)), 'the secret is in no log line');
  t.true(logs.some((l) => l.includes('HLS: stream uploaded to S3')), 'the upload is logged');
});

test.serial('persistent with s3: uploaded and the recording stays, served by /recording', async (t) => {
  const roomId = await roomIn(n);
  t.is((await add(n, roomId, { type: 'hls', options: { persistent: true, s3: credentials() } })).status, 201);
  t.is((await add(n, roomId, { type: 'file', options: { filePath: 'video.h264' } })).status, 201);
  await waitFor(async () => (await fetch(`${n.base}/hls/${roomId}/index.m3u8`, { signal: AbortSignal.timeout(30_000) })).status === 200, 90_000, 'playable');
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  await socket.waitFor(uploadedFor(roomId), 60_000, 'HlsUploaded');
  const keys = (await s3.list(BUCKET, `${roomId}/`)).map((o) => o.Key);
  t.true(keys.includes(`${roomId}/index.m3u8`));
  t.true((await n.api('/recording')).body.data.includes(roomId), 'the persistent folder is a recording');
  t.is((await fetch(`${n.base}/recording/${roomId}/index.m3u8`)).status, 200);
  t.is((await n.api(`/recording/${roomId}`, { method: 'DELETE' })).status, 204);
});

const hostile: Array<[string, () => Record<string, string>]> = [
  ['an unknown access key', () => credentials({ accessKeyId: 'AKIAUNKNOWNKEY000000' })],
  ['a bucket that does not exist', () => credentials({ bucket: 'no-such-bucket' })],
];
for (const [what, creds] of hostile) {
  test.serial(`${what}: HlsUploadCrashed after the bounded tries, nothing in the bucket, the folder goes, the node goes on`, async (t) => {
    const { roomId } = await playableRoom(n, creds(), 1);
    const deletedAt = Date.now();
    t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
    await socket.waitFor(crashedFor(roomId), 60_000, 'HlsUploadCrashed');
    const tookMs = Date.now() - deletedAt;
    // 4 tries of a file with pauses of 0.5, 1 and 2 s between them: at least 3.5 s, and not endless
    t.true(tookMs >= 3400 && tookMs < 45_000, `HlsUploadCrashed after ${tookMs} ms`);
    t.false(socket.received.some(uploadedFor(roomId)));
    t.deepEqual(await s3.list(BUCKET, `${roomId}/`), []);
    await waitFor(() => !existsSync(path.join(res.base, 'temporary_hls', roomId)), 10_000, 'the folder to go');
    t.true(logs.some((l) => l.includes('S3 upload failed: HlsUploadCrashed') && l.includes(roomId)), 'the failure is logged');
    t.false(logs.some((l) => l.includes(s3.secretAccessKey)), 'the secret is in no log line');
    // the node goes on
    const other = await roomIn(n);
    t.is((await n.api(`/room/${other}`)).status, 200);
    t.is((await n.api(`/room/${other}`, { method: 'DELETE' })).status, 204);
  });
}

test.serial('a server that drops every connection: HlsUploadCrashed after a bounded number of connections, none after it', async (t) => {
  let connections = 0;
  const dropper = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
  const port = (dropper.address() as net.AddressInfo).port;
  const other = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base, FJ_S3_ENDPOINT: `http://127.0.0.1:${port}` });
  const otherSocket = await ServerSocket.open(other.base);
  try {
    await otherSocket.subscribe('test-token', [ServerEventType.SERVER_NOTIFICATION]);
    const { roomId } = await playableRoom(other, credentials(), 2);
    t.is((await other.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
    await otherSocket.waitFor(crashedFor(roomId), 60_000, 'HlsUploadCrashed');
    const atCrash = connections;
    // 4 files at once at most, 4 tries each
    t.true(atCrash >= 4 && atCrash <= 16, `${atCrash} connections`);
    await new Promise((r) => setTimeout(r, 3000));
    t.is(connections, atCrash, 'no try after HlsUploadCrashed');
    t.is((await other.api('/room')).status, 200);
  } finally {
    await otherSocket.close();
    await other.stop();
    await new Promise((r) => dropper.close(r));
  }
});

test.serial('an unreachable endpoint (nothing listens): HlsUploadCrashed, and the node stops promptly afterwards', async (t) => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const other = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base, FJ_S3_ENDPOINT: `http://127.0.0.1:${port}` });
  const otherSocket = await ServerSocket.open(other.base);
  try {
    await otherSocket.subscribe('test-token', [ServerEventType.SERVER_NOTIFICATION]);
    const { roomId } = await playableRoom(other, credentials(), 1);
    t.is((await other.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
    await otherSocket.waitFor(crashedFor(roomId), 60_000, 'HlsUploadCrashed');
    t.is((await other.api('/room')).status, 200);
  } finally {
    await otherSocket.close();
    const stopStarted = Date.now();
    await other.stop();
    t.true(Date.now() - stopStarted < 15_000);
  }
});

test.serial('the node stopped with a live HLS component: the stream is uploaded before the stop returns', async (t) => {
  const other = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base, FJ_S3_ENDPOINT: s3.endpoint });
  let stopped = false;
  try {
    const events: string[] = [];
    other.node.bus.subscribe((e) => {
      if (e.type === 'hlsUploaded' || e.type === 'hlsUploadCrashed') events.push(e.type);
    });
    const { roomId } = await playableRoom(other, credentials(), 1);
    await other.stop();
    stopped = true;
    t.deepEqual(events, ['hlsUploaded']);
    const keys = (await s3.list(BUCKET, `${roomId}/`)).map((o) => o.Key);
    t.true(keys.includes(`${roomId}/index.m3u8`) && keys.includes(`${roomId}/stream.m3u8`), keys.join(' '));
  } finally {
    if (!stopped) await other.stop();
  }
});

const badS3: Array<[string, unknown, string]> = [
  ['s3 an array', [], 'Invalid request body structure'],
  ['s3 a number', 5, 'Invalid request body structure'],
  ['s3 true', true, 'Invalid request body structure'],
  ['s3 without accessKeyId', { secretAccessKey: 'b', region: 'c', bucket: 'd' }, 'Required field "accessKeyId" missing'],
  ['s3 without secretAccessKey', { accessKeyId: 'a', region: 'c', bucket: 'd' }, 'Required field "secretAccessKey" missing'],
  ['s3 without region', { accessKeyId: 'a', secretAccessKey: 'b', bucket: 'd' }, 'Required field "region" missing'],
  ['s3 with a null bucket', { accessKeyId: 'a', secretAccessKey: 'b', region: 'c', bucket: null }, 'Required field "bucket" missing'],
  ['s3 region an object', { accessKeyId: 'a', secretAccessKey: 'b', region: { x: 1 }, bucket: 'd' }, 'Invalid request body structure'],
  ['s3 bucket a list', { accessKeyId: 'a', secretAccessKey: 'b', region: 'c', bucket: ['d'] }, 'Invalid request body structure'],
  ['s3 an empty secret', { accessKeyId: 'a', secretAccessKey: '', region: 'c', bucket: 'd' }, 'Invalid request body structure'],
  ['s3 a 5000-character key id', { accessKeyId: 'a'.repeat(5000), secretAccessKey: 'b', region: 'c', bucket: 'd' }, 'Invalid request body structure'],
];
for (const [what, value, message] of badS3) {
  test(`hls: ${what} -> 400 ${message}`, async (t) => {
    const roomId = await roomIn(n);
    const r = await add(n, roomId, { type: 'hls', options: { s3: value } });
    t.deepEqual([r.status, r.body], [400, { errors: message }]);
    t.deepEqual(validateAgainst('Error', r.body), []);
    t.deepEqual((await n.api(`/room/${roomId}`)).body.data.components, []);
    await n.api(`/room/${roomId}`, { method: 'DELETE' });
  });
}
