// What GET /hls/:room_id/:filename answers for a room whose HLS component lives on this node, apart from HTTP: the
// route (hls-routes.ts) sends it to its client, and the cluster (cluster/cluster-files.ts) sends it over the dist link
// to the node a client asked. One function for both, so a room answers the same through any node.
// Low latency (RFC 8216bis 6.2.5): `_HLS_msn` (with or without `_HLS_part`) is a blocking playlist reload: the media
// playlist is answered once that part (or that whole segment) is published, whatever .m3u8 name was asked for (as the
// original); `_HLS_skip` answers the delta playlist; the preload-hinted part is held until it exists. Unlike the
// original, waits end after three target durations (503, as the RFC suggests), at most MAX_BLOCKED_REQUESTS wait per
// stream (then 503 at once), non-integer values are 400 (the original crashed: 500), and a request for a segment more
// than two ahead of the last one is 400 (the RFC's rule).
import { openHlsFile, type OpenedHlsFile } from '../../components/hls-content.js';
import { LL_TARGET_DURATION, type HlsWriter } from '../../components/hls-writer.js';
import { HttpError } from '../http-error.js';

export interface HlsContentSource {
  /** the output folder of the room's live HLS component, if it has one */
  folderOf(roomId: string): string | undefined;
  /** its low-latency state, if it is low latency */
  lowLatencyOf?(roomId: string): HlsWriter | undefined;
}

/** The LL-HLS directives of a request, as the query string gave them (validated here). */
export interface HlsDirectives {
  readonly _HLS_msn?: string | string[] | undefined;
  readonly _HLS_part?: string | string[] | undefined;
  readonly _HLS_skip?: string | string[] | undefined;
}

/** How long a blocked request waits at most before its 503. */
export const BLOCK_TIMEOUT_MS = 3 * LL_TARGET_DURATION * 1000;
const PART_NAME = /^segment_(\d{1,9})_part_(\d{1,6})\.m4s$/;

export type HlsAnswer =
  | { kind: 'text'; text: string; contentType: string; cacheControl: string }
  | { kind: 'file'; file: Extract<OpenedHlsFile, { ok: true }>; cacheControl: string }
  | { kind: 'aborted' };

/** Whether a request may block (its answer can take up to BLOCK_TIMEOUT_MS): a reload with directives, or a part. */
export function mayBlock(filename: string, query: HlsDirectives): boolean {
  return query._HLS_msn !== undefined || query._HLS_part !== undefined || PART_NAME.test(filename);
}

/**
 * The answer for a room with a live HLS component here; throws HttpError (404 `File not found` when the room has none).
 * A file answer's handle belongs to the caller (close it). `hangUp` ends a blocked wait ('aborted').
 */
export async function answerHls(source: HlsContentSource, roomId: string, filename: string, query: HlsDirectives, hangUp: AbortSignal): Promise<HlsAnswer> {
  const dir = source.folderOf(roomId);
  if (dir === undefined) throw new HttpError(404, 'File not found');
  const ll = source.lowLatencyOf?.(roomId);
  if (query._HLS_msn !== undefined || query._HLS_part !== undefined) {
    if (!ll || ll.playlist.last() === undefined) throw new HttpError(404, 'File not found');
    const msn = directive(query._HLS_msn, '_HLS_msn');
    const part = query._HLS_part === undefined ? undefined : directive(query._HLS_part, '_HLS_part');
    if (msn === undefined) throw new HttpError(400, 'Invalid _HLS_part: _HLS_msn is required with it');
    if (msn > ll.playlist.last()!.msn + 2) throw new HttpError(400, `_HLS_msn ${msn} is too far ahead of the playlist`);
    const end = await blockUntil(ll, () => ll.playlist.has(msn, part ?? Number.MAX_SAFE_INTEGER), hangUp);
    if (end === 'aborted') return { kind: 'aborted' };
    return playlist(ll.playlist.render(query._HLS_skip !== undefined));
  }
  if (ll && filename.endsWith('.m3u8') && query._HLS_skip !== undefined) return playlist(ll.playlist.render(true));
  let file = await openHlsFile(dir, filename);
  const hinted = PART_NAME.exec(filename);
  if (!file.ok && file.reason === 'missing' && ll && hinted) {
    // the preload hint (the next part) is held until published; any other missing part is 404 at once
    const [msn, part] = [Number(hinted[1]), Number(hinted[2])];
    const hint = ll.playlist.hint();
    if (hint.msn === msn && hint.part === part) {
      const end = await blockUntil(ll, () => ll.playlist.has(msn, part), hangUp);
      if (end === 'aborted') return { kind: 'aborted' };
      file = await openHlsFile(dir, filename);
    }
  }
  if (!file.ok) {
    if (file.reason === 'invalid') throw new HttpError(400, `Invalid filename, got ${filename.slice(0, 300)}`);
    throw new HttpError(404, 'File not found');
  }
  // playlists change every part; segments and parts never change once written
  return { kind: 'file', file, cacheControl: filename.endsWith('.m3u8') ? 'no-cache' : 'max-age=3600' };
}

function playlist(text: string): HlsAnswer {
  return { kind: 'text', text, contentType: 'application/vnd.apple.mpegurl', cacheControl: 'no-cache' };
}

function directive(value: string | string[] | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) throw new HttpError(400, `Invalid ${name}, got ${String(value).slice(0, 50)}`);
  return Number(value);
}

/** Holds the request until `ready`; 503 on timeout or when too many wait; 'aborted' when the client hung up. */
async function blockUntil(ll: HlsWriter, ready: () => boolean, hangUp: AbortSignal): Promise<'ready' | 'aborted'> {
  const waiting = ll.waiters.wait(ready, BLOCK_TIMEOUT_MS, hangUp);
  if (!waiting) throw new HttpError(503, 'Too many blocked playlist requests');
  const end = await waiting;
  if (end === 'aborted') return 'aborted';
  if (end === 'timeout') throw new HttpError(503, 'The requested part was not published in time');
  if (end === 'gone' && !ready()) throw new HttpError(404, 'File not found');
  return 'ready';
}
