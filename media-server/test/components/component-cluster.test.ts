// Two linked nodes: a component request sent to the node that does not hold the room reaches its owner (create,
// list, delete, subscribe; SIP dial and hang-up), with the owner's answers as they are, and the checks made before the room lookup answered
// the same on either node.
import test from 'ava';
import path from 'node:path';
import { freePort } from '../support/free-port.js';
import { validateAgainst } from '../support/openapi-validator.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';
import { makeAudio, makeResources } from './support/media-files.js';

test('component calls through the entry node reach the room\'s owner', async (t) => {
  const res = await makeResources();
  await makeAudio(path.join(res.sources, 'audio.ogg'), 3);
  const mapper = String(await freePort());
  const common = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: mapper, FJ_DIST_COOKIE: 'test-cookie', FJ_COMPONENTS_USED: 'file', FJ_RESOURCES_BASE_PATH: res.base };
  const a = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'a@127.0.0.1', FJ_HOST: 'a.example:5002' });
  const b = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'b@127.0.0.1', FJ_DIST_NODES: 'a@127.0.0.1', FJ_HOST: 'b.example:5002' });
  try {
    await waitFor(() => a.node.cluster!.linkedNodes().length === 1 && b.node.cluster!.linkedNodes().length === 1, 8000, 'the link');
    const created = await a.api('/room', { method: 'POST', json: { roomId: 'on-a' } });
    t.is(created.status, 201);
    t.true(a.node.registry.has('on-a'));
    const add = await b.api('/room/on-a/component', { method: 'POST', json: { type: 'file', options: { filePath: 'audio.ogg' } } });
    t.is(add.status, 201);
    t.deepEqual(validateAgainst('ComponentDetailsResponse', add.body), []);
    const cid = add.body.data.id as string;
    t.is(a.node.components.playing, 1, 'it plays on the owner');
    t.is(b.node.components.playing, 0);
    await waitFor(async () => (await b.api('/room/on-a')).body.data.components[0]?.tracks.length === 1, 10_000, 'the track, listed through b');
    // checks before the room lookup: the same answers through b, for a room b does not know either
    t.deepEqual((await b.api('/room/nowhere/component', { method: 'POST', json: { type: 'teleport' } })).body, { errors: 'Invalid component type' });
    t.deepEqual((await b.api('/room/nowhere/component', { method: 'POST', json: {} })).body, { errors: 'Invalid request body structure' });
    const sub = await b.api(`/room/on-a/component/${cid}/subscribe`, { method: 'POST', json: { origins: ['p'] } });
    t.deepEqual([sub.status, sub.body], [400, { errors: 'Subscribe mode is supported only for HLS and Recording components' }]);
    const bad = await b.api('/room/on-a/component', { method: 'POST', json: { type: 'file', options: { filePath: '../x.ogg' } } });
    t.deepEqual([bad.status, bad.body], [400, { errors: 'Invalid file path' }], 'the owner\'s errors come back as they are');
    t.is((await b.api(`/room/on-a/component/${cid}`, { method: 'DELETE' })).status, 204);
    await waitFor(() => a.node.components.playing === 0, 10_000, 'the owner to stop the player');
    const again = await b.api(`/room/on-a/component/${cid}`, { method: 'DELETE' });
    t.deepEqual([again.status, again.body], [404, { errors: `Component ${cid} does not exist` }]);
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('SIP calls through the entry node reach the room\'s owner (dial, hang up, and their checks)', async (t) => {
  const registrar = (await import('node:dgram')).createSocket('udp4');
  await new Promise<void>((r) => registrar.bind(0, '127.0.0.1', () => r()));
  const mapper = String(await freePort());
  const common = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: mapper, FJ_DIST_COOKIE: 'test-cookie', FJ_COMPONENTS_USED: 'sip', FJ_SIP_IP: '127.0.0.1' };
  const a = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'sa@127.0.0.1', FJ_HOST: 'sa.example:5002' });
  const b = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'sb@127.0.0.1', FJ_DIST_NODES: 'sa@127.0.0.1', FJ_HOST: 'sb.example:5002' });
  try {
    await waitFor(() => a.node.cluster!.linkedNodes().length === 1 && b.node.cluster!.linkedNodes().length === 1, 8000, 'the link');
    t.is((await a.api('/room', { method: 'POST', json: { roomId: 'sip-on-a' } })).status, 201);
    const registrarCredentials = { address: `127.0.0.1:${registrar.address().port}`, username: 'u', password: 'p' };
    const add = await b.api('/room/sip-on-a/component', { method: 'POST', json: { type: 'sip', options: { registrarCredentials } } });
    t.is(add.status, 201);
    const cid = add.body.data.id as string;
    t.truthy(a.node.components.sip.agent(cid), 'its agent runs on the owner');
    t.is(b.node.components.sip.agent(cid), undefined);
    const dial = await b.api(`/sip/sip-on-a/${cid}/call`, { method: 'POST', json: { phoneNumber: '100' } });
    t.is(dial.status, 201);
    t.is(dial.body, 'Successfully schedule calling phone_number: 100');
    await waitFor(() => a.node.components.sip.agent(cid)?.inCall === true, 5000, 'the call set up on the owner');
    const badBody = await b.api('/sip/no-such-room/x/call', { method: 'POST', json: {} });
    t.deepEqual([badBody.status, badBody.body], [400, { errors: 'Invalid request body structure' }]);
    const noComponent = await b.api('/sip/sip-on-a/nope/call', { method: 'DELETE' });
    t.deepEqual([noComponent.status, noComponent.body], [400, { errors: 'Component nope does not exist' }]);
    t.is((await b.api(`/sip/sip-on-a/${cid}/call`, { method: 'DELETE' })).status, 204);
    t.false(a.node.components.sip.agent(cid)?.inCall ?? true, 'hung up on the owner');
  } finally {
    await b.stop();
    await a.stop();
    registrar.close();
  }
});
