// Opens a File component's source so that what ffmpeg plays is exactly what was checked. Checking a path and letting
// ffmpeg open it by name later leaves a window (ffmpeg starts 50-100 ms after the check): whoever can write to the
// sources folder swaps a checked directory for a symlink and ffmpeg streams any file the server can read into the
// room. Here the node opens the file itself (no symlink as the last component, no blocking on a FIFO), checks what it
// actually opened — a regular file whose real path, read back from /proc/self/fd, is inside the sources folder — and
// hands that descriptor to ffmpeg, which never opens the path again.
import { constants } from 'node:fs';
import { open, readlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export type OpenedSource = { ok: true; handle: FileHandle } | { ok: false; reason: string };

export async function openSourceFile(realPath: string, realRoot: string): Promise<OpenedSource> {
  let handle: FileHandle;
  try {
    handle = await open(realPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    return { ok: false, reason: `cannot open the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return fail(handle, 'not a regular file');
    const opened = await readlink(`/proc/self/fd/${handle.fd}`);
    const root = realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep;
    if (!opened.startsWith(root)) return fail(handle, 'the file moved out of the sources folder');
    return { ok: true, handle };
  } catch (error) {
    return fail(handle, (error as Error).message);
  }
}

async function fail(handle: FileHandle, reason: string): Promise<OpenedSource> {
  await handle.close().catch(() => undefined);
  return { ok: false, reason };
}
