// /check: a connection check. Two SDK clients in this page join a fresh demo room through this node: one publishes
// camera and microphone, the other receives them, so "my own media back through the server" is measured end to end
// with the unmodified SDK. Each step passes or fails with a hint naming what to look at.
import { FishjamClient } from '@fishjam-dev/ts-client';
import { byId, decorateHeader, el, randomId, requestDemoPeer, signalingOfThisNode } from './page-common.js';

type StepId = 'signalling' | 'turn' | 'ice' | 'publish' | 'receive' | 'quality';
type Status = 'pending' | 'running' | 'pass' | 'fail' | 'skipped';

const STEPS: ReadonlyArray<{ id: StepId; title: string; hint: string }> = [
  { id: 'signalling', title: 'Signalling socket', hint: 'The peer websocket (/socket/peer/websocket) did not open or authenticate. A proxy in front of the node must pass WebSocket upgrades.' },
  { id: 'turn', title: 'TURN relay', hint: 'No relay candidate from the node\'s TURN server. Its port (FJ_WEBRTC_TURN_PORT, 3478 by default, UDP and TCP) must be reachable from here, and FJ_WEBRTC_TURN_IP must be an address this browser can reach.' },
  { id: 'ice', title: 'ICE connection', hint: 'The media connection did not come up. The SDK sends media through TURN only: check the TURN port and relay range (FJ_WEBRTC_TURN_PORT_RANGE) and that the TURN server can reach FJ_WEBRTC_MIN_PORT..FJ_WEBRTC_MAX_PORT.' },
  { id: 'publish', title: 'Publish audio and video', hint: 'Nothing was sent. Allow the camera and microphone for this page, and check no firewall drops the media once connected.' },
  { id: 'receive', title: 'Receive your media back', hint: 'The server did not forward your media to a second connection. Check the node\'s logs and that FJ_WEBRTC_ANNOUNCED_IP is right.' },
  { id: 'quality', title: 'Round-trip time and bitrate', hint: 'No round-trip time or incoming bitrate could be measured: the connection is up but carries nothing.' },
];

const items = new Map<StepId, { li: HTMLElement; icon: HTMLElement; detail: HTMLElement; hint: HTMLElement; status: HTMLElement }>();
const results = new Map<StepId, Status>();
let running = false;

function renderSteps(): void {
  items.clear();
  results.clear();
  byId('steps').replaceChildren(
    ...STEPS.map((s, i) => {
      const icon = el('span', { class: 'icon', 'aria-hidden': 'true' }, String(i + 1));
      const detail = el('div', { class: 'detail' }, 'Waiting');
      const hint = el('div', { class: 'hint' });
      hint.hidden = true;
      const status = el('span', { class: 'status' }, 'pending');
      const li = el('li', { 'data-step': s.id, 'data-status': 'pending' }, icon, el('div', {}, el('div', { class: 'title' }, s.title), detail, hint), status);
      items.set(s.id, { li, icon, detail, hint, status });
      results.set(s.id, 'pending');
      return li;
    }),
  );
  byId('summary').textContent = '';
  byId('summary').className = 'summary';
}

function set(id: StepId, status: Status, detail: string): void {
  const item = items.get(id)!;
  results.set(id, status);
  item.li.dataset.status = status;
  item.status.textContent = status;
  item.detail.textContent = detail;
  item.icon.textContent = status === 'pass' ? '✓' : status === 'fail' ? '✕' : status === 'skipped' ? '–' : item.icon.textContent;
  item.hint.hidden = status !== 'fail';
  item.hint.textContent = status === 'fail' ? STEPS.find((s) => s.id === id)!.hint : '';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(150);
  }
  return undefined;
}

/** The SDK's own RTCPeerConnection: where its ICE servers (the node's TURN, with credentials) and ICE state live. */
function connectionOf(client: FishjamClient<unknown, unknown>): RTCPeerConnection | undefined {
  return (client as unknown as { webrtc?: { connection?: RTCPeerConnection } }).webrtc?.connection;
}

async function join(room: string, name: string): Promise<FishjamClient<unknown, unknown>> {
  const { token } = await requestDemoPeer(room);
  const client = new FishjamClient<unknown, unknown>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer within 8 s')), 8000);
    client.on('joined', () => (clearTimeout(timer), resolve()));
    client.on('authError', (r) => (clearTimeout(timer), reject(new Error(`authentication failed: ${r}`))));
    client.on('joinError', () => (clearTimeout(timer), reject(new Error('the room refused the peer'))));
    client.on('socketError', () => (clearTimeout(timer), reject(new Error('socket error'))));
    client.connect({ token, peerMetadata: { name }, signaling: signalingOfThisNode() });
  });
  return client;
}

/** Gathers candidates with the node's TURN servers alone: a relay candidate means TURN answered and allocated. */
async function probeTurn(iceServers: RTCIceServer[], timeoutMs: number): Promise<RTCIceCandidate | undefined> {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  try {
    const found = new Promise<RTCIceCandidate | undefined>((resolve) => {
      pc.addEventListener('icecandidate', (e) => {
        if (e.candidate?.type === 'relay') resolve(e.candidate);
        if (!e.candidate) resolve(undefined); // gathering complete without a relay
      });
      setTimeout(() => resolve(undefined), timeoutMs);
    });
    pc.createDataChannel('turn-probe');
    await pc.setLocalDescription(await pc.createOffer());
    return await found;
  } finally {
    pc.close();
  }
}

interface Totals {
  videoFrames: number;
  audioPackets: number;
  bytes: number;
  rttMs: number | undefined;
}

async function totals(client: FishjamClient<unknown, unknown>, direction: 'inbound-rtp' | 'outbound-rtp'): Promise<Totals> {
  const stats = await client.getStatistics();
  const t: Totals = { videoFrames: 0, audioPackets: 0, bytes: 0, rttMs: undefined };
  stats.forEach((s: Record<string, unknown> & { type: string }) => {
    if (s.type === direction) {
      if (s.kind === 'video') t.videoFrames += Number(direction === 'inbound-rtp' ? s.framesDecoded : s.framesEncoded) || 0;
      if (s.kind === 'audio') t.audioPackets += Number(direction === 'inbound-rtp' ? s.packetsReceived : s.packetsSent) || 0;
      t.bytes += Number(direction === 'inbound-rtp' ? s.bytesReceived : s.bytesSent) || 0;
    }
    if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number') t.rttMs = s.currentRoundTripTime * 1000;
  });
  return t;
}

async function localMedia(): Promise<{ stream: MediaStream; note: string }> {
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } }), note: 'camera and microphone' };
  } catch {
    // No camera permission still lets the network be checked: a drawn test pattern stands in for the camera.
    const canvas = el('canvas', { width: '320', height: '240' });
    const g = canvas.getContext('2d')!;
    let frame = 0;
    const stream = canvas.captureStream(15);
    const timer = setInterval(() => {
      if (stream.getVideoTracks()[0]?.readyState !== 'live') return clearInterval(timer);
      g.fillStyle = `hsl(${frame++ % 360} 70% 45%)`;
      g.fillRect(0, 0, 320, 240);
    }, 66);
    return { stream, note: 'a test pattern (no camera permission)' };
  }
}

async function run(): Promise<void> {
  if (running) return;
  running = true;
  byId<HTMLButtonElement>('run').disabled = true;
  renderSteps();
  const room = `check-${randomId(6)}`;
  const clients: Array<FishjamClient<unknown, unknown>> = [];
  let stream: MediaStream | undefined;
  const skipRest = (from: StepId) => {
    for (const s of STEPS.slice(STEPS.findIndex((x) => x.id === from))) if (results.get(s.id) === 'pending') set(s.id, 'skipped', 'Not run: an earlier step failed');
  };
  try {
    // 1. signalling
    set('signalling', 'running', 'Opening the peer websocket…');
    const started = performance.now();
    let sender: FishjamClient<unknown, unknown>;
    let receiver: FishjamClient<unknown, unknown>;
    try {
      sender = await join(room, 'check (sender)');
      clients.push(sender);
      receiver = await join(room, 'check (receiver)');
      clients.push(receiver);
    } catch (error) {
      set('signalling', 'fail', `Could not join: ${(error as Error).message}`);
      return skipRest('turn');
    }
    set('signalling', 'pass', `Two peers joined room ${room} in ${Math.round(performance.now() - started)} ms`);

    const media = await localMedia();
    stream = media.stream;
    const audio = stream.getAudioTracks()[0];
    let backVideo: MediaStreamTrack | undefined;
    let backAudio = false;
    receiver.on('trackReady', (ctx) => {
      if (ctx.track?.kind === 'video') {
        backVideo = ctx.track;
        const v = byId<HTMLVideoElement>('loopback');
        v.srcObject = new MediaStream([ctx.track]);
        void v.play().catch(() => undefined);
      }
      if (ctx.track?.kind === 'audio') backAudio = true;
    });
    // Not awaited: the SDK resolves addTrack only once the track is negotiated, which never happens when ICE fails;
    // the steps below wait for what they need with their own time limits.
    let addError: string | undefined;
    for (const track of stream.getTracks()) sender.addTrack(track, stream, { kind: track.kind }).catch((e: Error) => (addError = e.message));

    // 2. TURN: with the ICE servers the node gave the SDK
    set('turn', 'running', 'Asking the node\'s TURN server for a relay…');
    const pc = await until(() => connectionOf(sender), 8000);
    const iceServers = pc?.getConfiguration().iceServers ?? [];
    const turnUrls = iceServers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
    const relay = iceServers.length ? await probeTurn(iceServers, 6000) : undefined;
    if (relay) set('turn', 'pass', `Relay ${relay.address ?? '?'}:${relay.port ?? '?'} (${(relay as RTCIceCandidate & { relayProtocol?: string }).relayProtocol ?? relay.protocol ?? '?'}) from ${turnUrls.join(', ')}`);
    else set('turn', 'fail', iceServers.length ? `No relay candidate within 6 s from ${turnUrls.join(', ')}` : 'The node offered no TURN server');

    // 3. ICE
    set('ice', 'running', 'Connecting…');
    const iceStarted = performance.now();
    const state = await until(() => {
      const s = connectionOf(sender)?.iceConnectionState;
      return s === 'connected' || s === 'completed' || s === 'failed' ? s : undefined;
    }, 15_000);
    if (state !== 'connected' && state !== 'completed') {
      set('ice', 'fail', `ICE ${state ?? connectionOf(sender)?.iceConnectionState ?? 'did not start'} after ${Math.round((performance.now() - iceStarted) / 1000)} s`);
      return skipRest('publish');
    }
    set('ice', 'pass', `Connected in ${Math.round(performance.now() - iceStarted)} ms`);

    // 4. publish
    set('publish', 'running', `Sending ${media.note}…`);
    const sent = await until(async () => {
      const t = await totals(sender, 'outbound-rtp');
      return t.videoFrames > 0 && (t.audioPackets > 0 || !audio) ? t : undefined;
    }, 10_000);
    if (!sent) {
      set('publish', 'fail', `No audio or video left this browser within 10 s${addError ? ` (${addError})` : ''}`);
      return skipRest('receive');
    }
    set('publish', 'pass', `Sending ${media.note}: ${sent.videoFrames} video frames, ${sent.audioPackets} audio packets so far`);

    // 5. receive back
    set('receive', 'running', 'Waiting for your media to come back…');
    const got = await until(async () => {
      const t = await totals(receiver, 'inbound-rtp');
      return backVideo && t.videoFrames > 0 && (backAudio || !audio) && (t.audioPackets > 0 || !audio) ? t : undefined;
    }, 15_000);
    if (!got) {
      set('receive', 'fail', `Nothing came back within 15 s (video track ${backVideo ? 'announced' : 'not announced'}, audio ${backAudio ? 'announced' : 'not announced'})`);
      return skipRest('quality');
    }
    set('receive', 'pass', `Received ${got.videoFrames} video frames and ${got.audioPackets} audio packets of your own media`);

    // 6. RTT and bitrate over two seconds
    set('quality', 'running', 'Measuring for 2 s…');
    const [out0, in0] = [await totals(sender, 'outbound-rtp'), await totals(receiver, 'inbound-rtp')];
    const t0 = performance.now();
    await sleep(2000);
    const [out1, in1] = [await totals(sender, 'outbound-rtp'), await totals(receiver, 'inbound-rtp')];
    const seconds = (performance.now() - t0) / 1000;
    const upKbps = ((out1.bytes - out0.bytes) * 8) / seconds / 1000;
    const downKbps = ((in1.bytes - in0.bytes) * 8) / seconds / 1000;
    const rtt = out1.rttMs ?? in1.rttMs;
    const detail = `RTT ${rtt === undefined ? 'unknown' : `${Math.round(rtt)} ms`} · sending ${Math.round(upKbps)} kbit/s · receiving ${Math.round(downKbps)} kbit/s`;
    byId('steps').dataset.rttMs = rtt === undefined ? '' : String(Math.round(rtt));
    byId('steps').dataset.downKbps = String(Math.round(downKbps));
    set('quality', rtt !== undefined && downKbps > 0 ? 'pass' : 'fail', detail);
  } catch (error) {
    const current = STEPS.find((s) => results.get(s.id) === 'running');
    if (current) set(current.id, 'fail', `Unexpected error: ${(error as Error).message}`);
  } finally {
    for (const c of clients) c.disconnect();
    for (const t of stream?.getTracks() ?? []) t.stop();
    const failed = STEPS.filter((s) => results.get(s.id) === 'fail');
    const summary = byId('summary');
    summary.className = `summary ${failed.length ? 'fail' : 'pass'}`;
    summary.textContent = failed.length ? `Failed: ${failed.map((s) => s.title).join(', ')}` : 'All steps passed: this browser can use this node.';
    byId('steps').dataset.done = 'true';
    byId<HTMLButtonElement>('run').disabled = false;
    running = false;
  }
}

function main(): void {
  void decorateHeader();
  byId('run').addEventListener('click', () => void run());
  void run();
}

main();
