// Heartbeats of a dist link when this process's own event loop lags: a stall must not be blamed on the other node
// (its frames wait unread in the socket), but a loop that lags on every check must still find a peer that is gone.
import type { AddressInfo } from 'node:net';
import test from 'ava';
import WebSocket, { WebSocketServer } from 'ws';
import { DistLink } from '../../src/cluster/dist-link.js';

test('a link whose own loop lags on every check still drops a silent peer', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  // the other end stops reading (a frozen node: its socket stays open, nothing is answered, not even pings)
  wss.on('connection', (socket) => (socket as unknown as { _socket: { pause(): void } })._socket.pause());
  const socket = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise((r) => socket.once('open', r));
  const link = new DistLink('frozen@127.0.0.1', socket, true, { pingAfterMs: 500, silentAfterMs: 2000, checkEveryMs: 250 });
  // this loop is late by more than half the silence limit at every check (the old rule excused each one)
  const lag = setInterval(() => {
    const until = Date.now() + 1100;
    while (Date.now() < until);
  }, 20);
  const started = Date.now();
  try {
    const closed = await new Promise<boolean>((resolve) => {
      link.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 15_000).unref();
    });
    t.true(closed, 'the link to the silent peer closed');
    t.regex(link.closeReason, /^silent for \d+ ms$/);
    t.log(`closed after ${Date.now() - started} ms: ${link.closeReason}`);
  } finally {
    clearInterval(lag);
    socket.terminate();
    for (const c of wss.clients) c.terminate();
    wss.close();
  }
});
