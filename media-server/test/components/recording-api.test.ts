// /recording over HTTP, replaying the original's recording controller expectations: the listing (only finished
// recordings: a live persistent HLS is hidden), DELETE and GET of a file with their checks in order and their exact
// messages, ids and names that try to leave the folder (sent raw, as written), symlinks planted in the folder, the
// same request twice and at once. JSON answers are checked against the openapi.
import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { validateAgainst } from '../support/openapi-validator.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';
import { makeResources, makeVideo, type Resources } from './support/media-files.js';

let n: TestNode;
let empty: TestNode;
let res: Resources;
let emptyRes: Resources;

test.before(async () => {
  res = await makeResources();
  emptyRes = await makeResources();
  await makeVideo(path.join(res.sources, 'video.h264'), 30);
  await mkdir(path.join(res.base, 'outside'), { recursive: true });
  await writeFile(path.join(res.base, 'outside', 'index.m3u8'), 'outside the folder');
  n = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base });
  empty = await startTestNode({ FJ_COMPONENTS_USED: 'hls', FJ_RESOURCES_BASE_PATH: emptyRes.base });
});
test.after.always(async () => {
  await n?.stop();
  await empty?.stop();
  for (const r of [res, emptyRes]) if (r) await rm(r.base, { recursive: true, force: true });
});

/** A request sent exactly as written (fetch would normalise `.` and `%2e%2e` segments away). */
function raw(method: string, rawPath: string, auth = true): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = auth ? { authorization: 'Bearer test-token' } : {};
    const req = http.request({ host: '127.0.0.1', port: n.node.httpPort, path: rawPath, method, headers }, (reply) => {
      let body = '';
      reply.on('data', (d) => (body += d));
      reply.on('end', () => resolve({ status: reply.statusCode ?? 0, body, type: reply.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function plant(id: string): Promise<string> {
  const dir = path.join(res.base, 'recordings', id);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'index.m3u8'), '#EXTM3U\n');
  await writeFile(path.join(dir, 'segment_0.m4s'), Buffer.alloc(1000, 1));
  return dir;
}

test('no recordings folder: GET /recording is [] (needs the token)', async (t) => {
  const r = await empty.api('/recording');
  t.deepEqual([r.status, r.body], [200, { data: [] }]);
  t.deepEqual(validateAgainst('RecordingListResponse', r.body), []);
  const noToken = await fetch(`${empty.base}/recording`);
  t.is(noToken.status, 401);
});

test('a persistent HLS: hidden while live, then listed, served, deleted (twice: 204 then 404)', async (t) => {
  const created = await n.api('/room', { method: 'POST', json: { videoCodec: 'h264' } });
  const roomId = created.body.data.room.id as string;
  t.is((await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls', options: { persistent: true } } })).status, 201);
  t.is((await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'video.h264' } } })).status, 201);
  await waitFor(async () => (await fetch(`${n.base}/hls/${roomId}/index.m3u8`)).status === 200, 60_000, 'playable');
  t.false(((await n.api('/recording')).body.data as string[]).includes(roomId), 'a live stream is not a recording');
  const live = await fetch(`${n.base}/recording/${roomId}/index.m3u8`);
  t.deepEqual([live.status, await live.json()], [404, { errors: 'File not found' }]);
  t.deepEqual([(await n.api(`/recording/${roomId}`, { method: 'DELETE' })).status], [404]);

  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  await waitFor(async () => ((await n.api('/recording')).body.data as string[]).includes(roomId), 20_000, 'listed once the room is gone');
  const list = await n.api('/recording');
  t.deepEqual(validateAgainst('RecordingListResponse', list.body), []);
  const master = await fetch(`${n.base}/recording/${roomId}/index.m3u8`);
  t.is(master.status, 200);
  t.is(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  t.regex(await master.text(), /#EXT-X-STREAM-INF/);
  const media = await (await fetch(`${n.base}/recording/${roomId}/stream.m3u8`)).text();
  const segment = /segment_\d+\.m4s/.exec(media)![0];
  const bytes = await fetch(`${n.base}/recording/${roomId}/${segment}`);
  t.is(bytes.status, 200);
  t.true((await bytes.arrayBuffer()).byteLength > 0);

  const removed = await n.api(`/recording/${roomId}`, { method: 'DELETE' });
  t.is(removed.status, 204);
  t.false(existsSync(path.join(res.base, 'recordings', roomId)));
  const again = await n.api(`/recording/${roomId}`, { method: 'DELETE' });
  t.deepEqual([again.status, again.body], [404, { errors: 'Recording not found' }]);
  t.deepEqual(validateAgainst('Error', again.body), []);
  t.false(((await n.api('/recording')).body.data as string[]).includes(roomId));
});

test('DELETE /recording: ids that leave the folder are 400 (the original message), missing ones 404', async (t) => {
  for (const [rawId, shown] of [['.', '.'], ['..%2Foutside', '../outside'], ['%2e%2e', '..'], ['a%5Cb', 'a\\b'], ['x'.repeat(300), 'x'.repeat(300)]] as const) {
    const r = await raw('DELETE', `/recording/${rawId}`);
    t.is(r.status, 400, rawId);
    t.deepEqual(JSON.parse(r.body), { errors: `Invalid recording id, got: ${shown}` });
  }
  const missing = await n.api('/recording/no-such-recording', { method: 'DELETE' });
  t.deepEqual([missing.status, missing.body], [404, { errors: 'Recording not found' }]);
  t.true(existsSync(path.join(res.base, 'outside', 'index.m3u8')), 'nothing outside was touched');
});

test('GET /recording/:id/:file: bad id 400, missing 404, names that leave the folder 400, symlinks 404', async (t) => {
  const dir = await plant('planted');
  await symlink(path.join(res.base, 'outside', 'index.m3u8'), path.join(dir, 'link.m3u8'));
  await symlink(path.join(res.base, 'outside'), path.join(res.base, 'recordings', 'linked'));
  const ok = await raw('GET', '/recording/planted/index.m3u8', false);
  t.deepEqual([ok.status, ok.body, ok.type], [200, '#EXTM3U\n', 'application/vnd.apple.mpegurl']);
  const cases: Array<[string, number, unknown]> = [
    ['/recording/..%2Foutside/index.m3u8', 400, { errors: 'Invalid recording, got: ../outside' }],
    ['/recording/%2e%2e/index.m3u8', 400, { errors: 'Invalid recording, got: ..' }],
    ['/recording/missing/index.m3u8', 404, { errors: 'File not found' }],
    ['/recording/planted/..%2F..%2Foutside%2Findex.m3u8', 400, { errors: 'Invalid filename, got: ../../outside/index.m3u8' }],
    ['/recording/planted/%2e%2e', 400, { errors: 'Invalid filename, got: ..' }],
    ['/recording/planted/missing.m3u8', 404, { errors: 'File not found' }],
    ['/recording/planted/link.m3u8', 404, { errors: 'File not found' }],
    ['/recording/linked/index.m3u8', 404, { errors: 'File not found' }],
    [`/recording/planted/${'y'.repeat(300)}`, 400, { errors: `Invalid filename, got: ${'y'.repeat(300)}` }],
  ];
  for (const [p, status, body] of cases) {
    const r = await raw('GET', p, false);
    t.is(r.status, status, p);
    t.deepEqual(JSON.parse(r.body), body, p);
  }
  const list = (await n.api('/recording')).body.data as string[];
  t.true(list.includes('planted'));
  t.false(list.includes('linked'), 'a symlink is not a recording');
  const del = await n.api('/recording/linked', { method: 'DELETE' });
  t.is(del.status, 404);
  t.true(existsSync(path.join(res.base, 'outside', 'index.m3u8')));
});

test('the same DELETE twice at once: both answer cleanly and the recording is gone', async (t) => {
  const dir = await plant('twice');
  const answers = await Promise.all([n.api('/recording/twice', { method: 'DELETE' }), n.api('/recording/twice', { method: 'DELETE' })]);
  t.true(answers.every((a) => a.status === 204 || a.status === 404));
  t.true(answers.some((a) => a.status === 204));
  t.false(existsSync(dir));
});
