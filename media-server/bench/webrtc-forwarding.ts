// Forwarding capacity of one mediasoup worker: how many consumers of one video producer it sustains at a CPU budget of
// 85% of one core, through our server vs a bare mediasoup script, in the same run (benchmark, not a test).
//
//   bare: mediasoup worker -> router (our codecs) -> a werift publisher on a WebRtcTransport -> N WebRtcTransports
//         (one port each) with one consumer each, negotiated directly (no signalling), each received by werift.
//   bare+server: the same with every transport on one WebRtcServer port, as our server does.
//   ours: a whole node in-process (startTestNode, 1 worker: WebRtcServer, room router, audio level observer,
//         metrics reporter's per-transport getStats every second, ...), the publisher and every receiver a werift
//         client joining through the peer websocket (auth, connect, offerData, sdpOffer, sdpAnswer) like the SDK.
//
// Receivers drop the media they get before decrypting it (see benchPeer), except one per setup that counts it.
// The consumer count is ramped in steps; at each step the worker's CPU (from /proc/<pid>/stat) is measured over a
// window while the producer sends a fixed VP8-shaped stream (30 fps x 5 packets x 1100 B, about 1.3 Mbit/s). The
// consumers at 85% come from the measured points (interpolated if crossed, else a least-squares line extrapolated).
//
//   npm run bench:webrtc -w media-server          (BENCH_MAX_CONSUMERS=350 BENCH_STEP=50 BENCH_WINDOW_MS=3000)
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { mediaCodecsFor } from '../src/sfu/media-codecs.js';
import { buildAnswer, type MLineDecision } from '../src/signaling/sdp/answer.js';
import { parseClientOffer } from '../src/signaling/sdp/client-offer.js';
import { PeerSocket, terminateAll } from '../test/notifications/support/sockets.js';
import { startTestNode } from '../test/support/test-node.js';
import { benchPeer, connected, cpuSeconds, MediaStreamTrack, pumpVp8, STREAM, type RTCPeerConnection } from './webrtc-support.js';

const BUDGET = 0.85;
const MAX = Math.min(Number(process.env.BENCH_MAX_CONSUMERS ?? 350), 500);
const STEP = Math.max(10, Number(process.env.BENCH_STEP ?? 50));
const WINDOW_MS = Math.min(Number(process.env.BENCH_WINDOW_MS ?? 3000), 10_000);
const SETUP_DEADLINE_MS = 60_000;
const BATCH = 8;

interface Setup {
  name: string;
  workerPid: number;
  consumers: types.Consumer[];
  producer: () => types.Producer | undefined;
  /** negotiates a receive-only peer connection (made by the ramp) and waits for it to connect */
  addReceiver(pc: RTCPeerConnection): Promise<void>;
  close(): Promise<void>;
}

interface Point {
  consumers: number;
  cpu: number;
  egressPps: number;
  egressMbps: number;
  ingressPps: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Consumers and producers as mediasoup creates them, whoever creates them (our node or the bare script). */
const seen = { consumers: [] as types.Consumer[], producers: [] as types.Producer[] };
mediasoup.observer.on('newworker', (worker) =>
  worker.observer.on('newrouter', (router) =>
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newconsumer', (c) => seen.consumers.push(c));
      transport.observer.on('newproducer', (p) => seen.producers.push(p));
    }),
  ),
);

async function sum(consumers: types.Consumer[]): Promise<{ packets: number; bytes: number }> {
  let packets = 0;
  let bytes = 0;
  for (const stats of await Promise.all(consumers.filter((c) => !c.closed).map((c) => c.getStats().catch(() => [])))) {
    const out = stats.find((s) => s.type === 'outbound-rtp');
    packets += out?.packetCount ?? 0;
    bytes += out?.byteCount ?? 0;
  }
  return { packets, bytes };
}

async function producerPackets(producer: types.Producer | undefined): Promise<number> {
  const stats = (await producer?.getStats().catch(() => [])) ?? [];
  return stats.reduce((n, s) => n + (s.packetCount ?? 0), 0);
}

async function ramp(setup: Setup): Promise<{ points: Point[]; sampleRate: number }> {
  const started = Date.now();
  const receivers: RTCPeerConnection[] = [];
  let counted = 0;
  const points: Point[] = [];
  let sampleRate = 0;
  for (let target = STEP; target <= MAX; target += STEP) {
    if (Date.now() - started > SETUP_DEADLINE_MS - WINDOW_MS - 3000) {
      console.log(`  [${setup.name}] stopping the ramp at ${receivers.length} consumers: time budget`);
      break;
    }
    while (receivers.length < target) {
      const batch = Math.min(BATCH, target - receivers.length);
      const made = Array.from({ length: batch }, (_, i) => {
        const counting = receivers.length === 0 && i === 0;
        const pc = benchPeer(!counting);
        if (counting) pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => counted++));
        pc.addTransceiver('video', { direction: 'recvonly' });
        return pc;
      });
      receivers.push(...made);
      await Promise.all(made.map((pc) => setup.addReceiver(pc)));
    }
    await sleep(1500); // consumers resumed, key frame through
    const consumers = setup.consumers.filter((c) => !c.closed);
    const e0 = await sum(consumers);
    const i0 = await producerPackets(setup.producer());
    const s0 = counted;
    const t0 = Date.now();
    const c0 = cpuSeconds(setup.workerPid);
    await sleep(WINDOW_MS);
    const c1 = cpuSeconds(setup.workerPid);
    const t1 = Date.now();
    const e1 = await sum(consumers);
    const i1 = await producerPackets(setup.producer());
    const seconds = (t1 - t0) / 1000;
    sampleRate = (counted - s0) / seconds;
    const point: Point = {
      consumers: consumers.length,
      cpu: (c1 - c0) / seconds,
      egressPps: (e1.packets - e0.packets) / seconds,
      egressMbps: ((e1.bytes - e0.bytes) * 8) / seconds / 1e6,
      ingressPps: (i1 - i0) / seconds,
    };
    points.push(point);
    console.log(
      `  [${setup.name}] ${String(point.consumers).padStart(4)} consumers: worker CPU ${(point.cpu * 100).toFixed(1).padStart(5)}%  ` +
        `egress ${Math.round(point.egressPps)} pkt/s ${point.egressMbps.toFixed(0)} Mbit/s  ingress ${Math.round(point.ingressPps)} pkt/s  ` +
        `sample receiver ${Math.round(sampleRate)} pkt/s`,
    );
    if (point.cpu >= BUDGET) break;
  }
  for (const pc of receivers) await pc.close().catch(() => undefined);
  return { points, sampleRate };
}

/** Consumers at the budget: interpolated between the points around it, else extrapolated from a fitted line. */
function atBudget(points: Point[]): { consumers: number; how: string } {
  const above = points.findIndex((p) => p.cpu >= BUDGET);
  if (above > 0) {
    const [a, b] = [points[above - 1]!, points[above]!];
    return { consumers: Math.round(a.consumers + ((BUDGET - a.cpu) * (b.consumers - a.consumers)) / (b.cpu - a.cpu)), how: 'interpolated' };
  }
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.consumers, 0) / n;
  const my = points.reduce((s, p) => s + p.cpu, 0) / n;
  const slope = points.reduce((s, p) => s + (p.consumers - mx) * (p.cpu - my), 0) / points.reduce((s, p) => s + (p.consumers - mx) ** 2, 0);
  const intercept = my - slope * mx;
  return { consumers: Math.round((BUDGET - intercept) / slope), how: `extrapolated (cpu = ${(intercept * 100).toFixed(1)}% + ${(slope * 100).toFixed(3)}% per consumer)` };
}

// --- bare mediasoup -------------------------------------------------------------------------------------------

async function bareSetup(shared: boolean): Promise<Setup> {
  const worker = await mediasoup.createWorker({ logLevel: 'error' });
  const router = await worker.createRouter({ mediaCodecs: mediaCodecsFor('vp8') });
  const webRtcServer = shared ? await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port: 0 }] }) : undefined;
  const consumers: types.Consumer[] = [];
  const transports: types.WebRtcTransport[] = [];
  const newTransport = async (): Promise<types.WebRtcTransport> => {
    const t = webRtcServer
      ? await router.createWebRtcTransport({ webRtcServer, initialAvailableOutgoingBitrate: 1_000_000 })
      : await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }], initialAvailableOutgoingBitrate: 1_000_000 });
    transports.push(t);
    return t;
  };
  const negotiate = async (pc: RTCPeerConnection, transport: types.WebRtcTransport, midToTrackId: Record<string, string>, consume: boolean): Promise<types.Producer | undefined> => {
    await pc.setLocalDescription(await pc.createOffer());
    const parsed = parseClientOffer(pc.localDescription!.sdp, router.rtpCapabilities, midToTrackId);
    if (!parsed.ok) throw new Error(parsed.error);
    const offer = parsed.value;
    const line = offer.mLines[0]!;
    let producer: types.Producer | undefined;
    const decisions: Record<string, MLineDecision> = {};
    if (line.producer) producer = await transport.produce(line.producer);
    if (consume) {
      const consumer = await transport.consume({ producerId: publisherProducer!.id, rtpCapabilities: offer.rtpCapabilities, mid: line.mid });
      consumers.push(consumer);
      decisions[line.mid] = { action: 'send', rtpParameters: consumer.rtpParameters, streamId: 'publisher', trackId: 'video' };
    }
    const answer = buildAnswer({ offer, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters, decisions });
    if (!answer.ok) throw new Error(answer.error);
    await transport.connect({ dtlsParameters: offer.dtlsParameters });
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.value });
    await connected(pc);
    return producer;
  };

  const publisher = benchPeer(false);
  const track = new MediaStreamTrack({ kind: 'video' });
  publisher.addTransceiver(track, { direction: 'sendonly' });
  let publisherProducer: types.Producer | undefined;
  publisherProducer = await negotiate(publisher, await newTransport(), { '0': 'video' }, false);
  const stop = pumpVp8(track);
  return {
    name: shared ? 'bare+server' : 'bare',
    workerPid: worker.pid,
    consumers,
    producer: () => publisherProducer,
    addReceiver: async (pc) => {
      await negotiate(pc, await newTransport(), {}, true);
    },
    close: async () => {
      stop();
      await publisher.close().catch(() => undefined);
      worker.close();
    },
  };
}

// --- our server -----------------------------------------------------------------------------------------------

async function oursSetup(): Promise<Setup> {
  seen.consumers.length = 0;
  seen.producers.length = 0;
  const n = await startTestNode({ FJ_WORKERS: '1', FJ_WEBRTC_LISTEN_IP: '127.0.0.1', FJ_WORKER_MAX_CONSUMERS: '1000' });
  const roomId = (await n.api('/room', { method: 'POST', json: { videoCodec: 'vp8' } })).body.data.room.id as string;
  const join = async (): Promise<PeerSocket> => {
    const token = (await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } })).body.data.token as string;
    const socket = await PeerSocket.open(n.base);
    await socket.authenticate(token);
    socket.sendMediaEvent({ type: 'connect', data: { metadata: null } });
    await socket.waitForMediaEvent('connected', 10_000);
    return socket;
  };
  const offer = async (socket: PeerSocket, pc: RTCPeerConnection, data: Record<string, unknown>): Promise<void> => {
    await pc.setLocalDescription(await pc.createOffer());
    socket.sendMediaEvent({ type: 'custom', data: { type: 'sdpOffer', data: { sdpOffer: { type: 'offer', sdp: pc.localDescription!.sdp }, ...data } } });
    const answer = await socket.waitForMediaEvent('sdpAnswer', 10_000);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.data.sdp as string });
    await connected(pc);
  };

  const publisherSocket = await join();
  publisherSocket.sendMediaEvent({ type: 'custom', data: { type: 'renegotiateTracks' } });
  await publisherSocket.waitForMediaEvent('offerData', 10_000);
  const publisher = benchPeer(false);
  const track = new MediaStreamTrack({ kind: 'video' });
  publisher.addTransceiver(track, { direction: 'sendonly' });
  await offer(publisherSocket, publisher, { trackIdToTrackMetadata: { video: null }, trackIdToTrackBitrates: { video: 1_500_000 }, midToTrackId: { '0': 'video' } });
  const stop = pumpVp8(track);
  const sockets: PeerSocket[] = [publisherSocket];
  return {
    name: 'ours',
    workerPid: n.node.pool.stats()[0]!.pid,
    consumers: seen.consumers,
    producer: () => seen.producers[0],
    addReceiver: async (pc) => {
      const socket = await join();
      sockets.push(socket);
      await socket.waitForMediaEvent('offerData', 10_000); // the room has a track: the server offers it at once
      await offer(socket, pc, { trackIdToTrackMetadata: {}, trackIdToTrackBitrates: {}, midToTrackId: {} });
    },
    close: async () => {
      stop();
      await publisher.close().catch(() => undefined);
      terminateAll();
      await n.stop();
    },
  };
}

async function run(make: () => Promise<Setup>): Promise<{ name: string; points: Point[]; result: { consumers: number; how: string }; sampleRate: number }> {
  const setup = await make();
  try {
    const { points, sampleRate } = await ramp(setup);
    return { name: setup.name, points, result: atBudget(points), sampleRate };
  } finally {
    await setup.close();
  }
}

const expectedPps = STREAM.fps * STREAM.packetsPerFrame;
console.log(`forwarding capacity of one mediasoup worker at ${BUDGET * 100}% of one core`);
console.log(`stream: VP8-shaped, ${STREAM.fps} fps x ${STREAM.packetsPerFrame} packets x ${STREAM.packetBytes} B = ${expectedPps} pkt/s, ${((expectedPps * STREAM.packetBytes * 8) / 1e6).toFixed(2)} Mbit/s per consumer`);
console.log(`ramp: +${STEP} consumers per step up to ${MAX}, ${WINDOW_MS} ms CPU window per step; ${(await import('node:os')).cpus().length} cores`);
const bare = await run(() => bareSetup(false));
const bareShared = await run(() => bareSetup(true));
const ours = await run(oursSetup);
console.log('');
for (const r of [bare, bareShared, ours]) {
  const last = r.points.at(-1);
  const perPacketUs = last && last.egressPps > 0 ? (last.cpu * 1e6) / last.egressPps : NaN;
  console.log(
    `${r.name.padEnd(11)} consumers at ${BUDGET * 100}% CPU: ${r.result.consumers} (${r.result.how}); ` +
      `at ${last?.consumers} consumers ${(100 * (last?.cpu ?? 0)).toFixed(1)}% CPU, ${perPacketUs.toFixed(2)} us of worker CPU per forwarded packet; ` +
      `sample receiver got ${Math.round(r.sampleRate)}/${expectedPps} pkt/s`,
  );
}
console.log(`ratio ours/bare: ${(ours.result.consumers / bare.result.consumers).toFixed(2)}; ours/bare+server: ${(ours.result.consumers / bareShared.result.consumers).toFixed(2)}`);
process.exit(0);
