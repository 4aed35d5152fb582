// The component REST API over HTTP, replaying the original's component controller and file component expectations:
// its checks in their order with their exact messages, the answer shapes (validated against the openapi, with the
// `type` discriminator of Component honoured), FJ_COMPONENTS_USED, and hostile bodies.
import test from 'ava';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { validateAgainst } from '../support/openapi-validator.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';
import { makeAudio, makeResources, makeVideo, type Resources } from './support/media-files.js';

let n: TestNode;
let off: TestNode;
let res: Resources;

test.before(async () => {
  res = await makeResources();
  await makeVideo(path.join(res.sources, 'video.h264'), 1);
  await makeAudio(path.join(res.sources, 'audio.ogg'), 1);
  await writeFile(path.join(res.sources, 'sounds.aac'), 'x');
  await writeFile(path.join(res.sources, 'h264'), 'x');
  await writeFile(path.join(res.sources, 'clip.H264'), 'x');
  await mkdir(path.join(res.sources, 'subdirectory'), { recursive: true });
  await writeFile(path.join(res.sources, 'subdirectory', 'video.h264'), '');
  await writeFile(path.join(res.base, 'restricted_audio.ogg'), 'secret');
  await symlink(path.join(res.base, 'restricted_audio.ogg'), path.join(res.sources, 'link.ogg'));
  // `rtsp` is not allowed here: it must answer as disabled (rtsp-api.test.ts allows it)
  n = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base });
  off = await startTestNode({ FJ_RESOURCES_BASE_PATH: res.base });
});
test.after.always(async () => {
  await n?.stop();
  await off?.stop();
  if (res) await rm(res.base, { recursive: true, force: true });
});

async function room(node: TestNode, options: Record<string, unknown> = {}): Promise<string> {
  const created = await node.api('/room', { method: 'POST', json: options });
  return created.body.data.room.id as string;
}

const add = (node: TestNode, roomId: string, body: unknown) => node.api(`/room/${roomId}/component`, { method: 'POST', json: body });

test('no type -> 400 Invalid request body structure (before the room is looked up)', async (t) => {
  for (const body of [{}, { options: { filePath: 'video.h264' } }]) {
    const r = await add(n, 'no-such-room', body);
    t.is(r.status, 400);
    t.deepEqual(r.body, { errors: 'Invalid request body structure' });
  }
});

test('invalid type -> 400 Invalid component type, even when the room does not exist', async (t) => {
  for (const type of ['teleport', 42, null, ['file'], 'FILE']) {
    const r = await add(n, 'no-such-room', { type });
    t.is(r.status, 400, JSON.stringify(type));
    t.deepEqual(r.body, { errors: 'Invalid component type' });
  }
});

test('missing room -> 404 Room <id> does not exist (before the type is checked as enabled)', async (t) => {
  for (const type of ['file', 'rtsp']) {
    const r = await add(n, 'no-such-room', { type, options: { filePath: 'video.h264' } });
    t.is(r.status, 404);
    t.deepEqual(r.body, { errors: 'Room no-such-room does not exist' });
    t.deepEqual(validateAgainst('Error', r.body), []);
  }
});

test('a type not in FJ_COMPONENTS_USED, or not built yet, is disabled (before codec, limit and options)', async (t) => {
  const id = await room(n);
  for (const type of ['rtsp', 'recording', 'sip']) {
    const r = await add(n, id, { type, options: { nonsense: true } });
    t.is(r.status, 400, type);
    t.deepEqual(r.body, { errors: `Components of type ${type} are disabled on this Fishjam` });
  }
  const offRoom = await room(off);
  const r = await add(off, offRoom, { type: 'file', options: { filePath: 'video.h264' } });
  t.is(r.status, 400);
  t.deepEqual(r.body, { errors: 'Components of type file are disabled on this Fishjam' });
  const h = await add(off, offRoom, { type: 'hls', options: { nonsense: true } });
  t.is(h.status, 400);
  t.deepEqual(h.body, { errors: 'Components of type hls are disabled on this Fishjam' });
});

const fileErrors: Array<[string, unknown, number, string]> = [
  ['no options', undefined, 400, 'Required field "filePath" missing'],
  ['empty options', {}, 400, 'Required field "filePath" missing'],
  ['framerate "abc" before a bad path', { filePath: '../x.h264', framerate: 'abc' }, 400, 'Invalid framerate passed'],
  ['framerate 1.5', { filePath: 'video.h264', framerate: 1.5 }, 400, 'Invalid framerate passed'],
  ['path traversal', { filePath: '../restricted_audio.ogg' }, 400, 'Invalid file path'],
  ['deep traversal', { filePath: 'subdirectory/../../../../etc/passwd' }, 400, 'Invalid file path'],
  ['the folder itself', { filePath: '.' }, 400, 'Invalid file path'],
  ['a symlink leading out of the folder', { filePath: 'link.ogg' }, 400, 'Invalid file path'],
  ['missing file', { filePath: 'missing.h264' }, 404, 'File not found'],
  ['a directory', { filePath: 'subdirectory' }, 404, 'File not found'],
  ['framerate 0 (checked after the file exists)', { filePath: 'video.h264', framerate: 0 }, 400, 'Invalid framerate passed'],
  ['framerate -5', { filePath: 'video.h264', framerate: -5 }, 400, 'Invalid framerate passed'],
  ['framerate 0 on a missing file', { filePath: 'missing.h264', framerate: 0 }, 404, 'File not found'],
  ['huge framerate', { filePath: 'video.h264', framerate: 1e12 }, 400, 'Invalid framerate passed'],
  ['framerate for audio', { filePath: 'audio.ogg', framerate: 30 }, 400, 'Attempted to set framerate for audio component which is not supported.'],
  ['unsupported extension', { filePath: 'sounds.aac' }, 400, 'Unsupported file type'],
  ['no extension', { filePath: 'h264' }, 400, 'Unsupported file type'],
  ['extension case matters', { filePath: 'clip.H264' }, 400, 'Unsupported file type'],
  ['options not an object', 'video.h264', 400, 'Invalid request body structure'],
  ['options an array', ['video.h264'], 400, 'Invalid request body structure'],
  ['filePath not a string', { filePath: 42 }, 400, 'Invalid request body structure'],
  ['filePath an object', { filePath: { path: 'video.h264' } }, 400, 'Invalid request body structure'],
  ['filePath with NUL', { filePath: 'video.h264\u0000.ogg' }, 400, 'Invalid file path'],
  ['filePath far too long', { filePath: 'a/'.repeat(5000) + 'video.h264' }, 400, 'Invalid file path'],
];
for (const [what, options, status, message] of fileErrors) {
  test(`file: ${what} -> ${status} ${message}`, async (t) => {
    const id = await room(n);
    const r = await add(n, id, options === undefined ? { type: 'file' } : { type: 'file', options });
    t.is(r.status, status);
    t.deepEqual(r.body, { errors: message });
    t.deepEqual((await n.api(`/room/${id}`)).body.data.components, []);
  });
}

test('file: an .h264 file in a room enforcing vp8 is refused with the codec message', async (t) => {
  const id = await room(n, { videoCodec: 'vp8' });
  const r = await add(n, id, { type: 'file', options: { filePath: 'video.h264' } });
  t.is(r.status, 400);
  t.deepEqual(r.body, { errors: `Incompatible video codec enforced in room ${id}` });
  t.is((await add(n, id, { type: 'file', options: { filePath: 'audio.ogg' } })).status, 201);
});

test('deep and oversized bodies are refused without harm', async (t) => {
  const id = await room(n);
  const deep = '{"type":"file","options":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + '}';
  const r = await n.api(`/room/${id}/component`, { method: 'POST', body: deep, headers: { 'content-type': 'application/json' } });
  t.is(r.status, 400);
  t.deepEqual(r.body, { errors: 'Invalid request body structure' });
  const big = await n.api(`/room/${id}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'x'.repeat(200_000) } } });
  t.is(big.status, 413);
  const bad = await n.api(`/room/${id}/component`, { method: 'POST', body: '{"type":', headers: { 'content-type': 'application/json' } });
  t.is(bad.status, 400);
  t.is((await n.api(`/room/${id}`)).status, 200);
});

test('video: 201 with the original shape, listed with its track in GET /room/:id and GET /room', async (t) => {
  const id = await room(n);
  const r = await add(n, id, { type: 'file', options: { filePath: 'video.h264' } });
  t.is(r.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', r.body), []);
  t.is(r.body.data.type, 'file');
  t.regex(r.body.data.id, /^[0-9a-f-]{36}$/);
  t.deepEqual(r.body.data.properties, { filePath: 'video.h264', framerate: 30 });
  t.deepEqual(r.body.data.tracks, []);
  await waitFor(async () => (await n.api(`/room/${id}`)).body.data.components[0]?.tracks.length === 1, 10_000, 'the track to be listed');
  const got = await n.api(`/room/${id}`);
  t.deepEqual(validateAgainst('RoomDetailsResponse', got.body), []);
  const [component] = got.body.data.components;
  t.is(component.id, r.body.data.id);
  t.is(component.tracks[0].type, 'video');
  t.is(component.tracks[0].metadata, null);
  const list = await n.api('/room');
  t.deepEqual(validateAgainst('RoomsListingResponse', list.body), []);
  t.truthy(list.body.data.find((x: any) => x.id === id).components.length === 1);
});

test('video with framerate 60, a leading "/" re-rooted, a subfolder, audio with framerate null', async (t) => {
  const id = await room(n);
  const v = await add(n, id, { type: 'file', options: { filePath: '/video.h264', framerate: 60 } });
  t.is(v.status, 201);
  t.deepEqual(v.body.data.properties, { filePath: '/video.h264', framerate: 60 });
  const a = await add(n, id, { type: 'file', options: { filePath: 'audio.ogg', framerate: null } });
  t.is(a.status, 201);
  t.deepEqual(a.body.data.properties, { filePath: 'audio.ogg', framerate: null });
  t.deepEqual(validateAgainst('ComponentDetailsResponse', a.body), []);
  // The original does not read the file at creation: an empty one is accepted (it then crashes, see the media tests).
  const empty = await add(n, id, { type: 'file', options: { filePath: 'subdirectory/video.h264' } });
  t.is(empty.status, 201);
});

test('the same request twice makes two components', async (t) => {
  const id = await room(n);
  const body = { type: 'file', options: { filePath: 'audio.ogg' } };
  const [a, b] = await Promise.all([add(n, id, body), add(n, id, body)]);
  t.is(a.status, 201);
  t.is(b.status, 201);
  t.not(a.body.data.id, b.body.data.id);
});

test('the openapi check honours the discriminator (an hls-shaped file component fails)', (t) => {
  t.deepEqual(validateAgainst('Component', { id: 'c', type: 'file', properties: { filePath: 'a.h264', framerate: 30 }, tracks: [] }), []);
  t.notDeepEqual(validateAgainst('Component', { id: 'c', type: 'file', properties: { filePath: 42, framerate: 30 }, tracks: [] }), []);
  t.notDeepEqual(validateAgainst('Component', { id: 'c', type: 'teleport', properties: {}, tracks: [] }), []);
});

test('DELETE: missing room 404, missing component 404, else 204 and gone', async (t) => {
  const missingRoom = await n.api('/room/no-such-room/component/c1', { method: 'DELETE' });
  t.is(missingRoom.status, 404);
  t.deepEqual(missingRoom.body, { errors: 'Room no-such-room does not exist' });
  const id = await room(n);
  const missing = await n.api(`/room/${id}/component/c1`, { method: 'DELETE' });
  t.is(missing.status, 404);
  t.deepEqual(missing.body, { errors: 'Component c1 does not exist' });
  const c = await add(n, id, { type: 'file', options: { filePath: 'video.h264' } });
  const del = await n.api(`/room/${id}/component/${c.body.data.id}`, { method: 'DELETE' });
  t.is(del.status, 204);
  t.is(del.body, undefined);
  t.deepEqual((await n.api(`/room/${id}`)).body.data.components, []);
  t.is((await n.api(`/room/${id}/component/${c.body.data.id}`, { method: 'DELETE' })).status, 404);
});

test('subscribe: origins checked first, then room (404), component (400), type', async (t) => {
  const sub = (roomId: string, cid: string, body: unknown) => n.api(`/room/${roomId}/component/${cid}/subscribe`, { method: 'POST', json: body });
  for (const body of [{}, { origins: 'peer-1' }, { origins: [1, 2] }, { origins: Array(300).fill('p') }]) {
    const r = await sub('no-such-room', 'c1', body);
    t.is(r.status, 400);
    t.deepEqual(r.body, { errors: 'Invalid request body structure' });
  }
  const missingRoom = await sub('no-such-room', 'c1', { origins: ['peer-1'] });
  t.is(missingRoom.status, 404);
  t.deepEqual(missingRoom.body, { errors: 'Room no-such-room does not exist' });
  const id = await room(n);
  const missing = await sub(id, 'c1', { origins: ['peer-1'] });
  t.is(missing.status, 400);
  t.deepEqual(missing.body, { errors: 'Component c1 does not exist' });
  const c = await add(n, id, { type: 'file', options: { filePath: 'video.h264' } });
  const file = await sub(id, c.body.data.id, { origins: ['peer-1', 'file-2'] });
  t.is(file.status, 400);
  t.deepEqual(file.body, { errors: 'Subscribe mode is supported only for HLS and Recording components' });
});

test('bad FJ_COMPONENTS_USED words stop start-up with the original message', async (t) => {
  await t.throwsAsync(() => startTestNode({ FJ_COMPONENTS_USED: 'file teleport' }), { message: /Invalid value in FJ_COMPONENTS_USED\. Expected a lowercase component name, got: teleport/ });
});
