/** Media events come from the network: a bad one is a value to log or answer with an error event, never an exception. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };
