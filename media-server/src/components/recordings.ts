// Recordings: the folders a persistent HLS component left in `<FJ_RESOURCES_BASE_PATH>/recordings/<room_id>/`, once
// that room has no live HLS any more (while live they are served by /hls and hidden here, as in the original).
// A recording id is one plain path segment naming a real directory there (never a symlink: a planted link would
// otherwise lead the listing, the deletion or the file answers outside the folder).
import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { isPlainFilename } from './hls-content.js';

export type RecordingLookup = { ok: true; dir: string } | { ok: false; reason: 'invalid' | 'missing' };

export class Recordings {
  constructor(
    /** <FJ_RESOURCES_BASE_PATH>/recordings */
    readonly root: string,
    /** whether a room has a live HLS component now */
    private readonly isLive: (roomId: string) => boolean,
  ) {}

  /** Ids of the finished recordings; undefined when the folder cannot be read (it may simply not exist: then []). */
  async list(): Promise<string[] | undefined> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && !this.isLive(e.name)).map((e) => e.name).sort();
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? [] : undefined;
    }
  }

  async find(id: string): Promise<RecordingLookup> {
    if (!isPlainFilename(id)) return { ok: false, reason: 'invalid' };
    const dir = path.join(this.root, id);
    if (this.isLive(id)) return { ok: false, reason: 'missing' };
    try {
      if (!(await lstat(dir)).isDirectory()) return { ok: false, reason: 'missing' };
    } catch {
      return { ok: false, reason: 'missing' };
    }
    return { ok: true, dir };
  }

  async remove(id: string): Promise<RecordingLookup> {
    const found = await this.find(id);
    if (found.ok) await rm(found.dir, { recursive: true, force: true });
    return found;
  }
}
