// The Recording component with real parts: File components play a video and an audio clip into the room, the
// recording ffmpeg copies them into MPEG-TS, the room is deleted, the part folder is uploaded to a real s3rver under
// <prefix>/<room>/part_<time>/ (listed and downloaded with the AWS SDK), converted to MP4 by the conversion the CLI
// uses, and probed by ffprobe (duration, audio and video). Hostile: an upload that fails is logged, marked beside the
// files and the local copy kept; a recording ffmpeg that keeps dying is ComponentCrashed and what it had is still
// uploaded; the raw recordings cleaner removes only what the original's rules say.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { partExpired, RawRecordingsCleaner } from '../../src/components/raw-recordings-cleaner.js';
import { convertPart } from '../../src/components/recording-conversion.js';
import { ServerEventType } from '../../src/proto/index.js';
import { ServerSocket, terminateAll } from '../notifications/support/sockets.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-test-server.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';
import { makeAudio, makeResources, makeVideo, type Resources } from './support/media-files.js';

const run = promisify(execFile);
const BUCKET = 'recordings';
const CLIP_SECONDS = 12;

let s3: S3TestServer;
let n: TestNode;
let res: Resources;
let socket: ServerSocket;
const logs: string[] = [];

test.before(async () => {
  res = await makeResources();
  await makeVideo(path.join(res.sources, 'video.h264'), CLIP_SECONDS);
  await makeAudio(path.join(res.sources, 'audio.ogg'), CLIP_SECONDS);
  await makeVideo(path.join(res.sources, 'long.h264'), 120);
  s3 = await startS3TestServer([BUCKET]);
  n = await startTestNode({ FJ_COMPONENTS_USED: 'recording file', FJ_RESOURCES_BASE_PATH: res.base, FJ_S3_ENDPOINT: s3.endpoint }, {}, logs);
  socket = await ServerSocket.open(n.base);
  await socket.subscribe('test-token', [ServerEventType.SERVER_NOTIFICATION]);
});
test.after.always(async () => {
  await socket?.close();
  terminateAll();
  await n?.stop();
  await s3?.close();
  if (res) await rm(res.base, { recursive: true, force: true });
});

const credentials = (over: Record<string, string> = {}) => ({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: s3.region, bucket: BUCKET, ...over });
const add = (roomId: string, body: unknown) => n.api(`/room/${roomId}/component`, { method: 'POST', json: body });
const roomIn = async () => (await n.api('/room', { method: 'POST', json: { videoCodec: 'h264' } })).body.data.room.id as string;

async function probe(file: string): Promise<{ duration: number; streams: Array<{ codec_type: string; codec_name: string }> }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name', '-of', 'json', file]);
  const parsed = JSON.parse(stdout);
  return { duration: Number(parsed.format.duration), streams: parsed.streams };
}

test.serial('File video and audio recorded, uploaded under <prefix>/<room>/part_<time>/, converted to an MP4 with both, of the played length', async (t) => {
  const roomId = await roomIn();
  const rec = await add(roomId, { type: 'recording', options: { credentials: credentials(), pathPrefix: 'rec/' } });
  t.is(rec.status, 201);
  const started = Date.now();
  const video = await add(roomId, { type: 'file', options: { filePath: 'video.h264' } });
  const audio = await add(roomId, { type: 'file', options: { filePath: 'audio.ogg' } });
  t.deepEqual([video.status, audio.status], [201, 201]);
  for (const cid of [video.body.data.id, audio.body.data.id]) {
    await socket.waitFor((m) => 'trackRemoved' in m && m.trackRemoved.componentId === cid, 60_000, 'the clip to end');
  }
  const playedSeconds = (Date.now() - started) / 1000;
  const partDir = path.join(res.base, 'raw_recordings', roomId, (await readdir(path.join(res.base, 'raw_recordings', roomId)))[0]!);
  const part = path.basename(partDir);
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);

  const prefix = `rec/${roomId}/${part}/`;
  await waitFor(async () => (await s3.list(BUCKET, prefix)).some((o) => o.Key === `${prefix}report.json`) && logs.some((l) => l.includes('recording uploaded to S3') && l.includes(roomId)), 60_000, 'the upload');
  const keys = (await s3.list(BUCKET, prefix)).map((o) => o.Key!.slice(prefix.length)).sort();
  t.true(keys.includes('report.json'));
  const report = JSON.parse((await s3.get(BUCKET, `${prefix}report.json`)).toString());
  t.is(report.roomId, roomId);
  t.is(report.part, part);
  // usually one run; on a loaded machine the second clip's track may come after the first run started (then a run
  // with the video alone, possibly too short to hold media, and one with both)
  const last = report.runs[report.runs.length - 1];
  t.deepEqual(last.tracks.map((tr: { kind: string; mimeType: string }) => `${tr.kind}:${tr.mimeType}`), ['video:video/H264', 'audio:audio/opus']);
  t.true(report.runs.every((r: { endedAt: string | null }) => r.endedAt !== null));
  t.true(keys.includes(last.file), `${last.file} uploaded`);
  t.true(keys.every((k) => k === 'report.json' || /^run_\d+\.ts$/.test(k)), keys.join(' '));

  // converted from what is in the bucket, as a user would
  const download = await mkdtemp(path.join(os.tmpdir(), 'fj-rec-download-'));
  try {
    for (const key of keys) await writeFile(path.join(download, key), await s3.get(BUCKET, prefix + key));
    const raw = await probe(path.join(download, last.file));
    t.deepEqual(raw.streams.map((s) => `${s.codec_type}:${s.codec_name}`), ['video:h264', 'audio:opus'], 'recorded as they came');
    const converted = await convertPart(download, download);
    t.is(converted.length, report.runs.length);
    const outputs = converted.flatMap((c) => (c.output ? [c.output] : []));
    const lastMp4 = await probe(path.join(download, last.file.replace(/\.ts$/, '.mp4')));
    t.deepEqual(lastMp4.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort(), ['audio:aac', 'video:h264']);
    let total = 0;
    for (const output of outputs) total += (await probe(output)).duration;
    t.log(`played ${playedSeconds.toFixed(1)} s (clips of ${CLIP_SECONDS} s), recorded ${total.toFixed(2)} s in ${report.runs.length} run(s)`);
    // the recording starts once the tracks exist and ffmpeg listens (a fraction of a second on an idle machine, more
    // on a loaded one): most of the clip, never more than it
    t.true(total >= CLIP_SECONDS * 0.75 && total <= CLIP_SECONDS * 1.1, `${total} s recorded for clips of ${CLIP_SECONDS} s`);
  } finally {
    await rm(download, { recursive: true, force: true });
  }
  t.false(logs.some((l) => l.includes(s3.secretAccessKey)), 'the secret is in no log line');
  t.true(existsSync(partDir), 'the local copy stays until the cleaner takes it');
});

test.serial('manual mode: only the subscribed endpoints are recorded; subscribing another starts a new run with both', async (t) => {
  const roomId = await roomIn();
  const rec = await add(roomId, { type: 'recording', options: { credentials: credentials(), subscribeMode: 'manual' } });
  t.is(rec.status, 201);
  const first = (await add(roomId, { type: 'file', options: { filePath: 'long.h264' } })).body.data.id as string;
  const second = (await add(roomId, { type: 'file', options: { filePath: 'long.h264' } })).body.data.id as string;
  const subscribe = (origins: string[]) => n.api(`/room/${roomId}/component/${rec.body.data.id}/subscribe`, { method: 'POST', json: { origins } });
  const roomDir = path.join(res.base, 'raw_recordings', roomId);
  const report = async () => {
    const parts = existsSync(roomDir) ? await readdir(roomDir) : [];
    if (parts.length !== 1) return undefined;
    try {
      return JSON.parse(await readFile(path.join(roomDir, parts[0]!, 'report.json'), 'utf8')) as { runs: Array<{ tracks: Array<{ ownerId: string }> }> };
    } catch {
      return undefined;
    }
  };
  await new Promise((r) => setTimeout(r, 2000));
  t.deepEqual((await report())?.runs, [], 'nothing subscribed: nothing recorded');
  t.is((await subscribe([first])).status, 201);
  // a run's file fills once ffmpeg has seen a keyframe (it probes the stream first)
  const written = async (file: string) => {
    const parts = existsSync(roomDir) ? await readdir(roomDir) : [];
    return parts.length === 1 && (await stat(path.join(roomDir, parts[0]!, file)).catch(() => ({ size: 0 }))).size > 20_000;
  };
  await waitFor(async () => (await report())?.runs.length === 1 && (await written('run_1.ts')), 30_000, 'the first run');
  t.deepEqual((await report())!.runs[0]!.tracks.map((tr) => tr.ownerId), [first]);
  t.is((await subscribe([second, 'unknown-peer'])).status, 201);
  await waitFor(async () => (await report())?.runs.length === 2 && (await written('run_2.ts')), 30_000, 'a second run');
  t.deepEqual((await report())!.runs[1]!.tracks.map((tr) => tr.ownerId).sort(), [first, second].sort());
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  await waitFor(async () => (await s3.list(BUCKET, `${roomId}/`)).length === 3, 60_000, 'report and two runs uploaded');
});

test.serial('an upload that fails (unknown key): logged, upload_failed.json beside the files, the local copy kept, the node goes on', async (t) => {
  const roomId = await roomIn();
  t.is((await add(roomId, { type: 'recording', options: { credentials: credentials({ accessKeyId: 'AKIAUNKNOWN000000000' }) } })).status, 201);
  t.is((await add(roomId, { type: 'file', options: { filePath: 'long.h264' } })).status, 201);
  const roomDir = path.join(res.base, 'raw_recordings', roomId);
  await waitFor(async () => {
    const parts = existsSync(roomDir) ? await readdir(roomDir) : [];
    return parts.length === 1 && existsSync(path.join(roomDir, parts[0]!, 'run_1.ts'));
  }, 60_000, 'the recording to run');
  await new Promise((r) => setTimeout(r, 3000));
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  const partDir = path.join(roomDir, (await readdir(roomDir))[0]!);
  await waitFor(() => existsSync(path.join(partDir, 'upload_failed.json')), 60_000, 'the failure marker');
  const marker = JSON.parse(await readFile(path.join(partDir, 'upload_failed.json'), 'utf8'));
  t.regex(marker.reason, /InvalidAccessKeyId/);
  t.false(JSON.stringify(marker).includes('AKIAUNKNOWN'), 'the key id is scrubbed from the reason');
  t.true(existsSync(path.join(partDir, 'run_1.ts')));
  t.true(logs.some((l) => l.includes('recording: S3 upload failed; the local copy is kept') && l.includes(roomId)));
  t.deepEqual(await s3.list(BUCKET, roomId), []);
  t.is((await n.api('/room')).status, 200);
});

test.serial('a recording ffmpeg that keeps dying: ComponentCrashed, only it goes, and what it recorded is still uploaded', async (t) => {
  const roomId = await roomIn();
  const rec = await add(roomId, { type: 'recording', options: { credentials: credentials() } });
  const file = await add(roomId, { type: 'file', options: { filePath: 'long.h264' } });
  const recordingPids = async () => {
    const pids: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
        if (cmdline.includes('mpegts') && cmdline.some((a) => a.includes(roomId))) pids.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    return pids;
  };
  const killed = new Set<number>();
  await waitFor(async () => {
    for (const pid of await recordingPids()) {
      if (killed.has(pid)) continue;
      killed.add(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return socket.received.some((m) => 'componentCrashed' in m && m.componentCrashed.componentId === rec.body.data.id);
  }, 120_000, 'ComponentCrashed');
  t.true(killed.size >= 5, `${killed.size} runs killed`);
  const shown = await n.api(`/room/${roomId}`);
  t.deepEqual(shown.body.data.components.map((c: { id: string }) => c.id), [file.body.data.id], 'only the recording went');
  await waitFor(async () => (await s3.list(BUCKET, `${roomId}/`)).some((o) => o.Key!.endsWith('/report.json')), 60_000, 'the upload of what was recorded');
  const reportKey = (await s3.list(BUCKET, `${roomId}/`)).find((o) => o.Key!.endsWith('/report.json'))!.Key!;
  const report = JSON.parse((await s3.get(BUCKET, reportKey)).toString());
  t.true(report.runs.length >= 5, `${report.runs.length} runs reported`);
  t.true(report.runs.every((r: { endedAt: string | null }) => r.endedAt !== null), 'every run has its end');
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
});

test('the cleaner: empty parts and parts idle for an hour of rooms that are gone go (a failed upload stays a day); live rooms are left alone', async (t) => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  t.true(partExpired({ files: 0, newestMtimeMs: undefined, uploadFailed: false }, now));
  t.true(partExpired({ files: 2, newestMtimeMs: now - 3_600_001, uploadFailed: false }, now));
  t.false(partExpired({ files: 2, newestMtimeMs: now - 3_599_000, uploadFailed: false }, now));
  t.false(partExpired({ files: 2, newestMtimeMs: now - 3_600_001, uploadFailed: true }, now));
  t.true(partExpired({ files: 2, newestMtimeMs: now - 24 * 3_600_000 - 1, uploadFailed: true }, now));

  const root = await mkdtemp(path.join(os.tmpdir(), 'fj-raw-'));
  try {
    const make = async (room: string, part: string, files: Record<string, number>) => {
      await mkdir(path.join(root, room, part), { recursive: true });
      for (const [name, ageMs] of Object.entries(files)) {
        const file = path.join(root, room, part, name);
        await writeFile(file, 'x');
        const at = new Date(now - ageMs);
        await utimes(file, at, at);
      }
    };
    await make('gone', 'part_old', { 'run_1.ts': 2 * 3_600_000, 'report.json': 2 * 3_600_000 });
    await make('gone', 'part_recent', { 'run_1.ts': 2 * 3_600_000, 'report.json': 60_000 });
    await make('gone', 'part_empty', {});
    await make('gone', 'part_failed', { 'run_1.ts': 2 * 3_600_000, 'upload_failed.json': 2 * 3_600_000 });
    await make('gone-entirely', 'part_old', { 'run_1.ts': 2 * 3_600_000 });
    await make('live', 'part_old', { 'run_1.ts': 5 * 3_600_000 });
    const cleaner = new RawRecordingsCleaner(root, (room) => room === 'live', pino({ level: 'silent' }), () => now);
    await cleaner.cleanOnce();
    t.deepEqual((await readdir(path.join(root, 'gone'))).sort(), ['part_failed', 'part_recent']);
    t.false(existsSync(path.join(root, 'gone-entirely')), 'a room folder left empty goes');
    t.deepEqual(await readdir(path.join(root, 'live')), ['part_old']);
    await cleaner.stop();
    // no folder at all: nothing to do, no error
    const none = new RawRecordingsCleaner(path.join(root, 'missing'), () => false, pino({ level: 'silent' }), () => now);
    await t.notThrowsAsync(none.cleanOnce());
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
