// Reads a request body as a JSON object with a size limit. Like Fishjam, an empty body is an empty object (so
// `curl -X POST /room` works), and the content type is not required to be JSON (curl -d sends form encoding).
import type Koa from 'koa';
import { HttpError } from './http-error.js';

export const MAX_BODY_BYTES = 64 * 1024;

export async function readJsonObject(ctx: Koa.Context, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) {
    ctx.req.resume();
    throw new HttpError(413, `Request body too large: ${declared} bytes, the limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.req.resume();
      throw new HttpError(413, `Request body too large: more than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `Invalid JSON in request body: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'Invalid request body structure: expected a JSON object');
  }
  return value as Record<string, unknown>;
}
