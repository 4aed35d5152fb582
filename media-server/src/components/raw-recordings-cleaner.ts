// The original's resource manager for raw recordings: every 10 minutes, under `raw_recordings/`, for each room that
// no longer exists on this node, part folders that are empty or whose newest file is older than an hour are removed,
// then room folders left empty. Ours on top: a part whose upload failed (`upload_failed.json`) is kept for a day, so
// an operator can still fetch it. The decision is pure (what to remove, from what was read); the walk does the I/O.
import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { UPLOAD_FAILED_FILE } from './recording-component.js';

export const CLEAN_INTERVAL_MS = 600_000;
export const MAX_AGE_MS = 3_600_000;
export const FAILED_UPLOAD_MAX_AGE_MS = 24 * 3_600_000;

export interface PartFacts {
  readonly files: number;
  /** ms since the epoch; undefined with no file */
  readonly newestMtimeMs: number | undefined;
  readonly uploadFailed: boolean;
}

/** Whether a part folder of a room that no longer exists goes. */
export function partExpired(part: PartFacts, nowMs: number): boolean {
  if (part.files === 0 || part.newestMtimeMs === undefined) return true;
  const maxAge = part.uploadFailed ? FAILED_UPLOAD_MAX_AGE_MS : MAX_AGE_MS;
  return nowMs - part.newestMtimeMs > maxAge;
}

export class RawRecordingsCleaner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    /** <FJ_RESOURCES_BASE_PATH>/raw_recordings */
    private readonly root: string,
    private readonly roomExists: (roomId: string) => boolean,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(intervalMs = CLEAN_INTERVAL_MS): void {
    this.timer = setInterval(() => void this.cleanOnce(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass (never two at once); errors are logged, never thrown. */
  cleanOnce(): Promise<void> {
    this.running ??= this.pass()
      .catch((error: Error) => this.logger.error({ err: error.message }, 'raw recordings cleaner failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    let rooms: string[];
    try {
      rooms = (await readdir(this.root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const roomId of rooms) {
      if (this.roomExists(roomId)) continue;
      const roomDir = path.join(this.root, roomId);
      const parts = (await readdir(roomDir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory());
      for (const part of parts) {
        const partDir = path.join(roomDir, part.name);
        const facts = await partFacts(partDir);
        // re-checked after the awaits: a room with this id may have been created meanwhile
        if (facts && !this.roomExists(roomId) && partExpired(facts, this.now())) {
          await rm(partDir, { recursive: true, force: true });
          this.logger.info({ room: roomId, part: part.name }, 'raw recording removed (its room is gone)');
        }
      }
      await rmdir(roomDir).catch(() => undefined); // only when empty
    }
  }
}

async function partFacts(dir: string): Promise<PartFacts | undefined> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    let newest: number | undefined;
    let files = 0;
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      files++;
      const { mtimeMs } = await lstat(path.join(dir, entry.name));
      newest = newest === undefined ? mtimeMs : Math.max(newest, mtimeMs);
    }
    return { files, newestMtimeMs: newest, uploadFailed: entries.some((e) => e.name === UPLOAD_FAILED_FILE) };
  } catch {
    return undefined;
  }
}
