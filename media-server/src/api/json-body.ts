// Reads a request body as a JSON object with a size limit. Like Fishjam, an empty body is an empty object (so
// `curl -X POST /room` works), and the content type is not required to be JSON (curl -d sends form encoding).
//
// A body over the limit gets a 413 the client can read, even a client that writes its whole body before it reads:
// nothing more is buffered, the 413 is sent at once with `Connection: close`, and the rest of the body is read and
// thrown away (a "lingering close", RFC 9112 section 9.6) until it ends; only then is the connection closed, so the
// client's kernel is never answered with a reset that would drop the unread 413. Discarding is bounded: after
// DISCARD_MAX_BYTES more bytes or DISCARD_MAX_MS, whichever comes first, the connection is closed anyway (a client
// sending an endless body is cut off; one that reads while it writes has had the 413 all that time).
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import { HttpError } from './http-error.js';

export const MAX_BODY_BYTES = 64 * 1024;
/** How much of a refused body is read and thrown away before the connection is closed regardless. */
export const DISCARD_MAX_BYTES = 32 * 1024 * 1024;
/** How long a refused body is read and thrown away before the connection is closed regardless. */
export const DISCARD_MAX_MS = 30_000;

export interface DiscardLimits {
  readonly maxBytes: number;
  readonly maxMs: number;
}

/** How the rest of a refused body went: read to its end, cut at a limit, or the client went away. */
export type DiscardOutcome = 'ended' | 'cut' | 'closed';

/** Requests whose body was refused, with the discarding of the rest of the body under way. */
const discarding = new WeakMap<IncomingMessage, Promise<DiscardOutcome>>();

export async function readJsonObject(ctx: Koa.Context, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw refuse(ctx.req, `Request body too large: ${declared} bytes, the limit is ${limit}`);
  const body = await readAtMost(ctx.req, limit);
  if (body === undefined) throw refuse(ctx.req, `Request body too large: more than ${limit} bytes`);
  const text = body.toString('utf8').trim();
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

/**
 * Koa middleware, mounted outside the error handling: when a body was refused, sends the error response at once
 * with `Connection: close` but ends it (and so lets node close the connection) only once the rest of the body has
 * been discarded or a discard limit was reached.
 */
export function refusedBodyLingering(): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    const rest = discarding.get(ctx.req);
    if (!rest || ctx.res.headersSent) return;
    const payload = Buffer.from(typeof ctx.body === 'string' ? ctx.body : JSON.stringify(ctx.body ?? { errors: 'Request body too large' }));
    // Written here rather than by koa: koa would end the response at once, and a client going away mid-body is
    // expected here, not an error to report.
    ctx.length = payload.length;
    ctx.set('Connection', 'close');
    ctx.respond = false;
    const res = ctx.res;
    res.write(payload);
    void rest.then(() => {
      if (!res.destroyed) res.end();
    });
  };
}

/** The whole body if it has at most `limit` bytes; otherwise undefined, with the stream left flowing. */
function readAtMost(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle(() => resolve(undefined));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks)));
    const onError = (error: Error) => settle(() => reject(new HttpError(400, `Request body could not be read: ${error.message}`)));
    const onClose = () => settle(() => reject(new HttpError(400, 'Request body incomplete: the client closed the connection')));
    if (req.readableEnded) return resolve(Buffer.alloc(0));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

/**
 * Refused bodies being discarded at once, node-wide. Each may hold a connection for DISCARD_MAX_MS and read
 * DISCARD_MAX_BYTES; past this many (a client sending huge bodies in a loop, to an endpoint anyone may call), a
 * refused body's connection is closed right after its 413 instead (that client may then miss the 413: it asked for it).
 */
export const MAX_LINGERING_DISCARDS = 32;
let lingering = 0;

function refuse(req: IncomingMessage, message: string): HttpError {
  if (!discarding.has(req)) {
    const limits = lingering < MAX_LINGERING_DISCARDS ? { maxBytes: DISCARD_MAX_BYTES, maxMs: DISCARD_MAX_MS } : { maxBytes: 0, maxMs: 0 };
    lingering++;
    const rest = discardRest(req, limits);
    void rest.finally(() => lingering--);
    discarding.set(req, rest);
  }
  return new HttpError(413, message);
}

/** Refused bodies being discarded now (tests). */
export function lingeringDiscards(): number {
  return lingering;
}

/** Reads the rest of a body and drops it, up to the limits; never buffers. */
export function discardRest(req: IncomingMessage, limits: DiscardLimits): Promise<DiscardOutcome> {
  return new Promise((resolve) => {
    if (req.readableEnded || req.complete) {
      req.resume();
      return resolve('ended');
    }
    let bytes = 0;
    const settle = (outcome: DiscardOutcome) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) settle('cut');
    };
    const onEnd = () => settle('ended');
    const onClose = () => settle(req.complete ? 'ended' : 'closed');
    const timer = setTimeout(() => settle('cut'), limits.maxMs);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.on('error', () => undefined); // a reset while discarding is the client's business
    req.resume();
  });
}
