// One Recording component: its part folder (`raw_recordings/<room>/part_<time>/`), the runs of the recording ffmpeg
// over the tracks it takes (a new run, `run_<n>.ts`, whenever that set changes: ffmpeg cannot take inputs that come
// and go), `report.json` describing the runs, and, when it ends, the upload of the folder to
// `<prefix>/<room>/part_<time>/` in its bucket. A run that dies by itself is started again after RESTART_DELAY_MS;
// MAX_FAILURES short runs in a row report the component crashed (what was recorded is still uploaded).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RoomMedia } from '../sfu/room-media.js';
import type { SourceTrack } from './hls-session.js';
import type { RecordingSpec } from './recording-options.js';
import { RecordingRun, type RecordedTrack } from './recording-run.js';
import { filesUnder, objectKey, S3Uploader, type RetryPolicy, type S3Endpoint, type UploadResult } from './s3-uploader.js';

/** Tracks one recording takes at most (each is a consumer, a port pair and an ffmpeg input). */
export const MAX_RECORDING_TRACKS = 32;
/** Runs one part holds at most (a room whose tracks change without end must not grow the report for ever). */
export const MAX_RUNS = 1000;
const SETTLE_MS = 1000;
/** Before the first run less settling (every second waited is a second not recorded), but enough for a peer whose
 * camera and microphone are announced apart (seen 0.3 s and more under load): a restart loses more. */
const FIRST_SETTLE_MS = 750;
const RESTART_DELAY_MS = 2000;
const MAX_FAILURES = 5;
/** A run that lasted this long worked: the failure count starts again. */
const HEALTHY_RUN_MS = 10_000;
export const REPORT_FILE = 'report.json';
export const UPLOAD_FAILED_FILE = 'upload_failed.json';

export interface RunReport {
  /** the MPEG-TS file in the part folder */
  readonly file: string;
  readonly startedAt: string;
  endedAt: string | null;
  readonly tracks: readonly RecordedTrack[];
}

export interface RecordingReport {
  readonly roomId: string;
  readonly componentId: string;
  readonly part: string;
  readonly format: 'mpegts';
  readonly runs: RunReport[];
}

export interface RecordingComponentDeps {
  readonly media: RoomMedia;
  readonly roomId: string;
  readonly componentId: string;
  readonly spec: RecordingSpec;
  /** raw_recordings/<room>/part_<time> (absolute) */
  readonly partDir: string;
  readonly ffmpegPath: string;
  readonly logger: Logger;
  readonly tracks: () => SourceTrack[];
  readonly s3Endpoint: S3Endpoint;
  readonly retryPolicy: RetryPolicy;
  /** aborted when the node stops and its uploads have had their grace */
  readonly shutdownSignal?: AbortSignal;
  readonly onCrash: (reason: string) => void;
}

export class RecordingComponent {
  private run: RecordingRun | undefined;

  /** the ffmpeg running now, if any (for the node's CPU accounting) */
  get pid(): number | undefined {
    return this.run?.pid;
  }
  private runKey = '';
  private runCount = 0;
  private failures = 0;
  private stopped = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;
  private again = false;
  private readonly report: RecordingReport;

  private constructor(private readonly deps: RecordingComponentDeps) {
    this.report = { roomId: deps.roomId, componentId: deps.componentId, part: path.basename(deps.partDir), format: 'mpegts', runs: [] };
  }

  static async create(deps: RecordingComponentDeps): Promise<RecordingComponent> {
    await mkdir(deps.partDir, { recursive: true, mode: 0o755 });
    const component = new RecordingComponent(deps);
    await component.writeReport();
    return component;
  }

  get partDir(): string {
    return this.deps.partDir;
  }

  refresh(): void {
    if (this.stopped) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.reconcile(), this.run ? SETTLE_MS : FIRST_SETTLE_MS);
    this.settleTimer.unref();
  }

  /** Stops ffmpeg (the file is closed properly), writes the report, uploads the part folder; resolves with the result. */
  async stop(): Promise<UploadResult> {
    this.stopped = true;
    clearTimeout(this.settleTimer);
    await this.reconciling?.catch(() => undefined);
    await this.endRun();
    await this.writeReport().catch((error: Error) => this.deps.logger.error({ err: error.message }, 'recording: report not written'));
    return this.upload();
  }

  private reconcile(): void {
    if (this.stopped) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = this.reconcileOnce()
      .catch((error: Error) => this.deps.logger.error({ err: error.message }, "recording could not follow the room's tracks"))
      .finally(() => {
        this.reconciling = undefined;
        if (this.again) {
          this.again = false;
          this.reconcile();
        }
      });
  }

  private async reconcileOnce(): Promise<void> {
    const tracks = this.deps.tracks().filter((t) => !t.producer.closed).slice(0, MAX_RECORDING_TRACKS);
    const key = tracks.map((t) => t.producer.id).sort().join(',');
    if (key === this.runKey && this.run) return;
    await this.endRun();
    if (this.stopped || tracks.length === 0) return;
    if (this.runCount >= MAX_RUNS) {
      this.deps.logger.warn({ runs: this.runCount }, 'recording: too many runs in one part; not starting another');
      return;
    }
    const number = ++this.runCount;
    const file = `run_${number}.ts`;
    const run = await RecordingRun.start(this.deps.media, tracks, path.join(this.deps.partDir, file), this.deps.ffmpegPath, this.deps.componentId);
    if (this.stopped) {
      await run.stop();
      return;
    }
    const started = Date.now();
    const entry: RunReport = { file, startedAt: new Date(started).toISOString(), endedAt: null, tracks: run.tracks };
    this.report.runs.push(entry);
    this.run = run;
    this.runKey = key;
    await this.writeReport();
    this.deps.logger.info({ run: number, tracks: tracks.length }, 'recording ffmpeg started');
    void run.exited.then((exit) => {
      if (exit.stopped || this.stopped || this.run !== run) return;
      this.run = undefined;
      this.runKey = '';
      entry.endedAt = new Date().toISOString();
      run.closeMedia();
      void this.writeReport().catch(() => undefined);
      const how = exit.code === null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
      const reason = `ffmpeg ended with ${how}: ${lastLine(run.stderrTail())}`;
      this.failures = Date.now() - started >= HEALTHY_RUN_MS ? 1 : this.failures + 1;
      if (this.failures >= MAX_FAILURES) {
        this.deps.onCrash(reason);
        return;
      }
      this.deps.logger.warn({ reason, failures: this.failures }, 'recording ffmpeg ended by itself: starting it again');
      const timer = setTimeout(() => this.reconcile(), RESTART_DELAY_MS);
      timer.unref();
    });
  }

  private async endRun(): Promise<void> {
    const run = this.run;
    this.run = undefined;
    this.runKey = '';
    if (!run) return;
    const exit = await run.stop();
    if (exit.signal === 'SIGKILL') this.deps.logger.warn({ tail: lastLine(run.stderrTail()) }, 'recording ffmpeg did not finish in time (SIGKILL); its file is readable up to its last packet');
    const entry = this.report.runs[this.report.runs.length - 1];
    if (entry && entry.endedAt === null) entry.endedAt = new Date().toISOString();
  }

  private async writeReport(): Promise<void> {
    const file = path.join(this.deps.partDir, REPORT_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify(this.report, null, 2));
    await rename(`${file}.tmp`, file);
  }

  /**
   * Every file of the part folder to `<prefix>/<room>/<part>/<file>`. A failure is logged and written beside the
   * files (`upload_failed.json`): the local copy is then kept by the cleaner for a day instead of an hour.
   */
  private async upload(): Promise<UploadResult> {
    const { spec, roomId, partDir, logger } = this.deps;
    const part = path.basename(partDir);
    const uploader = new S3Uploader(spec.credentials, this.deps.s3Endpoint, logger, this.deps.retryPolicy);
    try {
      const files = await filesUnder(partDir);
      const prefix = objectKey(spec.pathPrefix, roomId, part);
      const started = Date.now();
      const result = await uploader.uploadAll(files.map((f) => ({ file: path.join(partDir, f), key: objectKey(prefix, f) })), this.deps.shutdownSignal);
      if (result.ok) {
        logger.info({ files: result.uploaded, bytes: result.bytes, ms: Date.now() - started, prefix, ...uploader.target }, 'recording uploaded to S3');
      } else {
        logger.error({ key: result.failedKey, attempts: result.attempts, reason: result.reason, uploaded: result.uploaded, notSent: files.length - result.uploaded, local: partDir, ...uploader.target }, 'recording: S3 upload failed; the local copy is kept');
        await writeFile(path.join(partDir, UPLOAD_FAILED_FILE), JSON.stringify({ at: new Date().toISOString(), key: result.failedKey, reason: result.reason, bucket: spec.credentials.bucket })).catch(() => undefined);
      }
      return result;
    } catch (error) {
      const reason = (error as Error).message;
      logger.error({ err: reason, local: partDir }, 'recording: the part folder cannot be read for the upload');
      return { ok: false, uploaded: 0, failedKey: '', attempts: 0, reason };
    } finally {
      uploader.close();
    }
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
