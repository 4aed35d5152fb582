// The Recording component over HTTP, replaying the original's recording_component_test expectations: credentials from
// the request or from FJ_S3_*, the conflicts and the missing-credentials error with their exact messages, the path
// prefix rules, a new part folder per component, one recording per room, codec-less and VP8 rooms refused, subscribe
// modes; and hostile option values. Every JSON answer is validated against the openapi. Uploads go to a real s3rver
// (FJ_S3_ENDPOINT) so that no test reaches the internet.
import test from 'ava';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { validateAgainst } from '../support/openapi-validator.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-test-server.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';
import { makeResources, type Resources } from './support/media-files.js';

const BUCKET = 'recordings';
let s3: S3TestServer;
let plain: TestNode; // no FJ_S3_* credentials
let envCreds: TestNode; // FJ_S3_* credentials, no prefix
let envPrefix: TestNode; // FJ_S3_* credentials and FJ_S3_PATH_PREFIX
let res: Resources;

test.before(async () => {
  res = await makeResources();
  s3 = await startS3TestServer([BUCKET]);
  const common = { FJ_COMPONENTS_USED: 'recording hls file', FJ_RESOURCES_BASE_PATH: res.base, FJ_S3_ENDPOINT: s3.endpoint };
  const creds = { FJ_S3_ACCESS_KEY_ID: s3.accessKeyId, FJ_S3_SECRET_ACCESS_KEY: s3.secretAccessKey, FJ_S3_REGION: s3.region, FJ_S3_BUCKET: BUCKET };
  plain = await startTestNode(common);
  envCreds = await startTestNode({ ...common, ...creds });
  envPrefix = await startTestNode({ ...common, ...creds, FJ_S3_PATH_PREFIX: 'env-prefix' });
});
test.after.always(async () => {
  for (const node of [plain, envCreds, envPrefix]) await node?.stop();
  await s3?.close();
  if (res) await rm(res.base, { recursive: true, force: true });
});

const credentials = () => ({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: s3.region, bucket: BUCKET });
async function room(node: TestNode, options: Record<string, unknown> = { videoCodec: 'h264' }): Promise<string> {
  return (await node.api('/room', { method: 'POST', json: options })).body.data.room.id as string;
}
const add = (node: TestNode, roomId: string, body: unknown) => node.api(`/room/${roomId}/component`, { method: 'POST', json: body });
const partsOf = async (roomId: string) => (existsSync(path.join(res.base, 'raw_recordings', roomId)) ? (await readdir(path.join(res.base, 'raw_recordings', roomId))).sort() : []);

test('credentials in the request: 201 with exactly {subscribeMode}, listed in GET /room; a part folder appears', async (t) => {
  const id = await room(plain);
  const r = await add(plain, id, { type: 'recording', options: { credentials: credentials() } });
  t.is(r.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', r.body), []);
  t.is(r.body.data.type, 'recording');
  t.deepEqual(r.body.data.properties, { subscribeMode: 'auto' });
  t.deepEqual(r.body.data.tracks, []);
  const shown = await plain.api(`/room/${id}`);
  t.deepEqual(validateAgainst('RoomDetailsResponse', shown.body), []);
  t.deepEqual(shown.body.data.components.map((c: { id: string; type: string }) => [c.id, c.type]), [[r.body.data.id, 'recording']]);
  await waitFor(async () => (await partsOf(id)).length === 1, 20_000, 'the part folder');
  t.regex((await partsOf(id))[0]!, /^part_\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.is((await plain.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
});

test('credentials from FJ_S3_* only: 201; manual subscribe mode echoed', async (t) => {
  const id = await room(envCreds);
  const r = await add(envCreds, id, { type: 'recording', options: { subscribeMode: 'manual' } });
  t.is(r.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', r.body), []);
  t.deepEqual(r.body.data.properties, { subscribeMode: 'manual' });
  t.is((await envCreds.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
});

test('a second recording after deleting the first gets a new part folder (a new prefix)', async (t) => {
  const id = await room(envCreds);
  const first = await add(envCreds, id, { type: 'recording' });
  t.is(first.status, 201);
  await waitFor(async () => (await partsOf(id)).length === 1, 20_000, 'the first part');
  t.is((await envCreds.api(`/room/${id}/component/${first.body.data.id}`, { method: 'DELETE' })).status, 204);
  const second = await add(envCreds, id, { type: 'recording' });
  t.is(second.status, 201);
  await waitFor(async () => (await partsOf(id)).length === 2, 20_000, 'the second part');
  const [a, b] = await partsOf(id);
  t.not(a, b);
  t.is((await envCreds.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
});

test('path prefix: from the request, or from FJ_S3_PATH_PREFIX; both -> 400 with the original message', async (t) => {
  const id = await room(plain);
  t.is((await add(plain, id, { type: 'recording', options: { credentials: credentials(), pathPrefix: 'request-prefix' } })).status, 201);
  const id2 = await room(envPrefix);
  t.is((await add(envPrefix, id2, { type: 'recording' })).status, 201);
  const id3 = await room(envPrefix);
  const r = await add(envPrefix, id3, { type: 'recording', options: { pathPrefix: 'request-prefix' } });
  t.deepEqual([r.status, r.body], [400, { errors: 'Conflicting S3 path prefix supplied via environment variables and the REST API. Overrides on existing values are disallowed' }]);
  t.deepEqual(validateAgainst('Error', r.body), []);
  for (const [node, roomId] of [[plain, id], [envPrefix, id2], [envPrefix, id3]] as const) await node.api(`/room/${roomId}`, { method: 'DELETE' });
});

test('credentials from both the request and FJ_S3_* -> 400 (checked before the prefix conflict)', async (t) => {
  const id = await room(envPrefix);
  const r = await add(envPrefix, id, { type: 'recording', options: { credentials: credentials(), pathPrefix: 'also-conflicting' } });
  t.deepEqual([r.status, r.body], [400, { errors: 'Conflicting S3 credentials supplied via environment variables and the REST API. Overrides on existing values are disallowed' }]);
  t.deepEqual(validateAgainst('Error', r.body), []);
  t.deepEqual((await envPrefix.api(`/room/${id}`)).body.data.components, []);
});

test('no credentials anywhere -> 400 with the original message; nothing is left in the room', async (t) => {
  const id = await room(plain);
  for (const options of [undefined, {}, { credentials: null }, { pathPrefix: 'p' }]) {
    const r = await add(plain, id, options === undefined ? { type: 'recording' } : { type: 'recording', options });
    t.deepEqual([r.status, r.body], [400, { errors: 'S3 credentials has to be passed either by request or at application startup as envs' }], JSON.stringify(options));
  }
  t.deepEqual((await plain.api(`/room/${id}`)).body.data.components, []);
});

test('one recording per room: a second one, even bare, is refused with the limit message', async (t) => {
  const id = await room(envCreds);
  t.is((await add(envCreds, id, { type: 'recording' })).status, 201);
  for (const body of [{ type: 'recording' }, { type: 'recording', options: { credentials: credentials() } }]) {
    const r = await add(envCreds, id, body);
    t.deepEqual([r.status, r.body], [400, { errors: `Reached recording components limit in room ${id}` }]);
  }
  t.is((await envCreds.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
});

test('rooms without H264 (vp8, or no codec) are refused', async (t) => {
  for (const options of [{ videoCodec: 'vp8' }, {}]) {
    const id = await room(envCreds, options);
    const r = await add(envCreds, id, { type: 'recording' });
    t.deepEqual([r.status, r.body], [400, { errors: `Incompatible video codec enforced in room ${id}` }]);
  }
});

test('subscribe: auto refused with the original message; manual 201 in plain text, twice, unknown origins too', async (t) => {
  const id = await room(envCreds);
  const auto = await add(envCreds, id, { type: 'recording' });
  const r = await envCreds.api(`/room/${id}/component/${auto.body.data.id}/subscribe`, { method: 'POST', json: { origins: ['peer-1'] } });
  t.deepEqual([r.status, r.body], [400, { errors: `Component ${auto.body.data.id} option \`subscribe_mode\` is set to :auto` }]);
  const id2 = await room(envCreds);
  const manual = await add(envCreds, id2, { type: 'recording', options: { subscribeMode: 'manual' } });
  for (let i = 0; i < 2; i++) {
    const s = await envCreds.api(`/room/${id2}/component/${manual.body.data.id}/subscribe`, { method: 'POST', json: { origins: ['peer-1', 'file-2'] } });
    t.deepEqual([s.status, s.body], [201, 'Successfully subscribed for tracks']);
  }
  for (const roomId of [id, id2]) await envCreds.api(`/room/${roomId}`, { method: 'DELETE' });
});

const bad: Array<[string, unknown, string]> = [
  ['options a string', 'recording', 'Invalid request body structure'],
  ['subscribeMode x', { subscribeMode: 'x', credentials: null }, 'Invalid request body structure'],
  ['pathPrefix a number', { pathPrefix: 5 }, 'Invalid request body structure'],
  ['pathPrefix 600 characters', { pathPrefix: 'p'.repeat(600) }, 'Invalid request body structure'],
  ['credentials a string', { credentials: 'key' }, 'Invalid request body structure'],
  ['credentials an array', { credentials: [] }, 'Invalid request body structure'],
  ['credentials without bucket', { credentials: { accessKeyId: 'a', secretAccessKey: 'b', region: 'c' } }, 'Required field "bucket" missing'],
  ['credentials with a number', { credentials: { accessKeyId: 1, secretAccessKey: 'b', region: 'c', bucket: 'd' } }, 'Invalid request body structure'],
];
for (const [what, options, message] of bad) {
  test(`recording: ${what} -> 400 ${message}`, async (t) => {
    const id = await room(plain);
    const r = await add(plain, id, { type: 'recording', options });
    t.deepEqual([r.status, r.body], [400, { errors: message }]);
    t.deepEqual(validateAgainst('Error', r.body), []);
    t.deepEqual((await plain.api(`/room/${id}`)).body.data.components, []);
  });
}

test('the same create twice at once: one 201, one limit 400', async (t) => {
  const id = await room(envCreds);
  const answers = await Promise.all([add(envCreds, id, { type: 'recording' }), add(envCreds, id, { type: 'recording' })]);
  t.deepEqual(answers.map((a) => a.status).sort(), [201, 400]);
  t.is((await envCreds.api(`/room/${id}`)).body.data.components.length, 1);
  t.is((await envCreds.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
});
