// GET /hls/:room_id/:filename (no auth, as the original): the files of a room's live HLS component. Answers:
// no live HLS in that room -> 404 `File not found`; a name that is not one plain path segment (`../x`, `%2e%2e`, NUL,
// over 255 bytes) -> 400 `Invalid filename, got <filename>`; a missing file (or one that is not a regular file inside
// the folder, e.g. a symlink) -> 404 `File not found`; else 200 with the bytes, streamed (a client that hangs up
// closes the file).
import type Router from '@koa/router';
import { openHlsFile } from '../../components/hls-content.js';
import { HttpError } from '../http-error.js';

export interface HlsContentSource {
  /** the output folder of the room's live HLS component, if it has one */
  folderOf(roomId: string): string | undefined;
}

export function mountHlsRoutes(router: Router, source: HlsContentSource): void {
  router.get('/hls/:room_id/:filename', async (ctx) => {
    const dir = source.folderOf(ctx.params.room_id!);
    if (dir === undefined) throw new HttpError(404, 'File not found');
    const filename = ctx.params.filename!;
    const file = await openHlsFile(dir, filename);
    if (!file.ok) {
      if (file.reason === 'invalid') throw new HttpError(400, `Invalid filename, got ${filename.slice(0, 300)}`);
      throw new HttpError(404, 'File not found');
    }
    ctx.status = 200;
    ctx.type = file.contentType;
    ctx.length = file.size;
    // playlists change every segment; segments never change once written
    ctx.set('cache-control', filename.endsWith('.m3u8') ? 'no-cache' : 'max-age=3600');
    if (file.size === 0) {
      await file.handle.close();
      ctx.body = '';
      return;
    }
    // only the bytes there when it was opened (a file still growing is not read past that)
    ctx.body = file.handle.createReadStream({ end: file.size - 1, autoClose: true });
  });
}
