// One HLS component: its folder, the tracks it records (given by the caller, already filtered by subscription), the
// ffmpeg runs (hls-session.ts) over them and the writer (hls-writer.ts) that turns their output into the playlist,
// segments and parts. ffmpeg cannot take inputs that come and go, so when the set of tracks changes (settled for
// SETTLE_MS) the current run is stopped and a new one starts: the playlist goes on with a discontinuity and the new
// run's init segment. A run that dies by itself is started again after RESTART_DELAY_MS; after MAX_FAILURES such
// runs in a row without a segment the component is reported crashed.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RoomMedia } from '../sfu/room-media.js';
import { MASTER_PLAYLIST } from './hls-ffmpeg-command.js';
import { codecsOfInit, masterPlaylist } from './hls-master-playlist.js';
import type { HlsSpec } from './hls-options.js';
import type { HlsSegment } from './hls-playlist.js';
import { HlsSession, type SourceTrack } from './hls-session.js';
import { FRAGMENT_SECONDS, HlsWriter, LL_FRAGMENT_SECONDS } from './hls-writer.js';

/** Tracks one HLS component records at most (each one is a consumer, a port pair and an ffmpeg input). */
export const MAX_HLS_TRACKS = 32;
const SETTLE_MS = 1000;
const RESTART_DELAY_MS = 2000;
const MAX_FAILURES = 5;

export interface HlsComponentDeps {
  readonly media: RoomMedia;
  readonly componentId: string;
  readonly spec: HlsSpec;
  /** the output folder (absolute); wiped at start, removed at the end unless persistent */
  readonly dir: string;
  readonly ffmpegPath: string;
  readonly logger: Logger;
  /** the tracks to record now */
  readonly tracks: () => SourceTrack[];
  /** the first segment exists (once per component) */
  readonly onPlayable: () => void;
  readonly onCrash: (reason: string) => void;
}

export class HlsComponent {
  /** cuts ffmpeg's fragmented MP4 into segments (and parts), keeps the playlist, answers blocking requests */
  readonly writer: HlsWriter;
  private session: HlsSession | undefined;
  private sessionKey = '';

  /** the ffmpeg running now, if any (for the node's CPU accounting) */
  get pid(): number | undefined {
    return this.session?.pid;
  }
  private run = 0;
  private failures = 0;
  private playable = false;
  private stopped = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;
  private again = false;
  /** the run whose codecs the master playlist names */
  private masterRun = 0;

  private constructor(private readonly deps: HlsComponentDeps) {
    this.writer = new HlsWriter(deps.dir, deps.spec.lowLatency, deps.spec.targetWindowDuration, deps.logger, (segment, bytes, run) =>
      this.segmentDone(segment, bytes, run),
    );
  }

  static async create(deps: HlsComponentDeps): Promise<HlsComponent> {
    // As the original: the folder is emptied when the component starts (a persistent one of an earlier room with the
    // same id is replaced).
    await rm(deps.dir, { recursive: true, force: true });
    await mkdir(deps.dir, { recursive: true, mode: 0o755 });
    return new HlsComponent(deps);
  }

  get dir(): string {
    return this.deps.dir;
  }

  /** The low-latency state (blocking reloads, delta playlists), if this component is low latency. */
  get ll(): HlsWriter | undefined {
    return this.deps.spec.lowLatency ? this.writer : undefined;
  }

  get isPlayable(): boolean {
    return this.playable;
  }

  /** The room's tracks may have changed: look again once they settle. */
  refresh(): void {
    if (this.stopped) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.reconcile(), SETTLE_MS);
    this.settleTimer.unref();
  }

  /**
   * Stops ffmpeg (waiting for it), then runs `finish` over the complete folder (the S3 upload), then, unless
   * persistent, removes the folder.
   */
  async stop(finish?: (dir: string) => Promise<void>): Promise<void> {
    this.stopped = true;
    clearTimeout(this.settleTimer);
    await this.reconciling?.catch(() => undefined);
    await this.session?.stop();
    this.session = undefined;
    this.writer.close();
    try {
      await finish?.(this.deps.dir);
    } finally {
      if (!this.deps.spec.persistent) await rm(this.deps.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** One reconciliation at a time; a request while one runs makes it run once more (never a growing chain). */
  private reconcile(): void {
    if (this.stopped) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = this.reconcileOnce()
      .catch((error: Error) => this.deps.logger.error({ err: error.message }, "HLS could not follow the room's tracks"))
      .finally(() => {
        this.reconciling = undefined;
        if (this.again) {
          this.again = false;
          this.reconcile();
        }
      });
  }

  private async reconcileOnce(): Promise<void> {
    const tracks = this.deps.tracks().filter((t) => !t.producer.closed).slice(0, MAX_HLS_TRACKS);
    // a track that becomes (or stops being) a screenshare changes the layout: that is a change of the set too
    const key = tracks.map((t) => `${t.producer.id}${t.screenshare ? ':screen' : ''}`).sort().join(',');
    if (key === this.sessionKey && this.session) return;
    const previous = this.session;
    this.session = undefined;
    this.sessionKey = '';
    if (previous) await previous.stop();
    if (this.stopped || tracks.length === 0) return;
    const run = ++this.run;
    const lowLatency = this.deps.spec.lowLatency;
    const output = { fragmentSeconds: lowLatency ? LL_FRAGMENT_SECONDS : FRAGMENT_SECONDS, keyframeSeconds: lowLatency ? 1 : 2 };
    const sink = this.writer.startRun(run);
    const session = await HlsSession.start(this.deps.media, tracks, output, this.deps.ffmpegPath, this.deps.componentId, lowLatency, sink.push);
    if (this.stopped) {
      await session.stop();
      return;
    }
    this.session = session;
    this.sessionKey = key;
    this.deps.logger.info({ run, tracks: tracks.length }, 'HLS ffmpeg started');
    void session.exited.then((exit) => {
      if (exit.stopped || this.stopped || this.session !== session) return;
      this.session = undefined;
      this.sessionKey = '';
      session.closeMedia();
      const how = exit.code === null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
      const reason = `ffmpeg ended with ${how}: ${lastLine(session.stderrTail())}`;
      this.failures++;
      if (this.failures >= MAX_FAILURES) {
        this.stopped = true;
        this.deps.onCrash(reason);
        return;
      }
      this.deps.logger.warn({ reason, failures: this.failures }, 'HLS ffmpeg ended by itself: starting it again');
      const timer = setTimeout(() => this.reconcile(), RESTART_DELAY_MS);
      timer.unref();
    });
  }

  /**
   * A segment is complete. The first of each run writes the master playlist (with that run's codecs); then the run
   * is known to work, keyframes are asked for at segment pace, and the component is playable.
   */
  private segmentDone(segment: HlsSegment, bytes: number, run: number): void {
    const session = this.session;
    if (run !== this.run || !session || this.stopped || this.masterRun === run) return;
    this.masterRun = run;
    void this.writeMaster(run, (bytes * 8) / Math.max(0.1, segment.duration)).then(
      () => {
        if (this.session !== session || this.stopped) return;
        this.failures = 0;
        session.playable();
        if (!this.playable) {
          this.playable = true;
          this.deps.onPlayable();
        }
      },
      (error: Error) => this.deps.logger.error({ err: error.message }, 'HLS: master playlist not written'),
    );
  }

  private async writeMaster(run: number, bandwidth: number): Promise<void> {
    const init = await readFile(path.join(this.deps.dir, `header_${run}.mp4`));
    const master = path.join(this.deps.dir, MASTER_PLAYLIST);
    // written aside and renamed: a player never reads half a playlist
    await writeFile(`${master}.tmp`, masterPlaylist(codecsOfInit(init), bandwidth));
    await rename(`${master}.tmp`, master);
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
