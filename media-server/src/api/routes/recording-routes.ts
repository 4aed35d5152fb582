// /recording (shared/spec/fishjam-components.md section 8): GET /recording and DELETE /recording/:id need the
// server token, GET /recording/:id/:filename does not (as the original). Messages and their order are the
// original's: a bad id is 400 before anything is looked at; a missing or still-live recording is 404.
import type Router from '@koa/router';
import { openHlsFile } from '../../components/hls-content.js';
import type { Recordings } from '../../components/recordings.js';
import { HttpError } from '../http-error.js';

const shown = (value: string) => value.slice(0, 300);

export function mountRecordingRoutes(api: Router, recordings: Recordings): void {
  api.get('/recording', async (ctx) => {
    const ids = await recordings.list();
    if (!ids) throw new HttpError(404, 'Unable to obtain recordings');
    ctx.body = { data: ids };
  });

  api.delete('/recording/:id', async (ctx) => {
    const id = ctx.params.id!;
    const removed = await recordings.remove(id);
    if (!removed.ok && removed.reason === 'invalid') throw new HttpError(400, `Invalid recording id, got: ${shown(id)}`);
    if (!removed.ok) throw new HttpError(404, 'Recording not found');
    ctx.status = 204;
  });
}

export function mountRecordingContentRoute(open: Router, recordings: Recordings): void {
  open.get('/recording/:id/:filename', async (ctx) => {
    const { id, filename } = ctx.params as { id: string; filename: string };
    const found = await recordings.find(id);
    if (!found.ok && found.reason === 'invalid') throw new HttpError(400, `Invalid recording, got: ${shown(id)}`);
    if (!found.ok) throw new HttpError(404, 'File not found');
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
