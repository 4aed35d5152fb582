// For the built-in pages' tests: media servers on ports of their own (TURN, relay and media ranges included, so a
// test never meets another suite's coturn on 3478), Chromium pages on them, and screenshots into docs/screenshots.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { freePort, startMediaServer, type RunningServer } from './media-server.js';

export const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');

/** A token no page may contain (the tests grep served bytes for it). */
export const PAGES_TOKEN = 'pages-e2e-5f1c9a7d-server-token';

let nextBase = 20_000 + Math.floor(Math.random() * 80) * 100;

/** Media and relay port ranges nobody else's test uses (a random block of 100 per server, 20000-27999). */
async function isolatedPorts(): Promise<Record<string, string>> {
  const base = nextBase;
  nextBase = 20_000 + ((nextBase - 20_000 + 100) % 8000);
  return {
    FJ_WEBRTC_LISTEN_IP: '127.0.0.1',
    FJ_WEBRTC_MIN_PORT: String(base),
    FJ_WEBRTC_MAX_PORT: String(base + 49),
    FJ_WEBRTC_TURN_PORT: String(await freePort()),
    FJ_WEBRTC_TURN_PORT_RANGE: `${base + 50}-${base + 99}`,
  };
}

export async function startPagesServer(env: Record<string, string> = {}): Promise<RunningServer> {
  return startMediaServer({ FJ_SERVER_API_TOKEN: PAGES_TOKEN, ...(await isolatedPorts()), ...env });
}

export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error('[page console]', m.text());
  });
  await page.goto(url);
  return page;
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}
