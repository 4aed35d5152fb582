// Synthetic media for load clients and benchmarks: VP8-shaped video (frames of several packets, key frames at an
// interval, so a consumer can start at once) and opus-shaped audio (one 20 ms packet), written to werift tracks.
// A pump can be started and stopped any number of times; sequence numbers and timestamps carry on.
import { RtpHeader, RtpPacket, type MediaStreamTrack } from 'werift';

export interface VideoShape {
  fps: number;
  packetsPerFrame: number;
  packetBytes: number;
  keyFrameEvery: number;
}

/** About 1.3 Mbit/s: 30 fps x 5 packets x 1100 B. */
export const DEFAULT_VIDEO: VideoShape = { fps: 30, packetsPerFrame: 5, packetBytes: 1100, keyFrameEvery: 30 };

/** The shape of a VP8 stream of about `kbps` (1100-byte packets, 30 fps, at least one packet a frame). */
export function videoShapeFor(kbps: number): VideoShape {
  const packetsPerFrame = Math.max(1, Math.round((kbps * 1000) / 8 / 30 / 1100));
  return { ...DEFAULT_VIDEO, packetsPerFrame };
}

export interface Pump {
  start(): void;
  stop(): void;
  readonly running: boolean;
  /** RTP packets written so far */
  readonly sent: number;
  /** the next frame is a key frame (a PLI or FIR came in); audio ignores it */
  keyFrame(): void;
}

/**
 * Ticks every `intervalMs` by the wall clock: a late timer (a busy process, a loaded machine) is made up for with one
 * extra tick at most, and a longer stall is skipped: bursts after a stall lose packets at the receiving sockets
 * (measured: up to 5 ticks at once took the rate to 80% of nominal on a loaded machine and the loss from 2% to 24%).
 * The report shows the rate publishers really sent.
 */
function pump(intervalMs: number, tick: () => number, keyFrame: () => void = () => undefined): Pump {
  let timer: NodeJS.Timeout | undefined;
  let sent = 0;
  let startedAt = 0;
  let ticks = 0;
  return {
    start() {
      if (timer) return;
      startedAt = performance.now();
      ticks = 0;
      timer = setInterval(() => {
        const due = Math.floor((performance.now() - startedAt) / intervalMs) - ticks;
        for (let i = 0; i < Math.min(due, 2); i++) sent += tick();
        ticks += Math.max(0, due);
      }, intervalMs);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    get running() {
      return timer !== undefined;
    },
    get sent() {
      return sent;
    },
    keyFrame,
  };
}

/**
 * VP8-shaped RTP: `fps` frames of `packetsPerFrame` packets; the first packet of a frame starts a partition (S=1),
 * every keyFrameEvery-th frame is a key frame (P=0 and the key frame start code, 1280x720).
 */
export function vp8Pump(track: MediaStreamTrack, shape: VideoShape = DEFAULT_VIDEO, payloadType = 96): Pump {
  let seq = 1;
  let timestamp = 0;
  let frame = 0;
  let keyRequested = false;
  const body = Buffer.alloc(shape.packetBytes - 12, 0x5a);
  return pump(1000 / shape.fps, () => {
    const key = frame % shape.keyFrameEvery === 0 || keyRequested;
    keyRequested = false;
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
    return shape.packetsPerFrame;
  }, () => void (keyRequested = true));
}

/** Opus-shaped RTP: one 80-byte packet every 20 ms. */
export function opusPump(track: MediaStreamTrack, payloadType = 111): Pump {
  let seq = 1;
  let timestamp = 0;
  const body = Buffer.alloc(80, 0x5a);
  return pump(20, () => {
    timestamp += 960;
    track.writeRtp(new RtpPacket(new RtpHeader({ payloadType, sequenceNumber: seq++ & 0xffff, timestamp: timestamp >>> 0, marker: false }), Buffer.from(body)));
    return 1;
  });
}
