// GET /hls/:room_id/:filename (no auth, as the original): the files of a room's live HLS component. Answers:
// no live HLS in that room -> 404 `File not found`; a name that is not one plain path segment (`../x`, `%2e%2e`, NUL,
// over 255 bytes) -> 400 `Invalid filename, got <filename>`; a missing file (or one that is not a regular file inside
// the folder, e.g. a symlink) -> 404 `File not found`; else 200 with the bytes, streamed (a client that hangs up
// closes the file).
// Low latency (RFC 8216bis 6.2.5): `_HLS_msn` (with or without `_HLS_part`) is a blocking playlist reload: the media
// playlist is answered once that part (or that whole segment) is published, whatever .m3u8 name was asked for (as the
// original); `_HLS_skip` answers the delta playlist; the preload-hinted part is held until it exists. Unlike the
// original, waits end after three target durations (503, as the RFC suggests), at most MAX_BLOCKED_REQUESTS wait per
// stream (then 503 at once), non-integer values are 400 (the original crashed: 500), and a request for a segment more
// than two ahead of the last one is 400 (the RFC's rule).
import type Router from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { openHlsFile } from '../../components/hls-content.js';
import { LL_TARGET_DURATION, type HlsWriter } from '../../components/hls-writer.js';
import { HttpError } from '../http-error.js';

export interface HlsContentSource {
  /** the output folder of the room's live HLS component, if it has one */
  folderOf(roomId: string): string | undefined;
  /** its low-latency state, if it is low latency */
  lowLatencyOf?(roomId: string): HlsWriter | undefined;
}

const BLOCK_TIMEOUT_MS = 3 * LL_TARGET_DURATION * 1000;
const PART_NAME = /^segment_(\d{1,9})_part_(\d{1,6})\.m4s$/;

export function mountHlsRoutes(router: Router, source: HlsContentSource): void {
  router.get('/hls/:room_id/:filename', async (ctx) => {
    const roomId = ctx.params.room_id!;
    const filename = ctx.params.filename!;
    const dir = source.folderOf(roomId);
    if (dir === undefined) throw new HttpError(404, 'File not found');
    const ll = source.lowLatencyOf?.(roomId);
    const query = ctx.query;
    if (query._HLS_msn !== undefined || query._HLS_part !== undefined) {
      if (!ll || ll.playlist.last() === undefined) throw new HttpError(404, 'File not found');
      const msn = directive(query._HLS_msn, '_HLS_msn');
      const part = query._HLS_part === undefined ? undefined : directive(query._HLS_part, '_HLS_part');
      if (msn === undefined) throw new HttpError(400, 'Invalid _HLS_part: _HLS_msn is required with it');
      if (msn > ll.playlist.last()!.msn + 2) throw new HttpError(400, `_HLS_msn ${msn} is too far ahead of the playlist`);
      const end = await blockUntil(ctx, ll, () => ll.playlist.has(msn, part ?? Number.MAX_SAFE_INTEGER));
      if (end === 'aborted') return;
      playlistAnswer(ctx, ll.playlist.render(query._HLS_skip !== undefined));
      return;
    }
    if (ll && filename.endsWith('.m3u8') && query._HLS_skip !== undefined) {
      playlistAnswer(ctx, ll.playlist.render(true));
      return;
    }
    let file = await openHlsFile(dir, filename);
    const hinted = PART_NAME.exec(filename);
    if (!file.ok && file.reason === 'missing' && ll && hinted) {
      // the preload hint (the next part) is held until published; any other missing part is 404 at once
      const [msn, part] = [Number(hinted[1]), Number(hinted[2])];
      const hint = ll.playlist.hint();
      if (hint.msn === msn && hint.part === part) {
        const end = await blockUntil(ctx, ll, () => ll.playlist.has(msn, part));
        if (end === 'aborted') return;
        file = await openHlsFile(dir, filename);
      }
    }
    if (!file.ok) {
      if (file.reason === 'invalid') throw new HttpError(400, `Invalid filename, got ${filename.slice(0, 300)}`);
      throw new HttpError(404, 'File not found');
    }
    ctx.status = 200;
    ctx.type = file.contentType;
    ctx.length = file.size;
    // playlists change every part; segments and parts never change once written
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

function directive(value: string | string[] | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) throw new HttpError(400, `Invalid ${name}, got ${String(value).slice(0, 50)}`);
  return Number(value);
}

/** Holds the request until `ready`; 503 on timeout or when too many wait; 'aborted' when the client hung up. */
async function blockUntil(ctx: ParameterizedContext, ll: HlsWriter, ready: () => boolean): Promise<'ready' | 'aborted'> {
  const hangUp = new AbortController();
  const onClose = () => hangUp.abort();
  ctx.res.once('close', onClose);
  try {
    const waiting = ll.waiters.wait(ready, BLOCK_TIMEOUT_MS, hangUp.signal);
    if (!waiting) {
      ctx.set('retry-after', '1');
      throw new HttpError(503, 'Too many blocked playlist requests');
    }
    const end = await waiting;
    if (end === 'aborted') return 'aborted';
    if (end === 'timeout') throw new HttpError(503, 'The requested part was not published in time');
    if (end === 'gone' && !ready()) throw new HttpError(404, 'File not found');
    return 'ready';
  } finally {
    ctx.res.off('close', onClose);
  }
}

function playlistAnswer(ctx: ParameterizedContext, text: string): void {
  ctx.status = 200;
  ctx.type = 'application/vnd.apple.mpegurl';
  ctx.set('cache-control', 'no-cache');
  ctx.body = text;
}
