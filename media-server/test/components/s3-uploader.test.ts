// The pure parts of the S3 uploader: object keys, content types, the backoff, scrubbing credentials out of error
// texts, and the file listing (temporary files left out). The uploads themselves are tested against s3rver
// (hls-s3.test.ts).
import test from 'ava';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { pino } from 'pino';
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
