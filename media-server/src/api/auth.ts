// Bearer authentication with the server API token (FJ_SERVER_API_TOKEN); constant-time comparison.
import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { HttpError } from './http-error.js';

export function bearerAuth(token: string): Koa.Middleware {
  const expected = digest(token);
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) throw new HttpError(401, 'Missing token');
    if (!timingSafeEqual(digest(match[1]!.trim()), expected)) throw new HttpError(401, 'Invalid token');
    await next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
