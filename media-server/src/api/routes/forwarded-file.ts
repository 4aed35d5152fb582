// A file answer that another node of the cluster produced (cluster/cluster-files.ts fetches it over the dist link):
// sent to this node's client as the owner would have sent it. The body arrives chunk by chunk while the client reads.
import type { ParameterizedContext } from 'koa';
import type { Readable } from 'node:stream';

export interface ForwardedFile {
  readonly contentType: string;
  readonly cacheControl?: string;
  /** bytes of the whole body */
  readonly size: number;
  readonly body: Buffer | Readable;
}

export function sendForwarded(ctx: ParameterizedContext, answer: ForwardedFile): void {
  ctx.status = 200;
  ctx.type = answer.contentType;
  if (answer.cacheControl !== undefined) ctx.set('cache-control', answer.cacheControl);
  ctx.length = answer.size;
  ctx.body = answer.body;
}
