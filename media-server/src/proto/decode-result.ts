/** Frames come from the network: decoding reports garbage as a value instead of throwing. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };
