// /recording (shared/spec/fishjam-components.md section 8): GET /recording and DELETE /recording/:id need the
// server token, GET /recording/:id/:filename does not (as the original). Messages and their order are the
// original's: a bad id is 400 before anything is looked at; a missing or still-live recording is 404.
// In a cluster (`remote`), recordings of the other nodes are listed, served and deleted through this one too.
import type Router from '@koa/router';
import { openHlsFile } from '../../components/hls-content.js';
import type { Recordings } from '../../components/recordings.js';
import { HttpError } from '../http-error.js';
import { sendForwarded, type ForwardedFile } from './forwarded-file.js';

const shown = (value: string) => value.slice(0, 300);

export interface RemoteRecordings {
  /** the ids of the other nodes' recordings */
  otherRecordings(): Promise<string[]>;
  /** deletes a recording on the other nodes; whether one had it */
  removeElsewhere(id: string): Promise<boolean>;
  /** a file of a recording this node does not have, from the node that has it; undefined when none has */
  forwardRecording(id: string, filename: string, hangUp: AbortSignal): Promise<ForwardedFile | 'aborted' | undefined>;
}

export function mountRecordingRoutes(api: Router, recordings: Recordings, remote?: RemoteRecordings): void {
  api.get('/recording', async (ctx) => {
    const ids = await recordings.list();
    if (!ids) throw new HttpError(404, 'Unable to obtain recordings');
    const all = remote ? [...new Set([...ids, ...(await remote.otherRecordings())])].sort() : ids;
    ctx.body = { data: all };
  });

  api.delete('/recording/:id', async (ctx) => {
    const id = ctx.params.id!;
    const removed = await recordings.remove(id);
    if (!removed.ok && removed.reason === 'invalid') throw new HttpError(400, `Invalid recording id, got: ${shown(id)}`);
    // a chosen room id may have left a recording on more than one node: all of them go
    const elsewhere = remote ? await remote.removeElsewhere(id) : false;
    if (!removed.ok && !elsewhere) throw new HttpError(404, 'Recording not found');
    ctx.status = 204;
  });
}

export function mountRecordingContentRoute(open: Router, recordings: Recordings, remote?: RemoteRecordings): void {
  open.get('/recording/:id/:filename', async (ctx) => {
    const { id, filename } = ctx.params as { id: string; filename: string };
    const found = await recordings.find(id);
    if (!found.ok && found.reason === 'invalid') throw new HttpError(400, `Invalid recording, got: ${shown(id)}`);
    if (!found.ok) {
      if (remote) {
        const hangUp = new AbortController();
        const onClose = () => hangUp.abort();
        ctx.res.once('close', onClose);
        try {
          const forwarded = await remote.forwardRecording(id, filename, hangUp.signal);
          if (forwarded === 'aborted') return;
          if (forwarded !== undefined) return sendForwarded(ctx, forwarded);
        } finally {
          ctx.res.off('close', onClose);
        }
      }
      throw new HttpError(404, 'File not found');
    }
    const file = await openHlsFile(found.dir, filename);
    if (!file.ok && file.reason === 'invalid') throw new HttpError(400, `Invalid filename, got: ${shown(filename)}`);
    if (!file.ok) throw new HttpError(404, 'File not found');
    ctx.status = 200;
    ctx.type = file.contentType;
    ctx.length = file.size;
    if (file.size === 0) {
      await file.handle.close();
      ctx.body = '';
      return;
    }
    ctx.body = file.handle.createReadStream({ end: file.size - 1, autoClose: true });
  });
}
