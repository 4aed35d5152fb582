/** SDP comes from the network: problems are returned as values with a message, never thrown. */
export type SdpResult<T> = { ok: true; value: T } | { ok: false; error: string };
