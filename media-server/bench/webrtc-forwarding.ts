// Forwarding cost of one mediasoup worker, ours vs bare mediasoup, measured so that it gives the same answer twice
// (benchmark, not a test). Setups run side by side and take turns in short slices; the primary figure is worker CPU
// per forwarded packet.
//
//   ours:   a whole node in a child process (bench/forwarding-node.ts: startTestNode with 1 worker: WebRtcServer, room
//           router, audio level observer, per-transport stats polling, ...); the publisher and every receiver are
//           werift clients joining through the REST API and the peer socket like the SDK (src/load/load-peer.ts).
//   bare:   a bare mediasoup script in this process: worker -> router (our codecs) -> WebRtcServer (one port, as ours)
//           -> a werift publisher's transport and one transport + consumer per werift receiver, negotiated directly.
//   bare B: a second, identical bare script: bare vs bare B is the A/A run that shows the noise floor.
//
// All three workers are pinned to the same core (taskset), this process and ours' node process to the other cores.
// Each setup has the same number of receivers, and its publisher (VP8-shaped, 30 fps x 5 packets x 1100 B = 150 pkt/s)
// sends only during its own slice: a round is one slice of each setup (order rotated every round), and a slice's
// figure is the worker's CPU over the slice (/proc/<pid>/task/*/schedstat: nanoseconds, where /proc/<pid>/stat counts
// 10 ms ticks) divided by the packets its consumers forwarded in it (consumer stats, read outside the CPU window).
// A repetition builds fresh setups, runs the rounds and takes the median of the per-round ratios; the result is the
// median of the repetitions with min–max. ratio = capacity of ours / capacity of bare = bare CPU/pkt / ours CPU/pkt
// (>= 0.95 is the goal). Beside it: the node process's own CPU per receiver (ours only; measured in ours' slices).
// Receivers drop media before decrypting it (see src/load/load-peer.ts), so hundreds fit in this process.
//
//   npm run bench:webrtc -w media-server
//   BENCH_RECEIVERS=150 BENCH_REPETITIONS=3 BENCH_ROUNDS=24 BENCH_SLICE_MS=800 BENCH_CORE=<last core>
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { FishjamApi } from '../src/load/fishjam-api.js';
import { LoadPeer, loadPeerConnection, type LoadPeerOptions } from '../src/load/load-peer.js';
import { DEFAULT_VIDEO, vp8Pump, type Pump } from '../src/load/media-pump.js';
import { mediaCodecsFor } from '../src/sfu/media-codecs.js';
import { buildAnswer, type MLineDecision } from '../src/signaling/sdp/answer.js';
import { parseClientOffer } from '../src/signaling/sdp/client-offer.js';
import { benchPeer, connected, MediaStreamTrack, runSeconds, type RTCPeerConnection } from './webrtc-support.js';

const bounded = (name: string, fallback: number, min: number, max: number): number => {
  const n = Number(process.env[name] ?? fallback);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, Math.round(n))) : fallback;
};
const RECEIVERS = bounded('BENCH_RECEIVERS', 150, 10, 300);
const REPETITIONS = bounded('BENCH_REPETITIONS', 3, 1, 10);
const ROUNDS = bounded('BENCH_ROUNDS', 24, 3, 60);
// A CPU window is the slice plus the settle time: 1 s, the period of ours' stats polling (metrics reporter, worker CPU
// sampling), so every window of ours holds the same number of polls whatever their phase.
const SETTLE_MS = 200; // after the publisher stops: packets in flight are forwarded inside the window
const SLICE_MS = bounded('BENCH_SLICE_MS', 1000 - SETTLE_MS, 300, 5000);
const CORE = bounded('BENCH_CORE', cpus().length - 1, 0, cpus().length - 1);
const BATCH = 8;
const PPS = DEFAULT_VIDEO.fps * DEFAULT_VIDEO.packetsPerFrame;

interface Setup {
  name: string;
  workerPid: number;
  /** the node process (ours only) */
  nodePid?: number;
  publisher: Pump | LoadPeer;
  /** packets forwarded by all its consumers so far */
  forwarded(): Promise<number>;
  close(): Promise<void>;
}

interface Slice {
  cpuS: number;
  nodeCpuS: number;
  packets: number;
  seconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const start = (p: Pump | LoadPeer): void => ('startSending' in p ? p.startSending() : p.start());
const stop = (p: Pump | LoadPeer): void => ('stopSending' in p ? p.stopSending() : p.stop());

/** Every thread of the process on `cores` (taskset from util-linux). */
function pin(pid: number, cores = String(CORE)): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
}
/** The cores other than the workers' one: this process (werift clients) and ours' node process stay off it. */
const OTHER_CORES = cpus().map((_, i) => i).filter((i) => i !== CORE).join(',');

async function inBatches(count: number, make: () => Promise<void>): Promise<void> {
  for (let made = 0; made < count; made += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, count - made) }, make));
}

// --- bare mediasoup -------------------------------------------------------------------------------------------

async function bareSetup(name: string): Promise<Setup> {
  const worker = await mediasoup.createWorker({ logLevel: 'error' });
  const router = await worker.createRouter({ mediaCodecs: mediaCodecsFor('vp8') });
  const webRtcServer = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port: 0 }] });
  const consumers: types.Consumer[] = [];
  const peers: RTCPeerConnection[] = [];
  let producer: types.Producer | undefined;
  const negotiate = async (pc: RTCPeerConnection, midToTrackId: Record<string, string>): Promise<void> => {
    const transport = await router.createWebRtcTransport({ webRtcServer, initialAvailableOutgoingBitrate: 1_000_000 });
    await pc.setLocalDescription(await pc.createOffer());
    const parsed = parseClientOffer(pc.localDescription!.sdp, router.rtpCapabilities, midToTrackId);
    if (!parsed.ok) throw new Error(parsed.error);
    const offer = parsed.value;
    const line = offer.mLines[0]!;
    const decisions: Record<string, MLineDecision> = {};
    if (line.producer) producer = await transport.produce(line.producer);
    else {
      const consumer = await transport.consume({ producerId: producer!.id, rtpCapabilities: offer.rtpCapabilities, mid: line.mid });
      consumers.push(consumer);
      decisions[line.mid] = { action: 'send', rtpParameters: consumer.rtpParameters, streamId: 'publisher', trackId: 'video' };
    }
    const answer = buildAnswer({ offer, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters, decisions });
    if (!answer.ok) throw new Error(answer.error);
    await transport.connect({ dtlsParameters: offer.dtlsParameters });
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.value });
    await connected(pc);
  };
  const publisher = benchPeer(false);
  const track = new MediaStreamTrack({ kind: 'video' });
  publisher.addTransceiver(track, { direction: 'sendonly' });
  await negotiate(publisher, { '0': 'video' });
  const pump = vp8Pump(track);
  await inBatches(RECEIVERS, async () => {
    const pc = loadPeerConnection();
    peers.push(pc);
    pc.addTransceiver('video', { direction: 'recvonly' });
    await negotiate(pc, {});
  });
  return {
    name,
    workerPid: worker.pid,
    publisher: pump,
    forwarded: async () => {
      let packets = 0;
      for (const stats of await Promise.all(consumers.map((c) => c.getStats().catch(() => [])))) packets += stats.find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0;
      return packets;
    },
    close: async () => {
      pump.stop();
      await Promise.all([publisher, ...peers].map((pc) => pc.close().catch(() => undefined)));
      worker.close();
    },
  };
}

// --- our server -----------------------------------------------------------------------------------------------

async function oursSetup(): Promise<Setup> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./forwarding-node.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ base: string; token: string; workerPid: number }>((resolve, reject) => {
    child.once('message', (m: any) => (m.type === 'ready' ? resolve(m) : reject(new Error('unexpected message'))));
    child.once('exit', (code) => reject(new Error(`the node exited (${code})`)));
  });
  let nextId = 0;
  const ask = (): Promise<number> =>
    new Promise((resolve) => {
      const id = nextId++;
      const on = (m: any): void => {
        if (m.type === 'forwarded' && m.id === id) {
          child.off('message', on);
          resolve(m.packets as number);
        }
      };
      child.on('message', on);
      child.send({ type: 'forwarded', id });
    });
  const api = new FishjamApi(ready.base, ready.token);
  const { roomId } = await api.createRoom();
  const join = async (publish: LoadPeerOptions['publish']): Promise<LoadPeer> => {
    const ticket = await api.addPeer(roomId);
    const peer = new LoadPeer({ socketUrl: ticket.socketUrl, token: ticket.token, label: 'bench', publish });
    await peer.join();
    return peer;
  };
  const publisher = await join({ video: DEFAULT_VIDEO });
  publisher.stopSending();
  const receivers: LoadPeer[] = [];
  await inBatches(RECEIVERS, async () => {
    const peer = await join({});
    receivers.push(peer);
  });
  return {
    name: 'ours',
    workerPid: ready.workerPid,
    nodePid: child.pid!,
    publisher,
    forwarded: ask,
    close: async () => {
      await Promise.all([publisher, ...receivers].map((p) => p.close()));
      child.send({ type: 'stop' });
      await new Promise((r) => child.once('exit', r));
    },
  };
}

// --- the interleaved run --------------------------------------------------------------------------------------

async function slice(setup: Setup): Promise<Slice> {
  const f0 = await setup.forwarded();
  const c0 = runSeconds(setup.workerPid);
  const n0 = setup.nodePid ? runSeconds(setup.nodePid) : 0;
  const t0 = performance.now();
  start(setup.publisher);
  await sleep(SLICE_MS);
  stop(setup.publisher);
  await sleep(SETTLE_MS);
  const c1 = runSeconds(setup.workerPid);
  const n1 = setup.nodePid ? runSeconds(setup.nodePid) : 0;
  const seconds = (performance.now() - t0) / 1000;
  const f1 = await setup.forwarded();
  return { cpuS: c1 - c0, nodeCpuS: n1 - n0, packets: f1 - f0, seconds };
}

const us = (s: Slice): number => (s.packets > 0 ? (s.cpuS * 1e6) / s.packets : NaN);

interface Repetition {
  ratio: number;
  aa: number;
  usPerPacket: Record<string, number>;
  pps: Record<string, number>;
  nodePer100: number;
}

async function repetition(index: number): Promise<Repetition> {
  const t = Date.now();
  const setups = [await oursSetup(), await bareSetup('bare'), await bareSetup('bare B')];
  for (const s of setups) pin(s.workerPid);
  if (OTHER_CORES) for (const pid of [process.pid, ...setups.flatMap((s) => (s.nodePid ? [s.nodePid] : []))]) pin(pid, OTHER_CORES);
  console.log(`repetition ${index}: ${setups.length} setups x ${RECEIVERS} receivers joined in ${((Date.now() - t) / 1000).toFixed(0)} s; workers ${setups.map((s) => s.workerPid).join(', ')} pinned to core ${CORE}${OTHER_CORES ? `, clients and ours' node process to ${OTHER_CORES}` : ''}`);
  try {
    for (const s of setups) await slice(s); // warm-up: key frames, first allocations
    const rounds: Slice[][] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round: Slice[] = [];
      for (let k = 0; k < setups.length; k++) {
        const i = (k + r) % setups.length;
        round[i] = await slice(setups[i]!);
      }
      rounds.push(round);
    }
    const perRound = (i: number) => rounds.map((round) => us(round[i]!));
    const ratio = median(rounds.map((round) => us(round[1]!) / us(round[0]!)));
    const aa = median(rounds.map((round) => us(round[1]!) / us(round[2]!)));
    const usPerPacket = Object.fromEntries(setups.map((s, i) => [s.name, median(perRound(i))]));
    const pps = Object.fromEntries(setups.map((s, i) => [s.name, median(rounds.map((round) => round[i]!.packets / round[i]!.seconds))]));
    const nodePer100 = median(rounds.map((round) => (100 * round[0]!.nodeCpuS) / round[0]!.seconds / (RECEIVERS / 100)));
    const nodeTotal = median(rounds.map((round) => (100 * round[0]!.nodeCpuS) / round[0]!.seconds));
    console.log(
      `  ${setups.map((s) => `${s.name} ${usPerPacket[s.name]!.toFixed(2)} us/pkt (${(pps[s.name]! / 1000).toFixed(1)}k pkt/s)`).join('; ')}\n` +
        `  ours/bare ${ratio.toFixed(3)}   A/A bare/bare B ${aa.toFixed(3)}   per-round ours/bare min–max ${Math.min(...rounds.map((rd) => us(rd[1]!) / us(rd[0]!))).toFixed(2)}–${Math.max(...rounds.map((rd) => us(rd[1]!) / us(rd[0]!))).toFixed(2)}   ` +
        `node process ${nodeTotal.toFixed(1)}% of a core = ${nodePer100.toFixed(2)}% per 100 receivers`,
    );
    return { ratio, aa, usPerPacket, pps, nodePer100 };
  } finally {
    for (const s of setups) await s.close().catch((error: Error) => console.log(`  closing ${s.name}: ${error.message}`));
  }
}

console.log(`interleaved forwarding benchmark: ${REPETITIONS} repetitions x ${ROUNDS} rounds of ${SLICE_MS} ms slices (+${SETTLE_MS} ms settle), ` +
  `${RECEIVERS} receivers per setup, VP8-shaped ${PPS} pkt/s per consumer, ${cpus().length} cores, workers on core ${CORE}`);
const reps: Repetition[] = [];
for (let i = 1; i <= REPETITIONS; i++) reps.push(await repetition(i));
const summary = (values: number[]): string => `${median(values).toFixed(3)} (min–max ${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)})`;
const oursUs = median(reps.map((r) => r.usPerPacket.ours!));
const bareUs = median(reps.map((r) => r.usPerPacket.bare!));
console.log('');
console.log(`worker CPU per forwarded packet (median of repetitions): ours ${oursUs.toFixed(2)} us, bare+WebRtcServer ${bareUs.toFixed(2)} us, bare B ${median(reps.map((r) => r.usPerPacket['bare B']!)).toFixed(2)} us`);
console.log(`ratio ours/bare+WebRtcServer (capacity; bare us/pkt / ours us/pkt): ${summary(reps.map((r) => r.ratio))}  ${median(reps.map((r) => r.ratio)) >= 0.95 ? 'OK (>= 0.95)' : 'BELOW 0.95'}`);
console.log(`A/A bare/bare B (noise floor): ${summary(reps.map((r) => r.aa))}`);
console.log(`node process CPU (ours, outside the worker): ${summary(reps.map((r) => r.nodePer100))} % of a core per 100 receivers`);
console.log(`consumers of this stream at 85% of a core from CPU per packet alone: ours ~${Math.round(0.85 / (oursUs * 1e-6 * PPS))}, bare ~${Math.round(0.85 / (bareUs * 1e-6 * PPS))}`);
process.exit(0);
