// Deadlines for API calls. @kubernetes/client-node's typed clients take no AbortSignal, so a call that the API server
// never answers (a hung apiserver, a black-holed connection) would hang its caller until TCP keepalive gives up
// (minutes). Every call is raced against a timer instead: the caller gets a DeadlineError (code 504, so it is
// retried like any server error) and moves on; the abandoned request ends whenever its socket does.

export class DeadlineError extends Error {
  readonly code = 504;
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms === Infinity) return promise;
  // NaN or negative: no time at all (a garbage deadline must not turn into "wait forever").
  if (!(ms > 0)) ms = 0;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, Math.max(0, Math.round(ms)))), Math.max(0, ms));
  });
  // A late rejection of the abandoned call must not surface as an unhandled rejection.
  promise.catch(() => undefined);
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** The same object with every method's promise bounded by `ms`. */
export function withDeadlines<T extends object>(api: T, ms: number): T {
  const wrapped = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(api)) {
    wrapped[name] =
      typeof fn === 'function'
        ? (...args: unknown[]) => withDeadline(Promise.resolve((fn as (...a: unknown[]) => unknown).apply(api, args)), ms, name)
        : fn;
  }
  return wrapped as T;
}
