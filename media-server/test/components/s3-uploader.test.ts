// The pure parts of the S3 uploader: object keys, content types, the backoff, scrubbing credentials out of error
// texts, and the file listing (temporary files left out). The uploads themselves are tested against s3rver
// (hls-s3.test.ts).
import test from 'ava';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { pino } from 'pino';
import { Upload } from '@aws-sdk/lib-storage';
import { startS3TestServer } from '../support/s3-test-server.js';
import { contentTypeOf, DEFAULT_RETRY_POLICY, filesUnder, objectKey, retryDelay, S3Uploader, scrubbed } from '../../src/components/s3-uploader.js';

test('objectKey joins parts without empty segments or stray slashes', (t) => {
  t.is(objectKey('', 'room', 'index.m3u8'), 'room/index.m3u8');
  t.is(objectKey('/rec/', 'room', 'part_x/a.ts'), 'rec/room/part_x/a.ts');
  t.is(objectKey('a//b', 'c'), 'a/b/c');
});

test('content types: playlists as the original, media typed', (t) => {
  t.is(contentTypeOf('r/index.m3u8'), 'application/vnd.apple.mpegurl');
  t.is(contentTypeOf('r/header_1.mp4'), 'video/mp4');
  t.is(contentTypeOf('r/segment_1.m4s'), 'video/iso.segment');
  t.is(contentTypeOf('r/x.bin'), undefined);
});

test('retry pauses double and are capped', (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 10].map((a) => retryDelay(DEFAULT_RETRY_POLICY, a)), [500, 1000, 2000, 4000, 8000, 8000]);
});

test('scrubbed takes both key and secret out of an error text and bounds it', (t) => {
  const creds = { accessKeyId: 'AKIAXYZ', secretAccessKey: 's3cr3t/+=', region: 'r', bucket: 'b' };
  t.is(scrubbed('key AKIAXYZ with s3cr3t/+= and again AKIAXYZ', creds), 'key <redacted> with <redacted> and again <redacted>');
  t.is(scrubbed('x'.repeat(5000), creds).length, 500);
});

test('filesUnder lists regular files of the folder and its subfolders, sorted, without .tmp files', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fj-files-under-'));
  try {
    await mkdir(path.join(dir, 'sub'));
    await writeFile(path.join(dir, 'b.m4s'), 'x');
    await writeFile(path.join(dir, 'a.m3u8'), 'x');
    await writeFile(path.join(dir, 'a.m3u8.tmp'), 'x');
    await writeFile(path.join(dir, 'sub', 'c.ts'), 'x');
    t.deepEqual(await filesUnder(dir), ['a.m3u8', 'b.m4s', 'sub/c.ts']);
    await t.throwsAsync(filesUnder(path.join(dir, 'missing')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a server that accepts and never answers: an abort (the node stopping) ends the upload at once, reported as cancelled', async (t) => {
  const held: net.Socket[] = [];
  const server = net.createServer((socket) => void held.push(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fj-hang-'));
  const uploader = new S3Uploader(
    { accessKeyId: 'AKIAHANG', secretAccessKey: 'hang-secret', region: 'us-east-1', bucket: 'b' },
    { endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, forcePathStyle: true },
    pino({ level: 'silent' }),
  );
  try {
    await writeFile(path.join(dir, 'segment_1.m4s'), 'x'.repeat(1000));
    const abort = new AbortController();
    const started = Date.now();
    const pending = uploader.uploadAll([{ file: path.join(dir, 'segment_1.m4s'), key: 'r/segment_1.m4s' }], abort.signal);
    await new Promise((r) => setTimeout(r, 1000));
    t.true(held.length >= 1, 'the request reached the server');
    abort.abort();
    const result = await pending;
    t.false(result.ok);
    if (!result.ok) t.regex(result.reason, /cancelled/);
    t.true(Date.now() - started < 5000, `ended ${Date.now() - started} ms after it started`);
  } finally {
    uploader.close();
    for (const s of held) s.destroy();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file over the multipart threshold goes in parts to a real s3rver and arrives whole; a small one in one PUT', async (t) => {
  const s3 = await startS3TestServer(['big']);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fj-multipart-'));
  const policy = { ...DEFAULT_RETRY_POLICY, multipartThresholdBytes: 6 * 1024 * 1024, partSizeBytes: 5 * 1024 * 1024 };
  const uploader = new S3Uploader({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: s3.region, bucket: 'big' }, { endpoint: s3.endpoint, forcePathStyle: true }, pino({ level: 'silent' }), policy);
  // observed, not replaced: which path each file took
  const done = Upload.prototype.done;
  let multipartUploads = 0;
  Upload.prototype.done = function (this: Upload) {
    multipartUploads++;
    return done.call(this);
  };
  t.teardown(() => void (Upload.prototype.done = done));
  try {
    const big = Buffer.alloc(13 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    await writeFile(path.join(dir, 'run_1.ts'), big);
    await writeFile(path.join(dir, 'report.json'), '{}');
    const result = await uploader.uploadAll([
      { file: path.join(dir, 'run_1.ts'), key: 'p/run_1.ts' },
      { file: path.join(dir, 'report.json'), key: 'p/report.json' },
    ]);
    t.deepEqual(result, { ok: true, uploaded: 2, bytes: big.length + 2 });
    t.true((await s3.get('big', 'p/run_1.ts')).equals(big), 'the parts joined are the file');
    t.is(await s3.contentType('big', 'p/run_1.ts'), 'video/mp2t');
    t.is(multipartUploads, 1, 'the large file went through the multipart upload, the small one not');
  } finally {
    uploader.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
});
