import test from 'ava';
import { validateAgainst } from '../support/openapi-validator.js';
import { startTestNode, TOKEN, type TestNode } from '../support/test-node.js';

let n: TestNode;
test.before(async () => {
  n = await startTestNode();
});
test.after.always(async () => {
  await n?.stop();
});

test('POST /room with no body creates a room with defaults (201, the original shape)', async (t) => {
  const res = await n.api('/room', { method: 'POST' });
  t.is(res.status, 201);
  t.deepEqual(validateAgainst('RoomCreateDetailsResponse', res.body), []);
  t.is(res.body.data.fishjam_address, n.node.config.host);
  t.regex(res.body.data.room.id, /^[0-9a-f-]{36}$/);
  t.deepEqual(res.body.data.room.config, {
    roomId: res.body.data.room.id,
    maxPeers: null,
    videoCodec: null,
    webhookUrl: null,
    peerlessPurgeTimeout: null,
    peerDisconnectedTimeout: null,
  });
  t.deepEqual(res.body.data.room.peers, []);
  t.deepEqual(res.body.data.room.components, []);
});

test('POST /room with every option keeps them', async (t) => {
  const options = { roomId: 'all-options_1', maxPeers: 3, videoCodec: 'vp8', webhookUrl: 'http://127.0.0.1:1/hook', peerlessPurgeTimeout: 60, peerDisconnectedTimeout: 30 };
  const res = await n.api('/room', { method: 'POST', json: options });
  t.is(res.status, 201);
  t.deepEqual(res.body.data.room.config, options);
  t.is(res.body.data.room.id, 'all-options_1');
  const got = await n.api('/room/all-options_1');
  t.is(got.status, 200);
  t.deepEqual(validateAgainst('RoomDetailsResponse', got.body), []);
  t.deepEqual(got.body.data.config, options);
});

test('curl -d style bodies (form content type, JSON text) are read as JSON', async (t) => {
  const res = await n.api('/room', { method: 'POST', body: '{"roomId":"curl-d"}', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.is(res.status, 201);
  t.is(res.body.data.room.id, 'curl-d');
});

test('a room id that exists is refused with the original message', async (t) => {
  t.is((await n.api('/room', { method: 'POST', json: { roomId: 'dup' } })).status, 201);
  const again = await n.api('/room', { method: 'POST', json: { roomId: 'dup' } });
  t.is(again.status, 400);
  t.deepEqual(again.body, { errors: 'Cannot add room with id "dup" - room already exists' });
});

test('concurrent creates of one id: exactly one wins', async (t) => {
  const results = await Promise.all([1, 2, 3, 4].map(() => n.api('/room', { method: 'POST', json: { roomId: 'race' } })));
  t.deepEqual(results.map((r) => r.status).sort(), [201, 400, 400, 400]);
});

const badOptions: Array<[Record<string, unknown>, string]> = [
  [{ maxPeers: 'ten' }, 'Expected maxPeers to be a number, got: ten'],
  [{ maxPeers: -1 }, 'Expected maxPeers to be a number, got: -1'],
  [{ maxPeers: 1.5 }, 'Expected maxPeers to be a number, got: 1.5'],
  [{ videoCodec: 'av1' }, "Expected videoCodec to be 'h264' or 'vp8', got: av1"],
  [{ webhookUrl: 'not a url' }, 'Expected webhookUrl to be valid URL, got: not a url'],
  [{ webhookUrl: 'ftp://x/y' }, 'Expected webhookUrl to be valid URL, got: ftp://x/y'],
  [{ peerlessPurgeTimeout: 0 }, 'Expected peerlessPurgeTimeout to be a positive integer, got: 0'],
  [{ peerDisconnectedTimeout: 'soon' }, 'Expected peerDisconnectedTimeout to be a positive integer, got: soon'],
  [{ roomId: 'bad id!' }, 'Cannot add room with id "bad id!" - roomId may contain only alphanumeric characters, hyphens and underscores'],
  [{ roomId: '../../etc/passwd' }, 'Cannot add room with id "../../etc/passwd" - roomId may contain only alphanumeric characters, hyphens and underscores'],
  [{ roomId: 42 }, 'Cannot add room with id "42" - roomId may contain only alphanumeric characters, hyphens and underscores'],
  [{ maxPeers: { a: 1 } }, 'Expected maxPeers to be a number, got: {"a":1}'],
];
for (const [body, message] of badOptions) {
  test(`POST /room ${JSON.stringify(body)} -> 400 "${message}"`, async (t) => {
    const res = await n.api('/room', { method: 'POST', json: body });
    t.is(res.status, 400);
    t.deepEqual(res.body, { errors: message });
  });
}

test('GET /room lists rooms', async (t) => {
  await n.api('/room', { method: 'POST', json: { roomId: 'listed' } });
  const res = await n.api('/room');
  t.is(res.status, 200);
  t.deepEqual(validateAgainst('RoomsListingResponse', res.body), []);
  t.true(res.body.data.some((r: { id: string }) => r.id === 'listed'));
});

test('GET and DELETE of an unknown room -> 404 with the original message', async (t) => {
  const get = await n.api('/room/nope');
  t.is(get.status, 404);
  t.deepEqual(get.body, { errors: 'Room nope does not exist' });
  const del = await n.api('/room/nope', { method: 'DELETE' });
  t.is(del.status, 404);
  t.deepEqual(del.body, { errors: 'Room nope does not exist' });
});

test('DELETE /room/:id -> 204, then 404', async (t) => {
  await n.api('/room', { method: 'POST', json: { roomId: 'to-delete' } });
  const del = await n.api('/room/to-delete', { method: 'DELETE' });
  t.is(del.status, 204);
  t.is(del.body, undefined);
  t.is((await n.api('/room/to-delete')).status, 404);
  t.false(n.node.registry.has('to-delete'));
});

test('auth: missing and wrong tokens -> 401 with the original messages, on every protected route', async (t) => {
  for (const [method, path] of [['GET', '/room'], ['POST', '/room'], ['GET', '/room/x'], ['DELETE', '/room/x'], ['POST', '/room/x/peer'], ['DELETE', '/room/x/peer/y'], ['GET', '/health'], ['POST', '/admin/drain']]) {
    const missing = await fetch(n.base + path!, { method });
    t.is(missing.status, 401, `${method} ${path}`);
    t.deepEqual(await missing.json(), { errors: 'Missing token' });
    const wrong = await n.api(path!, { method, headers: { authorization: 'Bearer nope' } });
    t.is(wrong.status, 401);
    t.deepEqual(wrong.body, { errors: 'Invalid token' });
  }
  t.false(n.node.state.status === 'DRAINING', 'an unauthenticated drain must not drain');
});

test('CORS: preflight allows the authorization header from any origin', async (t) => {
  const res = await fetch(n.base + '/room', {
    method: 'OPTIONS',
    headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  t.true(res.status === 204 || res.status === 200);
  t.is(res.headers.get('access-control-allow-origin'), '*');
  t.regex(res.headers.get('access-control-allow-headers') ?? '', /authorization/i);
  const get = await n.api('/room', { headers: { origin: 'http://app.example' } });
  t.is(get.headers.get('access-control-allow-origin'), '*');
});

test('GET /openapi.json serves the API description without auth', async (t) => {
  const res = await fetch(n.base + '/openapi.json');
  t.is(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
  t.is(doc.openapi, '3.0.0');
  for (const path of ['/room', '/room/{room_id}', '/room/{room_id}/peer', '/room/{room_id}/peer/{id}', '/health', '/admin/drain', '/readyz']) {
    t.truthy(doc.paths[path], path);
  }
});

test('unknown routes and methods answer in the one error shape', async (t) => {
  const unknown = await n.api('/nothing-here');
  t.is(unknown.status, 404);
  t.deepEqual(unknown.body, { errors: 'No route for GET /nothing-here' });
  const method = await n.api('/room', { method: 'PUT' });
  t.is(method.status, 405);
  t.deepEqual(method.body, { errors: 'Method PUT is not allowed on /room' });
  t.is(TOKEN, n.node.config.serverApiToken);
});
