// The Recording component with an SDK publisher: Chromium (fake camera and microphone, the unmodified SDK) publishes
// into an H264 room with a Recording component for PUBLISH_SECONDS; the peer leaves, the room is deleted, the part is
// uploaded to a real S3-protocol server started here (s3rver on a free loopback port, its folder removed after), the
// objects are listed and downloaded with the AWS SDK, converted to MP4 by the recording-to-mp4 CLI and probed by
// ffprobe: video and audio present, duration within 10% of the time the tracks were published.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { ServerEventType } from '../../media-server/src/proto/index.js';
import { makeResources, type Resources } from '../../media-server/test/components/support/media-files.js';
import { ServerSocket, terminateAll } from '../../media-server/test/notifications/support/sockets.js';
import { validateAgainst } from '../../media-server/test/support/openapi-validator.js';
import { startS3TestServer, type S3TestServer } from '../../media-server/test/support/s3-test-server.js';
import { startTestNode, waitFor, type TestNode } from '../../media-server/test/support/test-node.js';
import { launchChromium, openPeerPage, servePage } from '../support/browser.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUCKET = 'recordings';
const PUBLISH_SECONDS = 40;

let s3: S3TestServer;
let n: TestNode;
let res: Resources;
let browser: Browser;
let sdkPage: { url: string; close: () => Promise<void> };
let socket: ServerSocket;
const logs: string[] = [];

test.before(async () => {
  res = await makeResources();
  s3 = await startS3TestServer([BUCKET]);
  n = await startTestNode(
    {
      FJ_COMPONENTS_USED: 'recording',
      FJ_RESOURCES_BASE_PATH: res.base,
      FJ_S3_ENDPOINT: s3.endpoint,
      FJ_S3_ACCESS_KEY_ID: s3.accessKeyId,
      FJ_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      FJ_S3_REGION: s3.region,
      FJ_S3_BUCKET: BUCKET,
      FJ_S3_PATH_PREFIX: 'e2e',
    },
    {},
    logs,
  );
  socket = await ServerSocket.open(n.base);
  await socket.subscribe('test-token', [ServerEventType.SERVER_NOTIFICATION]);
  browser = await launchChromium();
  sdkPage = await servePage();
});

test.after.always(async () => {
  await socket?.close();
  terminateAll();
  await browser?.close();
  await sdkPage?.close();
  await n?.stop();
  await s3?.close();
  if (res) await rm(res.base, { recursive: true, force: true });
});

async function probe(file: string): Promise<{ duration: number; kinds: string[] }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name', '-of', 'json', file]);
  const parsed = JSON.parse(stdout);
  return { duration: Number(parsed.format.duration), kinds: parsed.streams.map((s: { codec_type: string; codec_name: string }) => `${s.codec_type}:${s.codec_name}`) };
}

test('an SDK publisher recorded, uploaded to S3, converted to MP4: video and audio, the published length', async (t) => {
  const created = await n.api('/room', { method: 'POST', json: { videoCodec: 'h264' } });
  const roomId = created.body.data.room.id as string;
  const rec = await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'recording' } });
  t.is(rec.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', rec.body), []);
  t.deepEqual(rec.body.data.properties, { subscribeMode: 'auto' });
  const added = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  t.is(added.status, 201);
  const peerId = added.body.data.peer.id as string;
  let publisher: Page | undefined;
  let publishedSeconds = 0;
  try {
    publisher = await openPeerPage(browser, sdkPage.url);
    await publisher.evaluate((o) => (window as any).fishjam.join(o), { host: `127.0.0.1:${n.node.httpPort}`, token: added.body.data.token as string, name: 'camera', audio: true, video: true, simulcast: false });
    const trackOf = (kind: number) => (m: any) => 'trackAdded' in m && m.trackAdded.peerId === peerId && m.trackAdded.track?.type === kind;
    await socket.waitFor(trackOf(1), 60_000, 'the video track');
    await socket.waitFor(trackOf(2), 60_000, 'the audio track');
    const publishedAt = Date.now();
    await new Promise((r) => setTimeout(r, PUBLISH_SECONDS * 1000));
    // the publisher leaves: its tracks end here
    t.is((await n.api(`/room/${roomId}/peer/${peerId}`, { method: 'DELETE' })).status, 204);
    publishedSeconds = (Date.now() - publishedAt) / 1000;
  } finally {
    await publisher?.close();
  }
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);

  const prefix = `e2e/${roomId}/`;
  await waitFor(async () => logs.some((l) => l.includes('recording uploaded to S3') && l.includes(roomId)), 120_000, 'the upload');
  const objects = await s3.list(BUCKET, prefix);
  const keys = objects.map((o) => o.Key!);
  t.log(keys.map((k, i) => `${k} (${objects[i]!.Size} bytes)`).join('\n'));
  const part = /^e2e\/[^/]+\/(part_[^/]+)\/report\.json$/.exec(keys.find((k) => k.endsWith('/report.json')) ?? '')?.[1];
  t.truthy(part, 'report.json under <prefix>/<room>/part_<time>/');

  const download = await mkdtemp(path.join(os.tmpdir(), 'fj-e2e-recording-'));
  try {
    for (const key of keys) await writeFile(path.join(download, path.basename(key)), await s3.get(BUCKET, key));
    const report = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(download, 'report.json'), 'utf8'));
    // one run when the camera and the microphone come in one offer (the SDK's way); the last run has both in any case
    const last = report.runs[report.runs.length - 1] as { file: string; tracks: Array<{ kind: string; mimeType: string }> };
    t.deepEqual(last.tracks.map((tr) => `${tr.kind}:${tr.mimeType}`).sort(), ['audio:audio/opus', 'video:video/H264']);
    t.true(keys.includes(`${prefix}${part}/${last.file}`), `${last.file} uploaded`);
    // the CLI a user runs (from source here; dist/cli/recording-to-mp4.js in the image)
    const cli = await run(process.execPath, ['--import', 'tsx', path.join(root, 'media-server/src/cli/recording-to-mp4.ts'), download], { cwd: path.join(root, 'media-server') });
    const outputs = [...cli.stdout.matchAll(/-> (\S+\.mp4)$/gm)].map((m) => m[1]!);
    t.true(outputs.includes(path.join(download, last.file.replace(/\.ts$/, '.mp4'))), cli.stdout);
    const runs = report.runs.length as number;
    const mp4 = await probe(path.join(download, last.file.replace(/\.ts$/, '.mp4')));
    t.deepEqual([...mp4.kinds].sort(), ['audio:aac', 'video:h264']);
    const recorded = (await Promise.all(outputs.map((o) => probe(o)))).reduce((sum, p) => sum + p.duration, 0);
    t.log(`published ${publishedSeconds.toFixed(2)} s; recorded ${recorded.toFixed(2)} s in ${runs} run(s); last run's MP4 ${mp4.duration.toFixed(2)} s`);
    t.true(Math.abs(recorded - publishedSeconds) <= publishedSeconds * 0.1, `recorded ${recorded} s of ${publishedSeconds} s published`);
  } finally {
    await rm(download, { recursive: true, force: true });
  }
  t.false(logs.some((l) => l.includes(s3.secretAccessKey)), 'the secret is in no log line');
});
