// Refused bodies are discarded (so their 413 stays readable) by at most MAX_LINGERING_DISCARDS connections at once:
// a client opening many connections with endless bodies gets the rest closed right after their 413, instead of
// holding a connection each for DISCARD_MAX_MS. Its own file: the count is node-wide.
import net from 'node:net';
import test from 'ava';
import { lingeringDiscards, MAX_LINGERING_DISCARDS } from '../../src/api/json-body.js';
import { startTestNode, TOKEN, waitFor, type TestNode } from '../support/test-node.js';

let n: TestNode;
test.before(async () => {
  n = await startTestNode();
});
test.after.always(async () => {
  await n?.stop();
});

/** A connection sending a chunked body slowly, forever: resolves when the server closes it. */
function slowEndlessBody(): { socket: net.Socket; closed: Promise<{ afterMs: number; response: string }> } {
  const started = Date.now();
  const socket = net.connect(n.node.httpPort, '127.0.0.1');
  let response = '';
  let ticker: NodeJS.Timeout | undefined;
  const closed = new Promise<{ afterMs: number; response: string }>((resolve) => {
    socket.on('data', (d) => (response += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(ticker);
      resolve({ afterMs: Date.now() - started, response });
    });
  });
  socket.on('connect', () => {
    socket.write(`POST /room HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const piece = Buffer.alloc(70 * 1024, 'x'); // over the 64 KiB limit at once: refused
    socket.write(`${piece.length.toString(16)}\r\n`);
    socket.write(piece);
    socket.write('\r\n');
    ticker = setInterval(() => {
      if (!socket.destroyed) socket.write('1\r\nx\r\n');
    }, 200);
  });
  return { socket, closed };
}

test(`past ${MAX_LINGERING_DISCARDS} refused bodies lingering at once, the others are closed right after their 413`, async (t) => {
  const extra = 8;
  const clients = Array.from({ length: MAX_LINGERING_DISCARDS + extra }, () => slowEndlessBody());
  const results: Array<{ afterMs: number; response: string } | undefined> = clients.map(() => undefined);
  clients.forEach((c, i) => void c.closed.then((r) => (results[i] = r)));
  await waitFor(() => results.filter((r) => r !== undefined).length >= extra, 20_000, `${extra} connections closed early`);
  t.is(lingeringDiscards(), MAX_LINGERING_DISCARDS, 'the cap holds');
  const early = results.filter((r): r is { afterMs: number; response: string } => r !== undefined);
  t.is(early.length, extra, 'exactly the ones over the cap were closed');
  t.true(early.every((r) => r.response.startsWith('HTTP/1.1 413')), 'each still got its 413 first');
  // the node serves while the lingering ones go on
  t.is((await n.api('/room', { method: 'POST', json: {} })).status, 201);
  for (const c of clients) c.socket.destroy();
  await waitFor(() => lingeringDiscards() === 0, 10_000, 'the lingering discards to end with their clients');
});
