// The webhook sender with real parts: the event bus, real local HTTP receivers, a real node for rooms deleted and
// created again. Covers queues per room instance, redirects not followed, non-public destinations refused unless
// allowed (FJ_WEBHOOK_ALLOW_PRIVATE), the byte and item bounds, and URLs logged without query string or user info.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../src/config/config.js';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { WebhookSender } from '../../src/notifications/webhook-sender.js';
import { decodeServerMessage, serverMessageKind, type ServerMessage } from '../../src/proto/index.js';
import { EventBus, type DomainEvent } from '../../src/rooms/event-bus.js';
import { encodeServerMessage } from '../../src/proto/index.js';
import { serverMessageOf } from '../../src/notifications/server-message-of-event.js';
import { startTestNode, waitFor } from '../support/test-node.js';

// ---- helpers ---------------------------------------------------------------------------------------------------

interface Received {
  path: string;
  message: ServerMessage | undefined;
  at: number;
}

interface Receiver {
  readonly port: number;
  url(path: string): string;
  readonly received: Received[];
  /** requests whose connection went away before they were answered */
  readonly aborted: number;
  close(): Promise<void>;
}

/** A reply (after delayMs, or once `until` resolves), or 'hold': never answered. */
type Answer = { status: number; headers?: Record<string, string>; delayMs?: number; until?: Promise<void> } | 'hold';

/** A local HTTP server; `answer` picks the reply of each request (or 'hold': never answer until closed). */
async function startReceiver(answer: (path: string, n: number) => Answer = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = [];
  let count = 0;
  let aborted = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const decoded = decodeServerMessage(Buffer.concat(chunks));
      received.push({ path: req.url ?? '/', message: decoded.ok ? decoded.value : undefined, at: Date.now() });
      const a = answer(req.url ?? '/', count++);
      res.on('close', () => {
        if (!res.writableFinished) aborted++;
      });
      if (a === 'hold') return;
      const reply = (): void => void res.writeHead(a.status, a.headers).end();
      if (a.until) void a.until.then(reply);
      else if (a.delayMs) setTimeout(reply, a.delayMs);
      else reply();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    get aborted() {
      return aborted;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Captured {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  text: () => string;
}

function captureLogs(): Captured {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const logger = createLogger({
    level: 'debug',
    structured: true,
    destination: {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, text: () => raw.join('') };
}

const kinds = (rs: Received[]): string[] => rs.map((r) => (r.message ? serverMessageKind(r.message) : 'undecodable'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sender on its own bus; `urls` maps room ids to webhook URLs (changeable between events). */
function senderOnBus(urls: Map<string, string>, logger: Logger, options: ConstructorParameters<typeof WebhookSender>[3] = {}) {
  const bus = new EventBus();
  const sender = new WebhookSender(bus, (roomId) => urls.get(roomId), logger, options);
  return { bus, sender };
}

const senders: WebhookSender[] = [];
const receivers: Receiver[] = [];
test.after.always(async () => {
  for (const s of senders) s.close();
  for (const r of receivers) await r.close();
});
async function receiver(answer?: (path: string, n: number) => Answer): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}
function track<T extends { sender: WebhookSender }>(x: T): T {
  senders.push(x.sender);
  return x;
}

// ---- room instances ----------------------------------------------------------------------------------------------

test('a room deleted and created again with the same id and another webhookUrl: its events go to the new URL only', async (t) => {
  // the old receiver is slow, so the old queue is still delivering when the room comes back
  const old = await receiver(() => ({ status: 200, delayMs: 150 }));
  const fresh = await receiver();
  const urls = new Map([['r1', old.url('/old')]]);
  const { bus, sender } = track(senderOnBus(urls, captureLogs().logger, { allowPrivate: true }));

  const peer = { peerId: 'p1', peerType: 'webrtc' as const };
  bus.publish({ type: 'roomCreated', roomId: 'r1' });
  bus.publish({ type: 'peerAdded', roomId: 'r1', ...peer });
  bus.publish({ type: 'peerDeleted', roomId: 'r1', ...peer });
  urls.delete('r1'); // the registry forgets the room before RoomDeleted is published
  bus.publish({ type: 'roomDeleted', roomId: 'r1' });
  urls.set('r1', fresh.url('/new'));
  bus.publish({ type: 'roomCreated', roomId: 'r1' });
  bus.publish({ type: 'peerAdded', roomId: 'r1', ...peer });
  t.is(sender.queueCount, 2, 'the old queue still holds its notifications when the room is created again');

  await waitFor(() => fresh.received.length === 2 && old.received.length === 4, 10_000, 'both receivers');
  t.deepEqual(kinds(fresh.received), ['roomCreated', 'peerAdded']);
  t.deepEqual(kinds(old.received), ['roomCreated', 'peerAdded', 'peerDeleted', 'roomDeleted'], 'the old URL still gets RoomDeleted');
  // the old queue is gone once it delivered RoomDeleted; only the live room's queue may remain (empty ones go too)
  await waitFor(() => sender.queueCount === 0, 10_000, 'drained queues to go');

  bus.publish({ type: 'roomDeleted', roomId: 'r1' });
  await waitFor(() => fresh.received.length === 3, 10_000, 'RoomDeleted at the new URL');
  await sleep(300);
  t.deepEqual(kinds(fresh.received), ['roomCreated', 'peerAdded', 'roomDeleted']);
  t.is(old.received.length, 4, 'nothing more at the old URL');
  t.is(sender.delivered, 7);
});

test('HlsUploaded / HlsUploadCrashed after the room ended still reach its last webhook; other late events and unknown rooms do not', async (t) => {
  const r = await receiver();
  const urls = new Map([['r2', r.url('/hooks')]]);
  const { bus } = track(senderOnBus(urls, captureLogs().logger, { allowPrivate: true }));
  bus.publish({ type: 'roomCreated', roomId: 'r2' });
  urls.delete('r2');
  bus.publish({ type: 'roomDeleted', roomId: 'r2' });
  // the S3 upload of the room's HLS ends after the room
  bus.publish({ type: 'hlsUploaded', roomId: 'r2' });
  bus.publish({ type: 'hlsUploadCrashed', roomId: 'r2' });
  bus.publish({ type: 'peerAdded', roomId: 'r2', peerId: 'late', peerType: 'webrtc' });
  bus.publish({ type: 'hlsUploaded', roomId: 'never-known' });
  await waitFor(() => r.received.length === 4, 10_000, 'four notifications');
  await sleep(300);
  t.deepEqual(kinds(r.received), ['roomCreated', 'roomDeleted', 'hlsUploaded', 'hlsUploadCrashed']);
  t.true(r.received.every((x) => x.path === '/hooks'));
});

test('the same through a node: DELETE and POST /room with the same roomId and another webhookUrl', async (t) => {
  const n = await startTestNode();
  t.teardown(() => n.stop());
  const old = await receiver(() => ({ status: 200, delayMs: 300 }));
  const fresh = await receiver();
  // built like node.ts builds its own, but allowed to reach the loopback receivers
  const sender = new WebhookSender(n.node.bus, (id) => n.node.registry.find(id)?.config.webhookUrl, captureLogs().logger, { allowPrivate: true });
  senders.push(sender);

  const create = async (webhookUrl: string) => {
    const res = await n.api('/room', { method: 'POST', json: { roomId: 'again', webhookUrl } });
    t.is(res.status, 201, JSON.stringify(res.body));
  };
  await create(old.url('/first'));
  t.is((await n.api('/room/again/peer', { method: 'POST', json: { type: 'webrtc', options: {} } })).status, 201);
  t.is((await n.api('/room/again', { method: 'DELETE' })).status, 204);
  await create(fresh.url('/second'));
  t.true(old.received.length < 4, 'the old queue is still delivering');
  t.is((await n.api('/room/again', { method: 'DELETE' })).status, 204);

  await waitFor(() => old.received.length === 4 && fresh.received.length === 2, 10_000, 'both instances delivered');
  await sleep(200);
  t.deepEqual(kinds(old.received), ['roomCreated', 'peerAdded', 'peerDeleted', 'roomDeleted']);
  t.deepEqual(kinds(fresh.received), ['roomCreated', 'roomDeleted']);
  t.true(fresh.received.every((r) => r.path === '/second') && old.received.every((r) => r.path === '/first'));
  await waitFor(() => sender.queueCount === 0, 10_000, 'both queues to be gone');
  t.is(sender.delivered, 6);
});

// ---- redirects ---------------------------------------------------------------------------------------------------

for (const status of [301, 302, 303, 307, 308]) {
  test(`a ${status} is a failed attempt and is never followed`, async (t) => {
    const target = await receiver();
    const redirecting = await receiver(() => ({ status, headers: { location: target.url('/stolen') } }));
    const logs = captureLogs();
    const { bus, sender } = track(senderOnBus(new Map([['r', redirecting.url('/hook')]]), logs.logger, { allowPrivate: true, maxAttempts: 3, baseDelayMs: 20 }));
    bus.publish({ type: 'roomCreated', roomId: 'r' });
    await waitFor(() => sender.dropped === 1, 10_000, 'the notification to be given up');
    await sleep(100);
    t.is(redirecting.received.length, 3, 'every attempt went to the configured URL');
    t.is(target.received.length, 0, 'the redirect target got nothing');
    t.is(sender.delivered, 0);
    const warnings = logs.lines.filter((l) => l.msg === 'webhook answered with a redirect (not followed)');
    t.deepEqual(warnings.map((l) => l.status), [status, status, status]);
  });
}

// ---- destinations ------------------------------------------------------------------------------------------------

test('loopback, private and link-local destinations are refused by default: counted, logged once per room, never contacted', async (t) => {
  const hook = await receiver();
  const logs = captureLogs();
  const urls = new Map([
    ['literal', hook.url('/literal?token=SECRET1')],
    ['by-name', `http://localhost:${hook.port}/by-name`], // resolved at send time
    ['v6', `http://[::1]:${hook.port}/v6`],
    ['mapped', `http://[::ffff:127.0.0.1]:${hook.port}/mapped`],
    ['metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['private', 'http://10.1.2.3:9/hook'],
    ['decimal', `http://2130706433:${hook.port}/decimal`],
  ]);
  const { bus, sender } = track(senderOnBus(urls, logs.logger));
  for (const roomId of urls.keys()) {
    bus.publish({ type: 'roomCreated', roomId });
    bus.publish({ type: 'peerAdded', roomId, peerId: 'p', peerType: 'webrtc' });
  }
  await waitFor(() => sender.refused === 2 * urls.size, 10_000, 'every notification refused');
  await sleep(200);
  t.is(hook.received.length, 0);
  t.is(sender.dropped, 2 * urls.size);
  t.is(sender.delivered, 0);
  t.is(sender.queueCount, 0);
  const warned = logs.lines.filter((l) => l.level === 40 && String(l.msg).startsWith('webhook destination refused'));
  t.deepEqual(warned.map((l) => l.room).sort(), [...urls.keys()].sort(), 'one warning per room, then debug');
  t.deepEqual(warned.find((l) => l.room === 'metadata')?.address, '169.254.169.254');
  t.regex(String(warned.find((l) => l.room === 'by-name')?.address), /^(127\.0\.0\.1|::1)$/);
  t.true(String(warned[0]!.msg).includes('FJ_WEBHOOK_ALLOW_PRIVATE'));
  t.false(logs.text().includes('SECRET1'));
});

test('every address a name resolves to is checked at send time: one private address refuses the destination', async (t) => {
  const answers: Record<string, string[]> = { 'hooks.example.test': ['93.184.216.34', '10.0.0.7'] };
  const asked: string[] = [];
  const { bus, sender } = track(
    senderOnBus(new Map([['r', 'https://hooks.example.test/fishjam']]), captureLogs().logger, {
      resolve: (hostname, _options, callback) => {
        asked.push(hostname);
        callback(null, (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
      },
    }),
  );
  bus.publish({ type: 'roomCreated', roomId: 'r' });
  await waitFor(() => sender.refused === 1, 10_000, 'the refusal');
  t.deepEqual(asked, ['hooks.example.test']);
  // the name now points elsewhere (a rebinding attempt): it is resolved again for the next notification
  answers['hooks.example.test'] = ['127.0.0.1'];
  bus.publish({ type: 'peerAdded', roomId: 'r', peerId: 'p', peerType: 'webrtc' });
  await waitFor(() => sender.refused === 2, 10_000, 'the second refusal');
  t.deepEqual(asked, ['hooks.example.test', 'hooks.example.test']);
  t.is(sender.delivered, 0);
});

test('with allowPrivate (FJ_WEBHOOK_ALLOW_PRIVATE=true) the same loopback destinations get every notification', async (t) => {
  const hook = await receiver();
  const urls = new Map([
    ['literal', hook.url('/literal?token=x')],
    ['by-name', `http://localhost:${hook.port}/by-name`],
  ]);
  const { bus, sender } = track(senderOnBus(urls, captureLogs().logger, { allowPrivate: true }));
  for (const roomId of urls.keys()) bus.publish({ type: 'roomCreated', roomId });
  await waitFor(() => sender.delivered === 2, 10_000, 'both deliveries');
  t.deepEqual(hook.received.map((r) => r.path).sort(), ['/by-name', '/literal?token=x'], 'the query string is sent');
  t.is(sender.refused, 0);
});

test('FJ_WEBHOOK_ALLOW_PRIVATE: false by default in both modes, true when set, anything else names the variable', (t) => {
  const host = { hostname: 'h', cpuCount: 1, randomSecret: () => 'x'.repeat(48) };
  const parse = (env: Record<string, string>) => parseConfig({ FJ_SERVER_API_TOKEN: 't', ...env }, host);
  for (const mode of ['development', 'production']) {
    const parsed = parse({ FJ_MODE: mode });
    t.true(parsed.ok && parsed.config.webhookAllowPrivate === false, mode);
  }
  const on = parse({ FJ_WEBHOOK_ALLOW_PRIVATE: 'true' });
  t.true(on.ok && on.config.webhookAllowPrivate);
  const bad = parse({ FJ_WEBHOOK_ALLOW_PRIVATE: 'yes' });
  t.false(bad.ok);
  t.deepEqual(!bad.ok && bad.errors, ['FJ_WEBHOOK_ALLOW_PRIVATE must be "true" or "false", got: yes']);
});

test('a node with the default configuration refuses a loopback webhookUrl and the room is unaffected', async (t) => {
  const n = await startTestNode();
  t.teardown(() => n.stop());
  const hook = await receiver();
  const created = await n.api('/room', { method: 'POST', json: { webhookUrl: hook.url('/node-default') } });
  t.is(created.status, 201);
  const roomId = created.body.data.room.id as string;
  t.is((await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } })).status, 201);
  await waitFor(() => n.node.webhooks.refused === 2, 10_000, 'RoomCreated and PeerAdded refused');
  const room = await n.api(`/room/${roomId}`);
  t.is(room.status, 200);
  t.is(room.body.data.peers.length, 1);
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  await waitFor(() => n.node.webhooks.refused === 4, 10_000, 'PeerDeleted and RoomDeleted refused');
  t.is(hook.received.length, 0);
  t.is(n.node.webhooks.delivered, 0);
});

// ---- bounds ------------------------------------------------------------------------------------------------------

/** peerMetadataUpdated events of exactly the same encoded size, numbered. */
function bigEvent(roomId: string, i: number, bytes: number): DomainEvent {
  return { type: 'peerMetadataUpdated', roomId, peerId: 'p', metadata: { i: String(i).padStart(6, '0'), blob: 'x'.repeat(bytes) } };
}
const indexOf = (r: Received): number => Number((JSON.parse((r.message as { peerMetadataUpdated: { metadata: string } }).peerMetadataUpdated.metadata) as { i: string }).i);

test('a receiver that does not answer: the queue stays within 1 MiB, the oldest notifications are dropped with a counted warning', async (t) => {
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  t.teardown(() => release());
  // the first request is answered only when released, the rest at once
  const hook = await receiver((_, i) => (i === 0 ? { status: 200, until: released } : { status: 200 }));
  const logs = captureLogs();
  const { bus, sender } = track(senderOnBus(new Map([['big', hook.url('/big?secret=SECRET2')]]), logs.logger, { allowPrivate: true, timeoutMs: 15_000 }));

  const size = encodeServerMessage(serverMessageOf(bigEvent('big', 0, 100_000))!).byteLength;
  const fit = Math.floor((1024 * 1024) / size); // how many wait in 1 MiB
  const total = 60;
  bus.publish({ type: 'roomCreated', roomId: 'big' }); // in flight, held by the receiver
  await waitFor(() => hook.received.length === 1, 10_000, 'the first request to arrive');
  const heapBefore = process.memoryUsage().heapUsed;
  let maxQueued = 0;
  for (let i = 0; i < total; i++) {
    bus.publish(bigEvent('big', i, 100_000));
    maxQueued = Math.max(maxQueued, sender.queuedBytes);
  }
  t.true(fit >= 5 && fit < total, `${fit} notifications of ${size} bytes fit`);
  t.true(maxQueued <= 1024 * 1024, `queued ${maxQueued} bytes`);
  t.is(sender.queuedBytes, fit * size);
  t.is(sender.overflowed, total - fit);
  t.is(sender.dropped, total - fit);
  const warnings = () => logs.lines.filter((l) => l.level === 40 && String(l.msg).startsWith('webhook queue full'));
  t.is(warnings().length, 1, 'one warning per interval, not one per drop');
  t.is(warnings()[0]!.droppedSinceLastWarning, 1);
  t.is(warnings()[0]!.url, `http://127.0.0.1:${hook.port}/big`);
  t.true(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, 'no unbounded growth'); // generous: GC timing

  // the receiver answers again: the held notification, then the newest `fit` ones in order
  release();
  await waitFor(() => hook.received.length === 1 + fit, 10_000, 'the queued notifications');
  await waitFor(() => sender.queueCount === 0, 10_000, 'the queue to empty');
  t.deepEqual(kinds(hook.received.slice(0, 1)), ['roomCreated']);
  t.deepEqual(hook.received.slice(1).map(indexOf), Array.from({ length: fit }, (_, k) => total - fit + k));
  t.is(sender.delivered, 1 + fit);
  // the drops not yet reported are reported when the queue empties: every drop is in some warning
  t.is(warnings().reduce((sum, l) => sum + Number(l.droppedSinceLastWarning), 0), total - fit);
  t.false(logs.text().includes('SECRET2'));
});

test('the item bound holds too, and a notification larger than the whole byte bound is dropped alone', async (t) => {
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  t.teardown(() => release());
  const hook = await receiver((_, i) => (i === 0 ? { status: 200, until: released } : { status: 200 }));
  const { bus, sender } = track(senderOnBus(new Map([['r', hook.url('/items')]]), captureLogs().logger, { allowPrivate: true, maxQueue: 3, maxQueueBytes: 4000 }));
  bus.publish({ type: 'roomCreated', roomId: 'r' });
  await waitFor(() => hook.received.length === 1, 10_000, 'the first request to arrive');
  for (let i = 0; i < 6; i++) bus.publish(bigEvent('r', i, 10));
  t.is(sender.overflowed, 3);
  bus.publish(bigEvent('r', 99, 5000)); // alone larger than 4000 bytes
  t.is(sender.overflowed, 4);
  t.is(sender.queuedBytes, 3 * encodeServerMessage(serverMessageOf(bigEvent('r', 0, 10))!).byteLength);
  release();
  await waitFor(() => hook.received.length === 4, 10_000, 'the rest');
  await sleep(100);
  t.deepEqual(hook.received.slice(1).map(indexOf), [3, 4, 5]);
});

test('close() abandons queued notifications and aborts the request in flight', async (t) => {
  const hook = await receiver(() => 'hold');
  const { bus, sender } = senderOnBus(new Map([['r', hook.url('/held')]]), captureLogs().logger, { allowPrivate: true, timeoutMs: 15_000 });
  bus.publish({ type: 'roomCreated', roomId: 'r' });
  bus.publish({ type: 'peerAdded', roomId: 'r', peerId: 'p', peerType: 'webrtc' });
  await waitFor(() => hook.received.length === 1, 10_000, 'the first request to arrive');
  sender.close();
  t.is(sender.queueCount, 0);
  await waitFor(() => hook.aborted === 1, 10_000, 'the held request to be aborted');
  bus.publish({ type: 'trackAdded', roomId: 'r', peerId: 'p', trackId: 't', trackType: 'audio', metadata: null });
  await sleep(200);
  t.is(hook.received.length, 1, 'nothing sent after close');
});

test('a slow receiver times out per attempt and is retried', async (t) => {
  const hook = await receiver((_, i) => (i === 0 ? 'hold' : { status: 200 }));
  const logs = captureLogs();
  const { bus, sender } = track(senderOnBus(new Map([['r', hook.url('/slow')]]), logs.logger, { allowPrivate: true, timeoutMs: 1000, baseDelayMs: 20 }));
  const started = Date.now();
  bus.publish({ type: 'roomCreated', roomId: 'r' });
  await waitFor(() => sender.delivered === 1, 10_000, 'the second attempt to succeed');
  t.true(Date.now() - started >= 1000, 'the first attempt was given its time');
  t.is(hook.received.length, 2);
  const failures = logs.lines.filter((l) => l.msg === 'webhook delivery failed').map((l) => String(l.err));
  t.true(failures.some((err) => err.includes('no answer within 1000 ms')), `logged failures: ${JSON.stringify(failures)}`);
});

test('logged URLs carry neither the query string nor user info', async (t) => {
  const hook = await receiver(() => ({ status: 500 }));
  const logs = captureLogs();
  const url = `http://hookuser:hookpass@127.0.0.1:${hook.port}/hook/path?token=TOPSECRET&x=1`;
  const { bus, sender } = track(senderOnBus(new Map([['r', url]]), logs.logger, { allowPrivate: true, maxAttempts: 2, baseDelayMs: 10 }));
  bus.publish({ type: 'roomCreated', roomId: 'r' });
  await waitFor(() => sender.dropped === 1, 10_000, 'the notification to be given up');
  t.is(hook.received.length, 2);
  t.is(hook.received[0]!.path, '/hook/path?token=TOPSECRET&x=1', 'the receiver still gets its query string');
  const withUrl = logs.lines.filter((l) => 'url' in l);
  t.deepEqual(withUrl.map((l) => l.msg), ['webhook answered with an error', 'webhook answered with an error', 'webhook notification dropped after retries']);
  t.true(withUrl.every((l) => l.url === `http://127.0.0.1:${hook.port}/hook/path`));
  for (const secret of ['TOPSECRET', 'hookpass', 'hookuser', 'x=1']) t.false(logs.text().includes(secret), secret);
});
