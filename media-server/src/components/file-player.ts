// Plays one file once into a room: a plain-RTP producer on the room's router, fed by a supervised ffmpeg. Knows
// nothing of the domain: the component manager turns its start and its end into tracks and notifications.
import { randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import type { RoomMedia } from '../sfu/room-media.js';
import { ffmpegArgs, producerRtpParameters } from './ffmpeg-rtp-command.js';
import { openSourceFile } from './source-file.js';
import type { FileSpec } from './file-options.js';
import { startSupervised, type SupervisedProcess } from './supervised-process.js';

/** How a playback ended: the file was played to its end, the player failed, or it was stopped (deleted, room gone). */
export type PlaybackEnd = { kind: 'finished' } | { kind: 'crashed'; reason: string } | { kind: 'stopped' };

export class FilePlayer {
  readonly ended: Promise<PlaybackEnd>;

  /** its ffmpeg (for the node's CPU accounting) */
  get pid(): number | undefined {
    return this.process.pid;
  }

  private constructor(
    readonly producer: types.Producer,
    private readonly transport: types.PlainTransport,
    private readonly process: SupervisedProcess,
  ) {
    this.ended = process.exited.then((exit) => {
      // The producer goes with the transport: its consumers close and the peers are told by the manager.
      transport.close();
      if (exit.stopped) return { kind: 'stopped' } as const;
      if (exit.code === 0) return { kind: 'finished' } as const;
      const how = exit.code === null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
      return { kind: 'crashed', reason: `ffmpeg ended with ${how}: ${lastLine(process.stderrTail())}` } as const;
    });
  }

  /** Throws if the producer cannot be made (the room's router closed meanwhile, say); then nothing is left behind. */
  static async start(media: RoomMedia, file: FileSpec, appData: Record<string, unknown>, ffmpegPath: string, realRoot: string): Promise<FilePlayer> {
    const source = await openSourceFile(file.absolutePath, realRoot);
    if (!source.ok) throw new Error(`${file.filePath}: ${source.reason}`);
    try {
      const ssrc = randomInt(1, 0x7fffffff);
      const { transport, producer, port } = await media.createPlainProducer(file.kind, producerRtpParameters(file.kind, ssrc), appData);
      let process: SupervisedProcess;
      try {
        process = startSupervised(ffmpegPath, ffmpegArgs(file, { ip: '127.0.0.1', port, ssrc }), { inputFd: source.handle.fd });
      } catch (error) {
        transport.close();
        throw error;
      }
      return new FilePlayer(producer, transport, process);
    } finally {
      // ffmpeg has its own copy of the descriptor (or never started): ours is closed either way
      await source.handle.close().catch(() => undefined);
    }
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  async stop(): Promise<void> {
    this.transport.close();
    await this.process.stop();
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
