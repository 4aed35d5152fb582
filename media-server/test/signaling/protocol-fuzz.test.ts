// Protocol fuzz with a fixed seed: authenticated peers send more than 10 000 adversarial frames (binary garbage, text
// frames, unknown events, every media event with wrong types in each field, JSON nested 100 000 deep, frames near
// and over the 1 MiB limit, garbage and enormous SDP, bursts of renegotiation and metadata) and server sockets get
// garbage too. The node stays up, answers GET /health throughout, never closes a socket for an internal error, keeps
// its memory bounded, and its media objects are all closed once the peers are gone.
import test from 'ava';
import { PeerSocket, ServerSocket, terminateAll } from '../notifications/support/sockets.js';
import { weriftOffer } from './sdp/sdp-fixtures.js';
import { ServerEventType } from '../../src/proto/index.js';
import { startTestNode, TOKEN, waitFor, workerObjectTotals, type TestNode } from '../support/test-node.js';

let n: TestNode;

test.before(async () => {
  n = await startTestNode();
});

test.after.always(async () => {
  terminateAll();
  await n?.stop();
});

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const FRAMES = 12_000;

const deep = (depth: number, open: string, close: string, inner = '1'): string => open.repeat(depth) + inner + close.repeat(depth);

function generator(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const bytes = (size: number): Buffer => Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
  const wrongValues: unknown[] = [null, 0, -1, 1e308, 'x', '', true, [], {}, [1, 'a'], { a: { b: { c: null } } }, 'h'.repeat(5000), '\u0000\ud800'];
  const wrong = (): unknown => pick(wrongValues);
  const templates: Array<() => Record<string, unknown>> = [
    () => ({ type: 'connect', data: { metadata: { name: 'x' } } }),
    () => ({ type: 'disconnect' }),
    () => ({ type: 'updateEndpointMetadata', data: { metadata: { name: 'y' } } }),
    () => ({ type: 'updateTrackMetadata', data: { trackId: 'fz:video', trackMetadata: { a: 1 } } }),
    () => ({ type: 'enableTrackEncoding', data: { trackId: 'fz:video', encoding: 'h' } }),
    () => ({ type: 'disableTrackEncoding', data: { trackId: 'fz:video', encoding: 'l' } }),
    () => ({ type: 'custom', data: { type: 'renegotiateTracks' } }),
    () => ({ type: 'custom', data: { type: 'candidate', data: { candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMLineIndex: 0 } } }),
    () => ({ type: 'custom', data: { type: 'trackVariantBitrates', data: { trackId: 'fz:video', variantBitrates: { l: 1, m: 2, h: 3 } } } }),
    () => ({ type: 'custom', data: { type: 'setTargetTrackVariant', data: { trackId: 'fz:video', variant: 'm' } } }),
    () => ({
      type: 'custom',
      data: { type: 'sdpOffer', data: { sdpOffer: { type: 'offer', sdp: weriftOffer }, trackIdToTrackMetadata: { 'fz:audio': null, 'fz:video': null }, trackIdToTrackBitrates: {}, midToTrackId: { '0': 'fz:audio', '1': 'fz:video' } } },
    }),
  ];
  /** A valid event with one field (at any depth) replaced by a value of another type, or removed. */
  const mutated = (): string => {
    const event = pick(templates)();
    const paths: Array<[Record<string, unknown>, string]> = [];
    const walk = (o: unknown): void => {
      if (typeof o !== 'object' || o === null) return;
      for (const key of Object.keys(o)) {
        paths.push([o as Record<string, unknown>, key]);
        walk((o as Record<string, unknown>)[key]);
      }
    };
    walk(event);
    const [holder, key] = pick(paths);
    if (random() < 0.15) delete holder[key];
    else holder[key] = wrong();
    return JSON.stringify(event);
  };
  const sdpGarbage = (): string => {
    const lines = weriftOffer.split('\r\n');
    const kind = random();
    if (kind < 0.3) return lines.filter(() => random() > 0.3).join('\r\n');
    if (kind < 0.5) return bytes(2000).toString('latin1');
    if (kind < 0.7) return lines.map((l) => (random() < 0.2 ? l.replace(/\d+/g, () => String(Math.floor(random() * 1e12))) : l)).join('\r\n');
    if (kind < 0.85) return weriftOffer + 'a=ssrc:1 cname:x\r\n'.repeat(40_000); // ~700 KB
    return 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\n'.repeat(20_000);
  };
  const offerWith = (sdp: string): string =>
    JSON.stringify({ type: 'custom', data: { type: 'sdpOffer', data: { sdpOffer: { type: 'offer', sdp }, midToTrackId: { '0': 'fz:audio', '1': 'fz:video' } } } });

  /** One frame: what a hostile client sends next. */
  return (): { binary: Buffer } | { text: string } | { event: string } => {
    const r = random();
    if (r < 0.1) return { binary: bytes(1 + Math.floor(random() * 300)) };
    if (r < 0.13) return { text: bytes(50).toString('latin1') };
    if (r < 0.6) return { event: mutated() };
    if (r < 0.7) return { event: pick(templates)() && JSON.stringify(pick(templates)()) };
    if (r < 0.75) return { event: JSON.stringify({ type: pick(['nope', 'custom', '__proto__', 'constructor', 'toString']), data: { type: pick(['x', '__proto__', 'sdpAnswer', 'offerData']) } }) };
    if (r < 0.78) return { event: random() < 0.5 ? bytes(100).toString('latin1') : '{"type":' };
    if (r < 0.8) return { event: `{"type":"updateEndpointMetadata","data":{"metadata":${deep(100_000, '[', ']')}}}` };
    if (r < 0.81) return { event: `{"type":"connect","data":{"metadata":${deep(60_000, '{"a":', '}')}}}` };
    if (r < 0.815) return { event: JSON.stringify({ type: 'updateEndpointMetadata', data: { metadata: 'm'.repeat(900_000) } }) };
    if (r < 0.82) return { event: JSON.stringify({ type: 'updateTrackMetadata', data: { trackId: 't'.repeat(100_000), trackMetadata: 'x'.repeat(20_000) } }) };
    if (r < 0.86) return { event: offerWith(sdpGarbage()) };
    return { event: JSON.stringify(pick(templates)()) };
  };
}

async function healthOk(): Promise<boolean> {
  const res = await n.api('/health').catch(() => undefined);
  return res?.status === 200;
}

const workerTotals = () => workerObjectTotals(n.node);

test(`${FRAMES} seeded adversarial peer frames and server-socket garbage: the node stays up and bounded`, async (t) => {
  const random = prng(SEED);
  const next = generator(random);
  const roomId = (await n.api('/room', { method: 'POST', json: {} })).body.data.room.id as string;
  const tokens: string[] = [];
  for (let i = 0; i < 4; i++) tokens.push((await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } })).body.data.token as string);
  const open = async (i: number): Promise<PeerSocket> => {
    const socket = await PeerSocket.open(n.base);
    await socket.authenticate(tokens[i]!);
    socket.sendMediaEvent({ type: 'connect', data: { metadata: { i } } });
    return socket;
  };
  const sockets = await Promise.all(tokens.map((_, i) => open(i)));
  const closes: Array<{ code: number; reason: string }> = [];
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  let sent = 0;
  let bytes = 0;
  const started = Date.now();
  while (sent < FRAMES) {
    const i = sent % sockets.length;
    let socket = sockets[i]!;
    if (!socket.isOpen) {
      closes.push(await socket.closeResult(2000).catch(() => ({ code: -1, reason: 'not closed in time' })));
      // The server may still be detaching the old socket: reconnecting with the same token is then refused.
      await waitFor(async () => (await n.api(`/room/${roomId}`)).body.data.peers.every((p: { status: string }) => p.status === 'disconnected' || p.status === 'connected'), 2000, 'peer state').catch(() => undefined);
      socket = sockets[i] = await open(i);
    }
    const frame = next();
    if ('binary' in frame) socket.sendRaw(frame.binary, true);
    else if ('text' in frame) socket.sendRaw(frame.text, false);
    else socket.sendMediaEvent(frame.event);
    bytes += 'binary' in frame ? frame.binary.length : 'text' in frame ? frame.text.length : frame.event.length;
    sent++;
    if (sent % 500 === 0) {
      // Let the server catch up (and show it is alive) instead of filling socket buffers.
      t.true(await healthOk(), `GET /health after ${sent} frames`);
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }
    if (Date.now() - started > 270_000) break; // under the 300 s ava timeout (package.json); ~20 s on an idle machine
  }
  t.is(sent, FRAMES, 'all frames sent within the time bound');

  // Server sockets: garbage before and after authentication, each closes only that socket.
  for (let k = 0; k < 200; k++) {
    const server = await ServerSocket.open(n.base);
    if (k % 2 === 1) await server.subscribe(TOKEN, [ServerEventType.SERVER_NOTIFICATION]);
    server.sendRaw(Buffer.from(Array.from({ length: 1 + (k % 97) }, () => Math.floor(random() * 256))), true);
    const closed = await server.closeResult(3000);
    t.not(closed.code, 1011, `server socket ${k} closed by an internal error`);
  }

  const heapAfter = process.memoryUsage().heapUsed;
  t.true(await healthOk());
  const internalErrors = closes.filter((c) => c.code === 1011 || c.code === -1);
  t.deepEqual(internalErrors, [], 'no socket closed by an internal error');
  console.log(`[fuzz] seed ${SEED}: ${sent} frames, ${(bytes / 1e6).toFixed(1)} MB in ${Date.now() - started} ms; ${closes.length} reconnects (${[...new Set(closes.map((c) => `${c.code} ${c.reason}`))].join('; ')}); heap ${(heapBefore / 1e6).toFixed(0)} -> peak ${(heapPeak / 1e6).toFixed(0)} -> ${(heapAfter / 1e6).toFixed(0)} MB`);
  // Bounded: the test sent ~bytes of input; the node must not keep anything near that much.
  t.true(heapPeak - heapBefore < 300e6, `heap grew by ${((heapPeak - heapBefore) / 1e6).toFixed(0)} MB`);

  // The node still works, and once the peers are gone nothing of theirs remains on the workers.
  for (const s of sockets) await s.close();
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  await waitFor(() => workerTotals().transports === 0, 5000, 'transports closed').catch(() => undefined);
  t.deepEqual(workerTotals(), { transports: 0, producers: 0, consumers: 0 });
  t.is((await n.api('/room', { method: 'POST', json: {} })).status, 201);
});
