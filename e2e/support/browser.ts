// Headless Debian Chromium with a fake camera and microphone, and a page that bundles the unmodified SDK.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

const html = '<!doctype html><html><body><script type="module" src="/client.js"></script></body></html>';

/** The test page's script: the unmodified SDK and page/client.ts, bundled. */
async function clientBundle(): Promise<string> {
  const bundle = await esbuild.build({
    entryPoints: [path.join(here, '../page/client.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return bundle.outputFiles[0]!.text;
}

/** Serves the bundled SDK page on a free localhost port. */
export async function servePage(): Promise<{ url: string; close: () => Promise<void> }> {
  const js = await clientBundle();
  const server = http.createServer((req, res) => {
    if (req.url === '/client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Chromium inside network namespace `ns` (a wrapper script that `ip netns exec`s it; playwright talks to it over
 * inherited pipes, so no socket crosses namespaces). Pages open with openRoutedPeerPage: the page is answered by
 * playwright from this process, never over the network.
 */
export async function launchChromiumIn(ns: string): Promise<Browser> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fj-chromium-'));
  const wrapper = path.join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  // The page (localhost) talks to the media server at a private address: Chromium's local network access checks
  // would block that without a permission prompt nobody can answer headless.
  const browser = await launchChromium(wrapper, ['--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights']);
  browser.on('disconnected', () => rmSync(dir, { recursive: true, force: true }));
  return browser;
}

/** The SDK page at http://localhost:8080/ (a secure context), fulfilled by playwright's routing. */
export async function openRoutedPeerPage(browser: Browser): Promise<Page> {
  const js = await clientBundle();
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}]`, m.text());
  });
  await page.route('http://localhost:8080/**', (route) => {
    const isScript = new URL(route.request().url()).pathname === '/client.js';
    return route.fulfill({ status: 200, contentType: isScript ? 'text/javascript' : 'text/html', body: isScript ? js : html });
  });
  await page.goto('http://localhost:8080/');
  await page.waitForFunction(() => (window as any).fishjam !== undefined, undefined, { timeout: 10_000 });
  return page;
}

export async function launchChromium(executablePath = CHROMIUM, extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      // Chromium sends fewer simulcast layers than asked for below 960x540 input (two at 640x480): lift that limit so
      // a 640x480 camera, cheap to encode on a busy 2-core machine, gives all three layers every time.
      '--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/',
      ...extraArgs,
    ],
  });
}

export async function openPeerPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(url);
  await page.waitForFunction(() => (window as any).fishjam !== undefined, undefined, { timeout: 10_000 });
  return page;
}
