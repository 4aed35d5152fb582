// One error shape everywhere, {"errors": "..."}: domain errors, bad bodies, unknown routes and crashes alike.
// A crash is logged with its stack and answered with a message that reveals nothing internal.
import type Koa from 'koa';
import type { Logger } from 'pino';
import { toHttpError } from './http-error.js';

export function errorHandling(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { errors: `No route for ${ctx.method} ${ctx.path}` };
      } else if (ctx.status === 405 || ctx.status === 501) {
        ctx.body = { errors: `Method ${ctx.method} is not allowed on ${ctx.path}` };
      }
    } catch (error) {
      const http = toHttpError(error);
      if (http) {
        ctx.status = http.status;
        ctx.body = { errors: http.message };
        return;
      }
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        ctx.status = status;
        ctx.body = { errors: (error as Error).message };
        return;
      }
      logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = { errors: 'Internal server error' };
    }
  };
}
