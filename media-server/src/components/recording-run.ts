// One run of the Recording ffmpeg over a fixed set of tracks: a PlainTransport consumer per track sending to its own
// loopback port, ffmpeg reading the SDP that describes them on stdin and copying every track into one MPEG-TS file,
// and keyframe requests for the videos (a copied video can only start at a keyframe; later ones help seeking).
import type { types } from 'mediasoup';
import type { RoomMedia } from '../sfu/room-media.js';
import { FFMPEG_RTP_ADDRESS, hlsSdp, type HlsInput } from './hls-ffmpeg-command.js';
import type { SourceTrack } from './hls-session.js';
import { recordingFfmpegArgs } from './recording-ffmpeg-command.js';
import { startSupervised, type Exit, type SupervisedProcess } from './supervised-process.js';
import { reservePortPairs } from './udp-ports.js';

/** Keyframes asked for every second at first (ffmpeg may miss the first while starting), then now and then. */
const STARTUP_KEYFRAME_MS = 1000;
const STARTUP_KEYFRAMES = 6;
const STEADY_KEYFRAME_MS = 10_000;
/** The second SIGTERM (see stop()); the supervisor's SIGKILL comes at 2 s. */
const SECOND_SIGNAL_MS = 400;

export interface RecordedTrack {
  readonly ownerId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  /** e.g. video/H264, audio/opus */
  readonly mimeType: string;
}

export class RecordingRun {
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
    /** in the file's stream order */
    readonly tracks: readonly RecordedTrack[],
  ) {}

  /** Throws when a consumer cannot be made; then nothing is left behind. */
  static async start(media: RoomMedia, tracks: readonly SourceTrack[], outputFile: string, ffmpegPath: string, componentId: string): Promise<RecordingRun> {
    const { ports, release } = await reservePortPairs(tracks.length, FFMPEG_RTP_ADDRESS);
    const transports: types.PlainTransport[] = [];
    const consumers: types.Consumer[] = [];
    const inputs: HlsInput[] = [];
    const recorded: RecordedTrack[] = [];
    try {
      // video first, then audio: the converter takes the first video and mixes the audio tracks
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
        });
        recorded.push({ ownerId: track.ownerId, trackId: track.trackId, kind: track.kind, mimeType: codec.mimeType });
      }
      release();
      const process = startSupervised(ffmpegPath, recordingFfmpegArgs(inputs, outputFile), { stdinText: hlsSdp(inputs) });
      const run = new RecordingRun(transports, consumers, process, recorded);
      run.askKeyframes();
      return run;
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

  /**
   * ffmpeg is asked to finish, then the consumers go. ffmpeg acts on a first SIGTERM only between packets: with no
   * packet coming (the tracks ended) it would wait for the supervisor's SIGKILL, so a second SIGTERM follows shortly,
   * which interrupts the read (the TS file needs no trailer: it is complete up to its last packet).
   */
  async stop(): Promise<Exit> {
    this.stopped = true;
    clearTimeout(this.keyframeTimer);
    const pid = this.process.pid;
    const again = setTimeout(() => {
      try {
        if (pid !== undefined) process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }, SECOND_SIGNAL_MS);
    const exit = await this.process.stop();
    clearTimeout(again);
    for (const t of this.transports) t.close();
    return exit;
  }

  closeMedia(): void {
    clearTimeout(this.keyframeTimer);
    for (const t of this.transports) t.close();
  }

  private askKeyframes(count = 0): void {
    if (this.stopped) return;
    for (const c of this.consumers) if (c.kind === 'video' && !c.closed) void c.requestKeyFrame().catch(() => undefined);
    this.keyframeTimer = setTimeout(() => this.askKeyframes(count + 1), count < STARTUP_KEYFRAMES ? STARTUP_KEYFRAME_MS : STEADY_KEYFRAME_MS);
    this.keyframeTimer.unref();
  }
}
