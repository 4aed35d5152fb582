// One RTSP camera pulled into a room: a plain-RTP producer on the room's router, fed by a supervised ffmpeg
// (rtsp-ffmpeg-command.ts). As the original: until the camera has been reached, every failure is retried after
// `reconnectDelay`, forever; once video has flowed, the camera going away ends the camera as `lost` (the manager
// reports ComponentCrashed). "Reached" means the first RTP packet arrived at the producer, not merely an RTSP answer:
// a camera that answers but never delivers video is still being retried. Knows nothing of the domain.
import { randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { RoomMedia } from '../sfu/room-media.js';
import { producerRtpParameters } from './ffmpeg-rtp-command.js';
import { rtspConcatScript, rtspFfmpegArgs } from './rtsp-ffmpeg-command.js';
import { redactUri, type RtspSpec } from './rtsp-options.js';
import { startSupervised, type SupervisedProcess } from './supervised-process.js';

/** Floor of the delay between two attempts (reconnectDelay may be 0: that must not spawn ffmpeg in a tight loop). */
export const MIN_RETRY_DELAY_MS = 500;

export type CameraEnd = { kind: 'stopped' } | { kind: 'lost'; reason: string };

export class RtspCamera {
  /** resolves with the first video packet (never, if the camera is never reached) */
  readonly reached: Promise<void>;
  readonly ended: Promise<CameraEnd>;
  /** attempts made so far (tests and logs) */
  attempts = 0;
  private isReached = false;
  private stopped = false;
  private process: SupervisedProcess | undefined;
  private wake: (() => void) | undefined;
  private markReached!: () => void;

  /** its ffmpeg (for the node's CPU accounting) */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  private constructor(
    readonly producer: types.Producer,
    private readonly transport: types.PlainTransport,
    private readonly port: number,
    private readonly ssrc: number,
    private readonly spec: RtspSpec,
    private readonly ffmpegPath: string,
    private readonly log: Logger,
  ) {
    this.reached = new Promise((resolve) => (this.markReached = resolve));
    // comedia: the transport learns ffmpeg's address from the first packet it gets, i.e. when video first flows
    transport.once('tuple', () => {
      this.isReached = true;
      this.markReached();
    });
    this.ended = this.run().finally(() => transport.close());
  }

  /** Throws if the producer cannot be made (the room's router closed meanwhile, say); then nothing is left behind. */
  static async start(media: RoomMedia, spec: RtspSpec, appData: Record<string, unknown>, ffmpegPath: string, log: Logger): Promise<RtspCamera> {
    const ssrc = randomInt(1, 0x7fffffff);
    const { transport, producer, port } = await media.createPlainProducer('video', producerRtpParameters('video', ssrc), appData);
    return new RtspCamera(producer, transport, port, ssrc, spec, ffmpegPath, log);
  }

  get connected(): boolean {
    return this.isReached;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.transport.close();
    await this.process?.stop();
    await this.ended;
  }

  private async run(): Promise<CameraEnd> {
    const script = rtspConcatScript(this.spec);
    const args = rtspFfmpegArgs({ ip: '127.0.0.1', port: this.port, ssrc: this.ssrc });
    while (!this.stopped) {
      this.attempts++;
      const process = startSupervised(this.ffmpegPath, args, { stdinText: script });
      this.process = process;
      const exit = await process.exited;
      if (this.stopped || exit.stopped) return { kind: 'stopped' };
      const how = exit.code === null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
      const reason = `ffmpeg ended with ${how}: ${redact(lastLine(process.stderrTail()), this.spec.sourceUri)}`.trim();
      if (this.isReached) return { kind: 'lost', reason };
      const delay = Math.max(this.spec.reconnectDelay, MIN_RETRY_DELAY_MS);
      this.log.warn({ reason, attempt: this.attempts, retryInMs: delay }, 'rtsp camera not reached yet: retrying');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return { kind: 'stopped' };
  }
}

/** ffmpeg's words with the camera's user and password taken out (its errors quote the URI). */
export function redact(text: string, sourceUri: string): string {
  let out = text;
  try {
    const url = new URL(sourceUri);
    for (const secret of [url.password, url.username]) {
      if (secret.length === 0) continue;
      for (const form of new Set([secret, safeDecode(secret)])) out = out.split(form).join('***');
    }
  } catch {
    // not a URL: the pattern below still applies
  }
  return redactUri(out);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
