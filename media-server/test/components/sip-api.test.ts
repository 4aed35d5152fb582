// The SIP component and its call routes over HTTP: the original's sip_component_test (properties echoed with the
// password, missing registrarCredentials, a missing inner field) and dial_controller_test (POST/DELETE
// /sip/:room/:component/call: body first, then room 404, component 400, type 400 with its two wordings, 201 plain text
// and 204), FJ_SIP_IP, and hostile inputs (wrong types, a registrar that never answers, dialling twice at once,
// hanging up with no call, the component deleted mid-call set-up). Every JSON answer is checked against the openapi.
// Real node; the registrar here is a UDP socket that never answers (the real counterparts are in e2e/test/sip.test.ts).
import test from 'ava';
import dgram from 'node:dgram';
import { validateAgainst } from '../support/openapi-validator.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';

let n: TestNode;
let silent: dgram.Socket;
let silentAddress: string;
let received = 0;

test.before(async () => {
  silent = dgram.createSocket('udp4');
  silent.on('message', () => received++);
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  silentAddress = `127.0.0.1:${silent.address().port}`;
  n = await startTestNode({ FJ_COMPONENTS_USED: 'sip hls', FJ_SIP_IP: '127.0.0.1' });
});
test.after.always(async () => {
  await n?.stop();
  silent?.close();
});

async function room(options: Record<string, unknown> = {}): Promise<string> {
  return (await n.api('/room', { method: 'POST', json: options })).body.data.room.id as string;
}
const add = (roomId: string, body: unknown) => n.api(`/room/${roomId}/component`, { method: 'POST', json: body });
const credentials = () => ({ address: silentAddress, username: 'fishjam', password: 'secret' });
async function sipComponent(roomId: string): Promise<string> {
  const r = await add(roomId, { type: 'sip', options: { registrarCredentials: credentials() } });
  if (r.status !== 201) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data.id as string;
}
const dial = (roomId: string, componentId: string, body: unknown) => n.api(`/sip/${roomId}/${componentId}/call`, { method: 'POST', json: body });
const hangUp = (roomId: string, componentId: string) => n.api(`/sip/${roomId}/${componentId}/call`, { method: 'DELETE' });

test('properties echo the credentials (password included, as the original); any room codec; it registers', async (t) => {
  for (const options of [{}, { videoCodec: 'vp8' }, { videoCodec: 'h264' }]) {
    const id = await room(options);
    const before = received;
    const r = await add(id, { type: 'sip', options: { registrarCredentials: credentials() } });
    t.is(r.status, 201);
    t.deepEqual(validateAgainst('ComponentDetailsResponse', r.body), []);
    t.is(r.body.data.type, 'sip');
    t.deepEqual(r.body.data.properties, { registrarCredentials: credentials() });
    t.deepEqual(r.body.data.tracks, []);
    await waitFor(() => received > before, 5000, 'a REGISTER at the registrar');
    t.is((await n.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
  }
});

test('missing registrarCredentials, or a field of it -> 400 Required field "<name>" missing', async (t) => {
  const id = await room();
  for (const options of [undefined, {}, { registrarCredentials: null }]) {
    const r = await add(id, options === undefined ? { type: 'sip' } : { type: 'sip', options });
    t.is(r.status, 400);
    t.deepEqual(r.body, { errors: 'Required field "registrarCredentials" missing' });
    t.deepEqual(validateAgainst('Error', r.body), []);
  }
  for (const field of ['address', 'username', 'password']) {
    const partial: Record<string, unknown> = credentials();
    delete partial[field];
    const r = await add(id, { type: 'sip', options: { registrarCredentials: partial } });
    t.is(r.status, 400);
    t.deepEqual(r.body, { errors: `Required field "${field}" missing` });
  }
});

test('wrong types -> 400 Invalid request body structure; an address that is not host[:port] is refused', async (t) => {
  const id = await room();
  for (const registrarCredentials of ['x', [1], { ...credentials(), password: 5 }, { ...credentials(), username: {} }, { ...credentials(), address: 'a\nb' }, { ...credentials(), password: 'p'.repeat(300) }]) {
    const r = await add(id, { type: 'sip', options: { registrarCredentials } });
    t.is(r.status, 400, JSON.stringify(registrarCredentials).slice(0, 80));
    t.deepEqual(r.body, { errors: 'Invalid request body structure' });
  }
  for (const address of ['', 'host:0', 'host:70000', 'a b', 'sip:x@y', 'x@y', '[::1]:5060']) {
    const r = await add(id, { type: 'sip', options: { registrarCredentials: { ...credentials(), address } } });
    t.is(r.status, 400, address);
    t.deepEqual(r.body, { errors: 'Invalid registrar credentials: expected address host[:port] and a username' });
  }
  t.deepEqual((await n.api(`/room/${id}`)).body.data.components, []);
});

test('dial: body first (even in a missing room), then room 404, component 400, not SIP 400, else 201 in plain text', async (t) => {
  for (const body of [{}, { phone: '1' }, { phoneNumber: 12 }]) {
    const r = await dial('no-such-room', 'x', body);
    t.is(r.status, 400);
    t.deepEqual(r.body, { errors: 'Invalid request body structure' });
  }
  const missing = await dial('no-such-room', 'x', { phoneNumber: '123' });
  t.is(missing.status, 404);
  t.deepEqual(missing.body, { errors: 'Room no-such-room does not exist' });
  const id = await room({ videoCodec: 'h264' });
  const noComponent = await dial(id, 'nope', { phoneNumber: '123' });
  t.is(noComponent.status, 400);
  t.deepEqual(noComponent.body, { errors: 'Component nope does not exist' });
  const hls = await add(id, { type: 'hls' });
  const notSip = await dial(id, hls.body.data.id, { phoneNumber: '123' });
  t.is(notSip.status, 400);
  t.deepEqual(notSip.body, { errors: `Component ${hls.body.data.id} is not a SIP component` });
  const sip = await sipComponent(id);
  const ok = await dial(id, sip, { phoneNumber: '+48123456789' });
  t.is(ok.status, 201);
  t.is(ok.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.is(ok.body, 'Successfully schedule calling phone_number: +48123456789');
  // beyond the original: what cannot be a SIP user part is refused (it would be written into SIP headers)
  for (const phoneNumber of ['', '1 2', '1\r\nVia: x', 'a@b', 'x'.repeat(65)]) {
    const r = await dial(id, sip, { phoneNumber });
    t.is(r.status, 400, JSON.stringify(phoneNumber));
    t.regex(r.body.errors, /^Invalid phone number/);
  }
});

test('hang up: room 404, component 400, not SIP 400 (no "a"), else 204 even with no call', async (t) => {
  const missing = await hangUp('no-such-room', 'x');
  t.is(missing.status, 404);
  t.deepEqual(missing.body, { errors: 'Room no-such-room does not exist' });
  const id = await room({ videoCodec: 'h264' });
  const noComponent = await hangUp(id, 'nope');
  t.is(noComponent.status, 400);
  t.deepEqual(noComponent.body, { errors: 'Component nope does not exist' });
  const hls = await add(id, { type: 'hls' });
  const notSip = await hangUp(id, hls.body.data.id);
  t.is(notSip.status, 400);
  t.deepEqual(notSip.body, { errors: `Component ${hls.body.data.id} is not SIP component` });
  const sip = await sipComponent(id);
  t.is((await hangUp(id, sip)).status, 204);
  t.is((await hangUp(id, sip)).status, 204);
});

test('a registrar that never answers: dials at once and twice, hang-ups, deletion mid-set-up: no crash, nothing left', async (t) => {
  const id = await room();
  const sip = await sipComponent(id);
  const results = await Promise.all([dial(id, sip, { phoneNumber: '1' }), dial(id, sip, { phoneNumber: '2' }), hangUp(id, sip), dial(id, sip, { phoneNumber: '3' })]);
  t.deepEqual(results.map((r) => r.status), [201, 201, 204, 201]);
  await waitFor(() => n.node.components.sip.agent(sip)?.inCall === true, 5000, 'a call being set up');
  t.is((await n.api(`/room/${id}/component/${sip}`, { method: 'DELETE' })).status, 204);
  await waitFor(() => n.node.components.sip.agent(sip) === undefined, 5000, 'the agent gone');
  const shown = await n.api(`/room/${id}`);
  t.deepEqual(shown.body.data.components, []);
  const other = await sipComponent(id);
  t.is((await dial(id, other, { phoneNumber: '4' })).status, 201);
  t.is((await n.api(`/room/${id}`, { method: 'DELETE' })).status, 204);
  await waitFor(() => n.node.components.sip.agent(other) === undefined, 5000, 'the agent gone with its room');
});
