import { readFileSync } from 'node:fs';

/** The recorded first join of @fishjam-dev/ts-client 0.5.0 in Chromium (copied from shared/spec/captures). */
export interface CapturedExchange {
  exchange: { dir: 'client' | 'server'; message: Record<string, unknown> }[];
}

export function loadCapture(): CapturedExchange {
  const url = new URL('../../fixtures/ts-client-0.5.0-first-exchange.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as CapturedExchange;
}

/** Media events in the order they were sent; `json` is what travelled in media_event.data. */
export function capturedMediaEvents(dir: 'client' | 'server'): { json: string; parsed: unknown }[] {
  return loadCapture()
    .exchange.filter((entry) => entry.dir === dir && 'mediaEvent' in entry.message)
    .map((entry) => ({ json: JSON.stringify(entry.message.mediaEvent), parsed: entry.message.mediaEvent }));
}
