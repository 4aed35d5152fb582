// GET /hls/:room_id/:filename (no auth, as the original): the files of a room's live HLS component (hls-answer.ts).
// Answers: no live HLS in that room -> 404 `File not found`; a name that is not one plain path segment (`../x`,
// `%2e%2e`, NUL, over 255 bytes) -> 400 `Invalid filename, got <filename>`; a missing file (or one that is not a
// regular file inside the folder, e.g. a symlink) -> 404 `File not found`; else 200 with the bytes, streamed (a client
// that hangs up closes the file). In a cluster, a room held by another node is answered from there (`remote`).
import type Router from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { answerHls, type HlsAnswer, type HlsContentSource, type HlsDirectives } from './hls-answer.js';
import { sendForwarded, type ForwardedFile } from './forwarded-file.js';
import { HttpError } from '../http-error.js';

export type { HlsContentSource } from './hls-answer.js';

export interface RemoteHls {
  /** The answer of the node holding a room this node has no HLS for; undefined when this node holds it (or nobody). */
  forwardHls(roomId: string, filename: string, query: HlsDirectives, hangUp: AbortSignal): Promise<ForwardedFile | 'aborted' | undefined>;
}

export function mountHlsRoutes(router: Router, source: HlsContentSource, remote?: RemoteHls): void {
  router.get('/hls/:room_id/:filename', async (ctx) => {
    const roomId = ctx.params.room_id!;
    const filename = ctx.params.filename!;
    const query: HlsDirectives = { _HLS_msn: ctx.query._HLS_msn, _HLS_part: ctx.query._HLS_part, _HLS_skip: ctx.query._HLS_skip };
    const hangUp = new AbortController();
    const onClose = () => hangUp.abort();
    ctx.res.once('close', onClose);
    try {
      if (source.folderOf(roomId) === undefined && remote) {
        const forwarded = await remote.forwardHls(roomId, filename, query, hangUp.signal);
        if (forwarded === 'aborted') return;
        if (forwarded !== undefined) return sendForwarded(ctx, forwarded);
      }
      send(ctx, await answerHls(source, roomId, filename, query, hangUp.signal));
    } catch (error) {
      // every 503 here is a moment's trouble (a wait that ended, too many waiting, the room's node unreachable)
      if (error instanceof HttpError && error.status === 503) ctx.set('retry-after', '1');
      throw error;
    } finally {
      ctx.res.off('close', onClose);
    }
  });
}

function send(ctx: ParameterizedContext, answer: HlsAnswer): void {
  if (answer.kind === 'aborted') return;
  ctx.status = 200;
  ctx.set('cache-control', answer.cacheControl);
  if (answer.kind === 'text') {
    ctx.type = answer.contentType;
    ctx.body = answer.text;
    return;
  }
  const { file } = answer;
  ctx.type = file.contentType;
  ctx.length = file.size;
  if (file.size === 0) {
    void file.handle.close();
    ctx.body = '';
    return;
  }
  // only the bytes there when it was opened (a file still growing is not read past that)
  ctx.body = file.handle.createReadStream({ end: file.size - 1, autoClose: true });
}
