// Reading errors thrown by @kubernetes/client-node: typed APIs throw ApiException (code + Status body), the
// watch throws an Error with statusCode.
export function errorCode(err: unknown): number | undefined {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; statusCode?: unknown };
    if (typeof e.code === 'number') return e.code;
    if (typeof e.statusCode === 'number') return e.statusCode;
  }
  return undefined;
}

/** The API server's own message when there is one (a Status body), else the error text. */
export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    const body = (err as { body?: unknown }).body;
    const parsed = typeof body === 'string' ? safeParse(body) : body;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') {
      const code = errorCode(err);
      return `${code ? `${code}: ` : ''}${(parsed as { message: string }).message}`;
    }
  }
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
