// The RTSP component over HTTP: the original's rtsp_component_test (defaults, custom options echoed, missing
// sourceUri) and the controller's order (disabled type before the codec, the codec before options), the option casts
// that answer `Invalid request body structure`, our own refusals (not an rtsp:// URI, control characters, too long),
// and hostile repeats. Every JSON answer is checked against the openapi. Real node, real mediasoup, real ffmpeg (each
// component here points at a closed loopback port, so it is retried in the background and stopped on delete).
import test from 'ava';
import net from 'node:net';
import { validateAgainst } from '../support/openapi-validator.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';

let n: TestNode;
let off: TestNode;
let closedPort: number;

test.before(async () => {
  n = await startTestNode({ FJ_COMPONENTS_USED: 'rtsp' });
  off = await startTestNode({ FJ_COMPONENTS_USED: 'file hls' });
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closedPort = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
});
test.after.always(async () => {
  await n?.stop();
  await off?.stop();
});

async function room(node: TestNode, options: Record<string, unknown> = { videoCodec: 'h264' }): Promise<string> {
  const created = await node.api('/room', { method: 'POST', json: options });
  return created.body.data.room.id as string;
}
const add = (node: TestNode, roomId: string, body: unknown) => node.api(`/room/${roomId}/component`, { method: 'POST', json: body });
const uri = () => `rtsp://127.0.0.1:${closedPort}/stream`;

test('defaults: 201, the five properties with the original defaults, no tracks; listed in GET /room/:id', async (t) => {
  const id = await room(n);
  const r = await add(n, id, { type: 'rtsp', options: { sourceUri: uri() } });
  t.is(r.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', r.body), []);
  t.is(r.body.data.type, 'rtsp');
  t.deepEqual(r.body.data.properties, { sourceUri: uri(), rtpPort: 20000, reconnectDelay: 15000, keepAliveInterval: 15000, pierceNat: true });
  t.deepEqual(r.body.data.tracks, []);
  const shown = await n.api(`/room/${id}`);
  t.deepEqual(validateAgainst('RoomDetailsResponse', shown.body), []);
  t.deepEqual(shown.body.data.components.map((c: any) => c.id), [r.body.data.id]);
  t.is((await n.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
});

test('custom options echoed', async (t) => {
  const id = await room(n);
  const options = { sourceUri: uri(), rtpPort: 23456, reconnectDelay: 0, keepAliveInterval: 1000, pierceNat: false };
  const r = await add(n, id, { type: 'rtsp', options });
  t.is(r.status, 201);
  t.deepEqual(validateAgainst('ComponentDetailsResponse', r.body), []);
  t.deepEqual(r.body.data.properties, options);
  t.is((await n.api(`/room/${id}/component/${r.body.data.id}`, { method: 'DELETE' })).status, 204);
  t.deepEqual((await n.api(`/room/${id}`)).body.data.components, []);
});

test('missing sourceUri -> 400 Required field "sourceUri" missing (no options at all, too)', async (t) => {
  const id = await room(n);
  for (const body of [{ type: 'rtsp' }, { type: 'rtsp', options: {} }, { type: 'rtsp', options: { sourceUri: null, rtpPort: 1 } }]) {
    const r = await add(n, id, body);
    t.is(r.status, 400, JSON.stringify(body));
    t.deepEqual(r.body, { errors: 'Required field "sourceUri" missing' });
    t.deepEqual(validateAgainst('Error', r.body), []);
  }
});

test('codec: a vp8 room and a room with no codec are refused, before the options are looked at', async (t) => {
  for (const options of [{ videoCodec: 'vp8' }, {}]) {
    const id = await room(n, options);
    const r = await add(n, id, { type: 'rtsp', options: { nonsense: true } });
    t.is(r.status, 400);
    t.deepEqual(r.body, { errors: `Incompatible video codec enforced in room ${id}` });
  }
});

test('disabled when not in FJ_COMPONENTS_USED (before the codec check)', async (t) => {
  const id = await room(off, { videoCodec: 'vp8' });
  const r = await add(off, id, { type: 'rtsp', options: { sourceUri: uri() } });
  t.is(r.status, 400);
  t.deepEqual(r.body, { errors: 'Components of type rtsp are disabled on this Fishjam' });
});

test('values of the wrong type or out of range -> 400 Invalid request body structure', async (t) => {
  const id = await room(n);
  const bad: Array<Record<string, unknown>> = [
    { sourceUri: 42 },
    { sourceUri: ['rtsp://a/b'] },
    { sourceUri: uri(), rtpPort: 0 },
    { sourceUri: uri(), rtpPort: 65536 },
    { sourceUri: uri(), rtpPort: 1.5 },
    { sourceUri: uri(), rtpPort: '20000' },
    { sourceUri: uri(), reconnectDelay: -1 },
    { sourceUri: uri(), keepAliveInterval: -1 },
    { sourceUri: uri(), keepAliveInterval: 1e300 },
    { sourceUri: uri(), pierceNat: 'yes' },
    { sourceUri: uri(), pierceNat: 1 },
  ];
  for (const options of bad) {
    const r = await add(n, id, { type: 'rtsp', options });
    t.is(r.status, 400, JSON.stringify(options));
    t.deepEqual(r.body, { errors: 'Invalid request body structure' }, JSON.stringify(options));
  }
  for (const options of ['rtsp://x/y', 7, [1]]) {
    const r = await add(n, id, { type: 'rtsp', options });
    t.is(r.status, 400);
    t.deepEqual(r.body, { errors: 'Invalid request body structure' });
  }
  t.deepEqual((await n.api(`/room/${id}`)).body.data.components, []);
});

test('beyond the original: what cannot be an RTSP camera is refused (scheme, control characters, length)', async (t) => {
  const id = await room(n);
  const refused = [
    'http://127.0.0.1/stream',
    'file:///etc/passwd',
    'pipe:0',
    'not a uri',
    `rtsp://127.0.0.1:${closedPort}/a'\nfile '/etc/passwd`,
    `rtsp://127.0.0.1:${closedPort}/a\r\nx`,
    `rtsp://127.0.0.1:${closedPort}/${'a'.repeat(3000)}`,
    'rtsp://',
  ];
  for (const sourceUri of refused) {
    const r = await add(n, id, { type: 'rtsp', options: { sourceUri } });
    t.is(r.status, 400, JSON.stringify(sourceUri));
    t.deepEqual(r.body, { errors: 'Invalid source URI: expected rtsp://host[:port]/path' });
  }
  // a quote is a legal URI character: accepted, and quoted for ffmpeg (the camera is simply not found)
  const quoted = await add(n, id, { type: 'rtsp', options: { sourceUri: `rtsp://127.0.0.1:${closedPort}/it's` } });
  t.is(quoted.status, 201);
});

test('the same request twice makes two components; many at once are each retried and all stopped by the room deletion', async (t) => {
  const id = await room(n);
  const results = await Promise.all(Array.from({ length: 6 }, () => add(n, id, { type: 'rtsp', options: { sourceUri: uri(), reconnectDelay: 100 } })));
  t.deepEqual(results.map((r) => r.status), Array(6).fill(201));
  t.is(new Set(results.map((r) => r.body.data.id)).size, 6);
  await waitFor(() => results.every((r) => n.node.components.rtsp.has(r.body.data.id)), 10_000, 'six cameras');
  await waitFor(() => results.every((r) => (n.node.components.rtsp.camera(r.body.data.id)?.attempts ?? 0) >= 2), 30_000, 'each retried');
  t.is((await n.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
  await waitFor(() => results.every((r) => !n.node.components.rtsp.has(r.body.data.id)), 15_000, 'every camera stopped');
});
