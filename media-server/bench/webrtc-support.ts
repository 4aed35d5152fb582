// Shared pieces of the WebRTC benchmarks: percentiles, process CPU from /proc, werift clients that receive cheaply,
// and a VP8-shaped RTP generator.
import { readdirSync, readFileSync } from 'node:fs';
import {
  RtpHeader,
  RtpPacket,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  MediaStreamTrack,
  useAbsSendTime,
  useNACK,
  usePLI,
  useSdesMid,
  useSdesRTPStreamId,
  useTransportWideCC,
  useTWCC,
} from 'werift';

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds a process has run so far, to the nanosecond: the sum of /proc/<pid>/task/<tid>/schedstat (first field:
 * time on a CPU) over its threads. /proc/<pid>/stat counts in 10 ms ticks, too coarse for 1 s slices.
 */
export function runSeconds(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e9;
  } catch {
    return cpuSeconds(pid);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A werift peer like the SDK's (VP8 + opus, BUNDLE, browser-like extensions). A `cheap` receiver drops incoming
 * SRTP before decrypting it (werift's debug.inboundPacketLoss: a packet is kept with probability loss/100), so
 * hundreds of receivers in this process cost little; ICE, DTLS and RTCP still run.
 */
export function benchPeer(cheap: boolean): RTCPeerConnection {
  return new RTCPeerConnection({
    bundlePolicy: 'max-bundle',
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, rtcpFeedback: [useTWCC()], parameters: 'minptime=10;useinbandfec=1' })],
      video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96, rtcpFeedback: [useTWCC(), useNACK(), usePLI()] })],
    },
    headerExtensions: {
      audio: [useAbsSendTime(), useTransportWideCC(), useSdesMid()],
      video: [useAbsSendTime(), useTransportWideCC(), useSdesMid(), useSdesRTPStreamId()],
    },
    ...(cheap ? { debug: { inboundPacketLoss: 1e-9 } } : {}),
  });
}

export function connected(pc: RTCPeerConnection, ms = 15_000): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      if (pc.connectionState === 'connected') return resolve();
      pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') resolve();
        if (state === 'failed') reject(new Error('werift peer connection failed'));
      });
    }),
    ms,
    'ICE and DTLS to connect',
  );
}

export interface StreamShape {
  fps: number;
  packetsPerFrame: number;
  packetBytes: number;
  keyFrameEvery: number;
}

export const STREAM: StreamShape = { fps: 30, packetsPerFrame: 5, packetBytes: 1100, keyFrameEvery: 30 };

/**
 * VP8-shaped RTP: `fps` frames of `packetsPerFrame` packets; the first packet of a frame starts a partition (S=1),
 * every keyFrameEvery-th frame is a key frame (P=0 and the key frame start code), so consumers can start at once.
 */
export function pumpVp8(track: MediaStreamTrack, shape: StreamShape = STREAM, payloadType = 96): () => void {
  let seq = 1;
  let timestamp = 0;
  let frame = 0;
  const body = Buffer.alloc(shape.packetBytes - 12, 0x5a);
  const timer = setInterval(() => {
    const key = frame % shape.keyFrameEvery === 0;
    timestamp += 90000 / shape.fps;
    for (let i = 0; i < shape.packetsPerFrame; i++) {
      const payload = Buffer.from(body);
      payload[0] = i === 0 ? 0x10 : 0x00; // VP8 payload descriptor: S bit on the first packet, partition 0
      if (i === 0) {
        // frame tag: P (bit 0) = 0 for a key frame; show_frame; then the key frame start code and 1280x720
        payload[1] = key ? 0x10 : 0x11;
        payload[2] = 0x02;
        payload[3] = 0x00;
        if (key) payload.set([0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02], 4);
      }
      const header = new RtpHeader({ payloadType, sequenceNumber: seq++ & 0xffff, timestamp: timestamp >>> 0, marker: i === shape.packetsPerFrame - 1 });
      track.writeRtp(new RtpPacket(header, payload));
    }
    frame++;
  }, 1000 / shape.fps);
  return () => clearInterval(timer);
}

export { MediaStreamTrack, RTCPeerConnection };
