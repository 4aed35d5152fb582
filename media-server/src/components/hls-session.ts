// One run of the HLS ffmpeg over a fixed set of tracks: a PlainTransport consumer per track sending to its own
// loopback port, ffmpeg reading the SDP that describes them (on stdin: no file, nothing on the command line) and
// writing the HLS files, and the keyframe requests a passed-through video needs (ffmpeg can only cut segments at
// keyframes and start decoding at one). When the set of tracks changes the caller stops this run and starts another.
import type { types } from 'mediasoup';
import type { RoomMedia } from '../sfu/room-media.js';
import { FFMPEG_RTP_ADDRESS, hlsFfmpegArgs, hlsSdp, type HlsInput, type HlsOutput } from './hls-ffmpeg-command.js';
import { startSupervised, type Exit, type SupervisedProcess } from './supervised-process.js';
import { reservePortPairs } from './udp-ports.js';

export interface SourceTrack {
  /** the peer or component publishing it */
  readonly ownerId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly producer: types.Producer;
  /** the track's metadata says `"type": "screenshare"` (it takes the main area of a composed picture) */
  readonly screenshare: boolean;
}

/** Keyframes asked for this often until the first segment exists (ffmpeg may have missed the first ones while starting). */
const STARTUP_KEYFRAME_MS = 1000;
/** Then this often for a passed-through video: segments (6 s) end at the first keyframe past their target. */
const PASSTHROUGH_KEYFRAME_MS = 2000;
/** A composed picture is re-encoded with its own keyframes; its decoders only need one now and then after a loss. */
const COMPOSED_KEYFRAME_MS = 10_000;
const LL_PASSTHROUGH_KEYFRAME_MS = 1000;

export class HlsSession {
  private keyframeTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** its ffmpeg (for the node's CPU accounting) */
  get pid(): number | undefined {
    return this.process.pid;
  }

  private constructor(
    private readonly transports: types.PlainTransport[],
    private readonly consumers: types.Consumer[],
    private readonly process: SupervisedProcess,
    private readonly lowLatency: boolean,
  ) {}

  /** Throws when a consumer cannot be made or ffmpeg cannot start; then nothing is left behind. */
  static async start(
    media: RoomMedia,
    tracks: readonly SourceTrack[],
    output: HlsOutput,
    ffmpegPath: string,
    componentId: string,
    lowLatency: boolean,
    onStdout: (chunk: Buffer) => void,
  ): Promise<HlsSession> {
    const { ports, release } = await reservePortPairs(tracks.length, FFMPEG_RTP_ADDRESS);
    const transports: types.PlainTransport[] = [];
    const consumers: types.Consumer[] = [];
    const inputs: HlsInput[] = [];
    try {
      // video first, then audio: the ffmpeg command maps streams by kind and order
      const ordered = [...tracks.filter((t) => t.kind === 'video'), ...tracks.filter((t) => t.kind === 'audio')];
      for (const [i, track] of ordered.entries()) {
        const port = ports[i]!;
        const { transport, consumer } = await media.createPlainConsumer(track.producer.id, { ip: FFMPEG_RTP_ADDRESS, port }, { componentId, trackId: track.trackId });
        transports.push(transport);
        consumers.push(consumer);
        const codec = consumer.rtpParameters.codecs[0]!;
        inputs.push({
          kind: track.kind,
          port,
          payloadType: codec.payloadType,
          mimeType: codec.mimeType,
          clockRate: codec.clockRate,
          channels: codec.channels,
          fmtp: codec.parameters as Record<string, string | number> | undefined,
          screenshare: track.screenshare,
        });
      }
      release();
      const process = startSupervised(ffmpegPath, hlsFfmpegArgs(inputs, output), { stdinText: hlsSdp(inputs), onStdout });
      const session = new HlsSession(transports, consumers, process, lowLatency);
      session.scheduleKeyframes(STARTUP_KEYFRAME_MS);
      return session;
    } catch (error) {
      release();
      for (const t of transports) t.close();
      throw error;
    }
  }

  get exited(): Promise<Exit> {
    return this.process.exited;
  }

  stderrTail(): string {
    return this.process.stderrTail();
  }

  /** The first segment exists: from now on keyframes only as segments need them. */
  playable(): void {
    const videos = this.consumers.filter((c) => c.kind === 'video').length;
    // low latency: segments of ~2 s need a keyframe every second or so
    this.scheduleKeyframes(videos !== 1 ? COMPOSED_KEYFRAME_MS : this.lowLatency ? LL_PASSTHROUGH_KEYFRAME_MS : PASSTHROUGH_KEYFRAME_MS);
  }

  /** ffmpeg is asked to finish (SIGTERM: it writes out what it has), then the consumers go. */
  async stop(): Promise<Exit> {
    this.stopped = true;
    clearInterval(this.keyframeTimer);
    const exit = await this.process.stop();
    for (const t of this.transports) t.close();
    return exit;
  }

  /** Closes the consumers at once (the process is stopped by stop()). */
  closeMedia(): void {
    clearInterval(this.keyframeTimer);
    for (const t of this.transports) t.close();
  }

  private scheduleKeyframes(everyMs: number): void {
    clearInterval(this.keyframeTimer);
    if (this.stopped) return;
    const ask = () => {
      for (const c of this.consumers) if (c.kind === 'video' && !c.closed) void c.requestKeyFrame().catch(() => undefined);
    };
    ask();
    this.keyframeTimer = setInterval(ask, everyMs);
    this.keyframeTimer.unref();
  }
}
