// Bodies over the 64 KiB limit: the client reads a 413 in the one error shape however it writes (fast, reading only
// after writing, asking for Connection: close), and a body that never ends is cut off after a bounded time.
import http from 'node:http';
import net from 'node:net';
import test from 'ava';
import { DISCARD_MAX_BYTES, DISCARD_MAX_MS, MAX_BODY_BYTES } from '../../src/api/json-body.js';
import { startTestNode, TOKEN, type TestNode } from '../support/test-node.js';

let n: TestNode;
test.before(async () => {
  n = await startTestNode();
});
test.after.always(async () => {
  await n?.stop();
});

/**
 * How the client behaves: when it starts reading, whether it asks for Connection: close, whether the body is chunked
 * (no Content-Length: the server finds out while reading), or node's http.request (which sends Connection: close).
 */
const STYLES = [
  'read-while-writing',
  'read-after-writing',
  'close, read-while-writing',
  'close, read-after-writing',
  'chunked, read-while-writing',
  'chunked, read-after-writing',
  'http-request',
] as const;
type Style = (typeof STYLES)[number];

/** 'ok' when a complete 413 with {"errors": "..."} was read, otherwise what went wrong. */
function postTooLarge(size: number, style: Style): Promise<string> {
  const body = Buffer.alloc(size, 'x');
  if (style === 'http-request') {
    return new Promise((resolve) => {
      const agent = new http.Agent({ keepAlive: false }); // node then sends Connection: close
      const req = http.request(
        { host: '127.0.0.1', port: n.node.httpPort, method: 'POST', path: '/room', agent, headers: { authorization: `Bearer ${TOKEN}`, 'content-length': size } },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(judge(res.statusCode, text)));
          res.on('error', (e: NodeJS.ErrnoException) => resolve(`response error ${e.code}`));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(`request error ${e.code}`));
      req.end(body);
    });
  }
  return new Promise((resolve) => {
    const socket = net.connect(n.node.httpPort, '127.0.0.1');
    let data = '';
    let settled = false;
    const settle = (outcome: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle('no answer within 20 s'), 20_000);
    if (style.endsWith('read-after-writing')) socket.pause();
    socket.on('data', (d) => {
      data += d;
      const response = parseResponse(data);
      if (response) settle(judge(response.status, response.body));
    });
    socket.on('error', (e: NodeJS.ErrnoException) => settle(`socket error ${e.code} after ${data.length} response bytes`));
    socket.on('close', () => settle(`closed after ${data.length} response bytes`));
    socket.on('connect', () => {
      const chunked = style.startsWith('chunked');
      const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`;
      const close = style.startsWith('close') ? 'Connection: close\r\n' : '';
      socket.write(`POST /room HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n${close}${framing}\r\n\r\n`);
      // as fast as possible: 64 KiB writes queued without waiting for the kernel
      for (let sent = 0; sent < size; sent += 64 * 1024) {
        const piece = body.subarray(sent, Math.min(size, sent + 64 * 1024));
        socket.write(chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece);
      }
      socket.write(chunked ? '0\r\n\r\n' : Buffer.alloc(0), () => socket.resume());
    });
  });
}

function parseResponse(data: string): { status: number; body: string } | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const length = /\r\ncontent-length: (\d+)/i.exec(data.slice(0, end));
  if (!length || data.length < end + 4 + Number(length[1])) return undefined;
  return { status: Number(data.slice(9, 12)), body: data.slice(end + 4, end + 4 + Number(length[1])) };
}

function judge(status: number | undefined, text: string): string {
  try {
    const body = JSON.parse(text);
    return status === 413 && typeof body.errors === 'string' && /too large/.test(body.errors) ? 'ok' : `status ${status}: ${text.slice(0, 80)}`;
  } catch {
    return `status ${status}, not JSON: ${text.slice(0, 80)}`;
  }
}

async function tally(size: number, tries: number, concurrency: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tries) {
        const outcome = await postTooLarge(size, STYLES[next++ % STYLES.length]!);
        counts[outcome] = (counts[outcome] ?? 0) + 1;
      }
    }),
  );
  return counts;
}

test('a 2 MB body sent as fast as possible gets a readable 413, 200 times out of 200', async (t) => {
  t.deepEqual(await tally(2_000_000, 200, 4), { ok: 200 });
});

// 50 tries keep the test's time and CPU bounded (1 GB through the parser); before the fix a quarter of them failed.
test('a 20 MB body sent as fast as possible gets a readable 413, 50 times out of 50', async (t) => {
  t.deepEqual(await tally(20_000_000, 50, 2), { ok: 50 });
});

/** Sends chunks until the server closes; says when the 413 came and when the connection ended. */
function endlessChunkedBody(intervalMs: number | 'as fast as possible'): Promise<{ answeredMs: number; closedMs: number; sent: number; response: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(n.node.httpPort, '127.0.0.1');
    const piece = Buffer.alloc(16 * 1024, 'x');
    const chunk = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
    let data = '';
    let answeredMs = -1;
    let sent = 0;
    let ticker: NodeJS.Timeout | undefined;
    socket.on('data', (d) => {
      if (answeredMs < 0) answeredMs = Date.now() - started;
      data += d;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(ticker);
      resolve({ answeredMs, closedMs: Date.now() - started, sent, response: data });
    });
    socket.on('connect', () => {
      socket.write(`POST /room HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const send = () => {
        if (socket.destroyed || socket.writableEnded) return false;
        sent += chunk.length;
        return socket.write(chunk);
      };
      if (intervalMs === 'as fast as possible') {
        const pump = () => {
          while (send());
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
      } else {
        ticker = setInterval(send, intervalMs);
      }
    });
    socket.setTimeout(DISCARD_MAX_MS + 20_000, () => socket.destroy());
  });
}

test('a never-ending body sent fast is cut off after a bounded amount, with the 413 sent first', async (t) => {
  const r = await endlessChunkedBody('as fast as possible');
  t.regex(r.response, /^HTTP\/1\.1 413 [\s\S]*\r\nconnection: close\r\n[\s\S]*\{"errors":"Request body too large/i);
  t.true(r.answeredMs >= 0 && r.answeredMs < 10_000, `answered after ${r.answeredMs} ms`);
  t.true(r.closedMs < DISCARD_MAX_MS + 5000, `closed after ${r.closedMs} ms`);
  // the client may have sent more than the server read (kernel buffers), but not without bound
  t.true(r.sent < MAX_BODY_BYTES + DISCARD_MAX_BYTES + 64 * 1024 * 1024, `sent ${r.sent} bytes`);
});

test('a never-ending slow body is cut off after a bounded time', async (t) => {
  const r = await endlessChunkedBody(50);
  t.regex(r.response, /^HTTP\/1\.1 413 /);
  t.true(r.answeredMs >= 0 && r.answeredMs < 10_000, `answered after ${r.answeredMs} ms`); // long before the cut
  t.true(r.closedMs >= DISCARD_MAX_MS - 1000 && r.closedMs < DISCARD_MAX_MS + 5000, `closed after ${r.closedMs} ms`);
});

test('a body at the limit is read, not refused', async (t) => {
  const body = JSON.stringify({ maxPeers: 3, padding: 'x'.repeat(MAX_BODY_BYTES - 40) });
  t.true(Buffer.byteLength(body) <= MAX_BODY_BYTES);
  const res = await n.api('/room', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  t.is(res.status, 201);
});

test.after('after the refused bodies the node still serves', async (t) => {
  const res = await n.api('/room');
  t.is(res.status, 200);
});
