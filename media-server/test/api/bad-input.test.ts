// A sweep of hostile and malformed requests: each must get a 4xx in the one error shape, and the node must stay up.
import http from 'node:http';
import net from 'node:net';
import test from 'ava';
import { startTestNode, type TestNode } from '../support/test-node.js';

let n: TestNode;
test.before(async () => {
  n = await startTestNode();
  await n.api('/room', { method: 'POST', json: { roomId: 'existing' } });
});
test.after.always(async () => {
  await n?.stop();
});

const cases: Array<[string, string, string | undefined, Record<string, string>?]> = [
  ['malformed JSON', '/room', '{"maxPeers": 3'],
  ['a JSON array', '/room', '[1,2,3]'],
  ['a JSON string', '/room', '"room"'],
  ['JSON null', '/room', 'null'],
  ['a number', '/room', '42'],
  ['binary garbage', '/room', '\u0000\u0001\u00ff\u00fe'],
  ['wrong types everywhere', '/room', JSON.stringify({ roomId: [], maxPeers: true, videoCodec: 1, webhookUrl: {}, peerlessPurgeTimeout: '1' })],
  ['deeply nested JSON', '/room', '['.repeat(5000) + ']'.repeat(5000)],
  ['peer: malformed JSON', '/room/existing/peer', '{type:webrtc}'],
  ['peer: type of wrong type', '/room/existing/peer', JSON.stringify({ type: 7, options: {} })],
  ['peer: options a string', '/room/existing/peer', JSON.stringify({ type: 'webrtc', options: 'fast' })],
  ['peer: unknown room id with traversal', '/room/..%2F..%2Fetc%2Fpasswd/peer', JSON.stringify({ type: 'webrtc', options: {} })],
  ['peer: prototype pollution attempt', '/room/existing/peer', '{"__proto__": {"type": "webrtc"}, "options": {}}'],
];

for (const [name, path, body] of cases) {
  test(`POST ${name} -> 4xx with an error message`, async (t) => {
    const res = await n.api(path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    t.true(res.status >= 400 && res.status < 500, `status ${res.status}`);
    t.is(typeof res.body.errors, 'string');
    t.true(res.body.errors.length > 0);
  });
}

test('a huge body is refused with 413 before it is read', async (t) => {
  const res = await n.api('/room', { method: 'POST', body: JSON.stringify({ roomId: 'x'.repeat(2_000_000) }), headers: { 'content-type': 'application/json' } });
  t.is(res.status, 413);
  t.regex(res.body.errors, /too large/);
});

test('a huge chunked body without content-length is cut at the limit', async (t) => {
  const stream = new ReadableStream({
    start(controller) {
      for (let i = 0; i < 200; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
      controller.close();
    },
  });
  const res = await fetch(n.base + '/room', {
    method: 'POST',
    body: stream,
    headers: { authorization: 'Bearer test-token' },
    // @ts-expect-error node's fetch needs duplex for streamed bodies
    duplex: 'half',
  });
  t.is(res.status, 413);
});

// Sent with node:http, which sends the path as written (fetch's URL parser would resolve '..' first).
function rawRequest(method: string, path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: n.node.httpPort, method, path, headers: { authorization: 'Bearer test-token' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

const unknownIds = ['nope', '..', '%2E%2E', '..%2F..%2Fetc%2Fpasswd', '%00', 'a'.repeat(5000), '%F0%9F%92%A9', "'%3B%20DROP%20TABLE%20rooms%3B--", '%E0%A4%A'];
for (const id of unknownIds) {
  test(`unknown or hostile room id ${id.slice(0, 30)} -> 4xx on GET, DELETE and peer routes`, async (t) => {
    for (const [method, path] of [['GET', `/room/${id}`], ['DELETE', `/room/${id}`], ['DELETE', `/room/${id}/peer/x`], ['DELETE', `/room/existing/peer/${id}`]]) {
      const res = await rawRequest(method!, path!);
      t.true(res.status >= 400 && res.status < 500, `${method} ${path!.slice(0, 40)}: ${res.status}`);
      t.is(typeof res.body?.errors, 'string', `${method} ${path!.slice(0, 40)}`);
    }
  });
}

test('a raw malformed HTTP request does not take the node down', async (t) => {
  const reply = await new Promise<string>((resolve) => {
    const socket = net.connect(n.node.httpPort, '127.0.0.1', () => socket.write('GARBAGE /\u0000 HTTP/9.9\r\n\r\n'));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
    socket.setTimeout(3000, () => socket.destroy());
  });
  t.regex(reply, /^HTTP\/1\.1 400/);
});

test.after('after the sweep the node still serves and lost nothing', async (t) => {
  const res = await n.api('/room/existing');
  t.is(res.status, 200);
  t.is(n.node.state.status, 'SERVING');
});
