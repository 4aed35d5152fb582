// Opening a file of an HLS folder for GET /hls/:room_id/:filename so that nothing outside the folder can ever be
// served: the (already URL-decoded) name must be one plain path segment (no "/", "\", NUL, "." or ".."; at most
// MAX_FILENAME_LENGTH bytes), the file is opened without following a symlink as its last component and must be a
// regular file whose real path, read back from /proc/self/fd, lies directly inside the folder's real path (so a
// symlinked folder or file planted by whoever can write there leads nowhere; the folder itself must not be a symlink).
import { constants } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export const MAX_FILENAME_LENGTH = 255;

export type OpenedHlsFile =
  | { ok: true; handle: FileHandle; size: number; contentType: string }
  | { ok: false; reason: 'invalid' | 'missing' };

/** Pure: whether a decoded filename is one harmless path segment. */
export function isPlainFilename(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) > MAX_FILENAME_LENGTH) return false;
  if (name === '.' || name === '..') return false;
  return !/[/\\\0]/.test(name);
}

export function contentTypeOf(name: string): string {
  if (name.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (name.endsWith('.m4s')) return 'video/iso.segment';
  if (name.endsWith('.mp4')) return 'video/mp4';
  return 'application/octet-stream';
}

export async function openHlsFile(dir: string, name: string): Promise<OpenedHlsFile> {
  if (!isPlainFilename(name)) return { ok: false, reason: 'invalid' };
  let realDir: string;
  try {
    realDir = await realpath(dir);
    // the folder itself must not be a symlink (one planted in its place would lead anywhere)
    if (realDir !== path.join(await realpath(path.dirname(dir)), path.basename(dir))) return { ok: false, reason: 'missing' };
  } catch {
    return { ok: false, reason: 'missing' };
  }
  let handle: FileHandle;
  try {
    handle = await open(path.join(realDir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return { ok: false, reason: 'missing' };
  }
  try {
    const stats = await handle.stat();
    const opened = await readlink(`/proc/self/fd/${handle.fd}`);
    if (!stats.isFile() || path.dirname(opened) !== realDir) {
      await handle.close();
      return { ok: false, reason: 'missing' };
    }
    return { ok: true, handle, size: stats.size, contentType: contentTypeOf(name) };
  } catch {
    await handle.close().catch(() => undefined);
    return { ok: false, reason: 'missing' };
  }
}
