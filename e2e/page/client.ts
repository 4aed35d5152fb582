// Runs in Chromium: the unmodified @fishjam-dev/ts-client 0.5.0, joined with fake camera and microphone.
// The test drives it through window.fishjam and reads WebRTC statistics from the SDK's own RTCPeerConnection.
import { FishjamClient } from '@fishjam-dev/ts-client';

interface JoinOptions {
  host: string;
  token: string;
  name: string;
  audio: boolean;
  video: boolean;
  simulcast: boolean;
  /** camera size asked of the fake device (default 640x480: three simulcast layers, 640, 320 and 160 wide) */
  videoSize?: { width: number; height: number };
}

const log: string[] = [];
let client: FishjamClient<any, any> | undefined;
const remote = new Map<string, { kind: string; endpointId: string; encoding?: string; mediaTrackId?: string }>();

function note(line: string): void {
  log.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
}

async function join(o: JoinOptions): Promise<string> {
  client = new FishjamClient();
  const joined = new Promise<string>((resolve, reject) => {
    client!.on('joined', (peerId: string) => resolve(peerId));
    client!.on('joinError', (e: unknown) => reject(new Error(`joinError ${JSON.stringify(e)}`)));
    client!.on('authError', (reason: string) => reject(new Error(`authError ${reason}`)));
    setTimeout(() => reject(new Error('join timed out')), 15_000);
  });
  client.on('socketClose', (e: CloseEvent) => note(`socketClose ${e.code} ${e.reason}`));
  client.on('peerJoined', (p: { id: string }) => note(`peerJoined ${p.id}`));
  client.on('peerLeft', (p: { id: string }) => note(`peerLeft ${p.id}`));
  client.on('trackReady', (ctx: any) => {
    remote.set(ctx.trackId, { kind: ctx.track?.kind ?? '?', endpointId: ctx.endpoint.id, mediaTrackId: ctx.track?.id });
    note(`trackReady ${ctx.trackId} ${ctx.track?.kind}`);
    ctx.on?.('encodingChanged', (c: any) => {
      const r = remote.get(c.trackId);
      if (r) r.encoding = c.encoding;
      note(`encodingChanged ${c.trackId} ${c.encoding}`);
    });
  });
  client.on('trackRemoved', (ctx: any) => {
    remote.delete(ctx.trackId);
    note(`trackRemoved ${ctx.trackId}`);
  });
  client.connect({ token: o.token, peerMetadata: { name: o.name }, signaling: { host: o.host, protocol: 'ws' } });
  // The client passes on peers' tracks only; a component's (File, RTSP, SIP) come from its WebRTC endpoint.
  const endpoint = (client as any).webrtc;
  endpoint?.on('trackReady', (ctx: any) => {
    if (ctx.endpoint?.type === 'webrtc') return;
    remote.set(ctx.trackId, { kind: ctx.track?.kind ?? '?', endpointId: ctx.endpoint.id, mediaTrackId: ctx.track?.id });
    note(`trackReady ${ctx.trackId} ${ctx.track?.kind} (component ${ctx.endpoint?.type})`);
    // played, so that Chromium decodes it and reports its energy (the test launches it with autoplay allowed)
    if (ctx.track?.kind === 'audio') {
      const element = new Audio();
      element.srcObject = new MediaStream([ctx.track]);
      void element.play().catch((e: Error) => note(`audio play: ${e.message}`));
    }
  });
  endpoint?.on('trackRemoved', (ctx: any) => {
    if (ctx.endpoint?.type === 'webrtc') return;
    remote.delete(ctx.trackId);
    note(`trackRemoved ${ctx.trackId} (component)`);
  });
  const peerId = await joined;
  note(`joined ${peerId}`);
  if (!o.audio && !o.video) return peerId; // receive only
  const stream = await navigator.mediaDevices.getUserMedia({ audio: o.audio, video: o.video ? (o.videoSize ?? { width: 640, height: 480 }) : false });
  for (const track of stream.getTracks()) {
    const simulcast = track.kind === 'video' && o.simulcast;
    await client.addTrack(
      track,
      stream,
      { kind: track.kind },
      simulcast ? { enabled: true, activeEncodings: ['l', 'm', 'h'], disabledEncodings: [] } : undefined,
      simulcast ? new Map([['l', 150], ['m', 500], ['h', 1500]]) as any : undefined,
    );
    note(`added ${track.kind}`);
  }
  return peerId;
}

/** Inbound media as the SDK's own peer connection sees it. */
async function inbound(): Promise<{ videoFramesDecoded: number; audioPackets: number; videoTracks: number; audioTracks: number; frameWidth: number }> {
  const stats: RTCStatsReport = await (client as any).webrtc.getStatistics();
  let videoFramesDecoded = 0;
  let audioPackets = 0;
  let frameWidth = 0;
  stats.forEach((s: any) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'video') {
      videoFramesDecoded += s.framesDecoded ?? 0;
      frameWidth = Math.max(frameWidth, s.frameWidth ?? 0);
    }
    if (s.kind === 'audio') audioPackets += s.packetsReceived ?? 0;
  });
  const kinds = [...remote.values()].map((r) => r.kind);
  return { videoFramesDecoded, audioPackets, videoTracks: kinds.filter((k) => k === 'video').length, audioTracks: kinds.filter((k) => k === 'audio').length, frameWidth };
}

function remoteTracks(): Array<{ trackId: string; kind: string; endpointId: string; encoding?: string }> {
  return [...remote.entries()].map(([trackId, r]) => ({ trackId, kind: r.kind, endpointId: r.endpointId, encoding: r.encoding }));
}

/** What this peer decodes of one remote video track (by the SDK's track id), from its inbound-rtp statistics. */
async function remoteVideo(trackId: string): Promise<{ frameWidth: number; frameHeight: number; framesDecoded: number; framesPerSecond: number } | undefined> {
  const mediaTrackId = remote.get(trackId)?.mediaTrackId;
  if (!mediaTrackId) return undefined;
  const stats: RTCStatsReport = await (client as any).webrtc.getStatistics();
  let found: { frameWidth: number; frameHeight: number; framesDecoded: number; framesPerSecond: number } | undefined;
  stats.forEach((s: any) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video' || s.trackIdentifier !== mediaTrackId) return;
    found = { frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0, framesDecoded: s.framesDecoded ?? 0, framesPerSecond: s.framesPerSecond ?? 0 };
  });
  return found;
}

/** What this peer receives of one remote audio track (by the SDK's track id): packets and decoded energy. */
async function remoteAudio(trackId: string): Promise<{ packetsReceived: number; totalAudioEnergy: number; audioLevel: number } | undefined> {
  const mediaTrackId = remote.get(trackId)?.mediaTrackId;
  if (!mediaTrackId) return undefined;
  const stats: RTCStatsReport = await (client as any).webrtc.getStatistics();
  let found: { packetsReceived: number; totalAudioEnergy: number; audioLevel: number } | undefined;
  stats.forEach((s: any) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'audio' || s.trackIdentifier !== mediaTrackId) return;
    found = { packetsReceived: s.packetsReceived ?? 0, totalAudioEnergy: s.totalAudioEnergy ?? 0, audioLevel: s.audioLevel ?? 0 };
  });
  return found;
}

/** The simulcast layers this peer is sending now, from its outbound-rtp statistics. */
async function sentLayers(): Promise<Array<{ rid: string; frameWidth: number; framesEncoded: number; framesPerSecond: number; qualityLimitationReason: string }>> {
  const stats: RTCStatsReport = await (client as any).webrtc.getStatistics();
  const out: Array<{ rid: string; frameWidth: number; framesEncoded: number; framesPerSecond: number; qualityLimitationReason: string }> = [];
  stats.forEach((s: any) => {
    if (s.type !== 'outbound-rtp' || s.kind !== 'video') return;
    out.push({ rid: s.rid ?? '', frameWidth: s.frameWidth ?? 0, framesEncoded: s.framesEncoded ?? 0, framesPerSecond: s.framesPerSecond ?? 0, qualityLimitationReason: s.qualityLimitationReason ?? '' });
  });
  return out;
}

function setTargetEncoding(trackId: string, encoding: string): void {
  (client as any).setTargetTrackEncoding(trackId, encoding);
}

function leave(): void {
  client?.disconnect();
}

/** The SDK's peer connection state, for failure reports. */
function connectionState(): Record<string, unknown> {
  const pc: RTCPeerConnection | undefined = (client as any)?.webrtc?.connection;
  return {
    connection: pc?.connectionState,
    ice: pc?.iceConnectionState,
    signaling: pc?.signalingState,
    local: pc?.localDescription?.sdp,
    remote: pc?.remoteDescription?.sdp,
  };
}

async function rawStats(): Promise<unknown[]> {
  const stats: RTCStatsReport = await (client as any).webrtc.getStatistics();
  const out: unknown[] = [];
  stats.forEach((s: any) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.push(s);
    if (s.type === 'outbound-rtp' && s.kind === 'video') out.push({ type: s.type, framesEncoded: s.framesEncoded, frameWidth: s.frameWidth, nackCount: s.nackCount, pliCount: s.pliCount, firCount: s.firCount, qualityLimitationReason: s.qualityLimitationReason, targetBitrate: s.targetBitrate, packetsSent: s.packetsSent });
    if (s.type === 'candidate-pair' && s.nominated) out.push({ type: s.type, availableOutgoingBitrate: s.availableOutgoingBitrate, currentRoundTripTime: s.currentRoundTripTime });
  });
  return out;
}

(window as any).fishjam = { rawStats, join, inbound, remoteTracks, remoteVideo, remoteAudio, sentLayers, setTargetEncoding, leave, log, connectionState };

// --- join latency (media-server/bench/webrtc-join.ts) -------------------------------------------------------------

interface TimedJoinOptions {
  host: string;
  token: string;
  name: string;
  timeoutMs: number;
}

/**
 * Joins as a receive-only peer with its own SDK client and times, from the websocket's `open`: `joined`, the first
 * remote video trackReady, the first decoded frame seen by getStats (framesDecoded > 0, polled every 10 ms) and the
 * first frame presented in a <video> element (requestVideoFrameCallback). Milliseconds; -1 when not reached.
 */
async function timedJoin(o: TimedJoinOptions): Promise<{ joined: number; trackReady: number; firstDecoded: number; firstRendered: number }> {
  const timed = new FishjamClient<any, any>();
  const result = { joined: -1, trackReady: -1, firstDecoded: -1, firstRendered: -1 };
  let opened = -1;
  const since = (): number => performance.now() - opened;
  timed.on('socketOpen', () => (opened = performance.now()));
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed join: no frame within ${o.timeoutMs} ms ${JSON.stringify(result)}`)), o.timeoutMs);
    const finish = (): void => {
      if (result.firstDecoded >= 0 && result.firstRendered >= 0) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      }
    };
    const poll = setInterval(async () => {
      if (opened < 0 || result.firstDecoded >= 0) return;
      const pc: RTCPeerConnection | undefined = (timed as any).webrtc?.connection;
      if (!pc) return;
      const stats = await pc.getStats();
      stats.forEach((s: any) => {
        if (result.firstDecoded < 0 && s.type === 'inbound-rtp' && s.kind === 'video' && (s.framesDecoded ?? 0) > 0) result.firstDecoded = since();
      });
      finish();
    }, 10);
    timed.on('joined', () => (result.joined = since()));
    timed.on('joinError', (e: unknown) => reject(new Error(`joinError ${JSON.stringify(e)}`)));
    timed.on('authError', (reason: string) => reject(new Error(`authError ${reason}`)));
    timed.on('trackReady', (ctx: any) => {
      if (ctx.track?.kind !== 'video' || result.trackReady >= 0) return;
      result.trackReady = since();
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      video.playsInline = true;
      video.srcObject = ctx.stream;
      document.body.appendChild(video);
      video.requestVideoFrameCallback(() => {
        result.firstRendered = since();
        finish();
      });
      void video.play().catch(() => undefined);
    });
  });
  timed.connect({ token: o.token, peerMetadata: { name: o.name }, signaling: { host: o.host, protocol: 'ws' } });
  try {
    await done;
    return result;
  } finally {
    timed.disconnect();
  }
}

(window as any).fishjam.timedJoin = timedJoin;
