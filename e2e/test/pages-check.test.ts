// The built-in connection check (/check) in Chromium: on a working node every step passes (with an RTT and a
// received bitrate); on a node whose TURN address cannot be reached (announced as 127.0.0.2, where nothing listens)
// the TURN step fails with its hint, and the summary names it.
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import type { RunningServer } from '../support/media-server.js';
import { openPage, screenshot, startPagesServer } from '../support/pages.js';

let browser: Browser;
const servers: RunningServer[] = [];

test.before(async () => {
  browser = await launchChromium();
});

test.after.always(async () => {
  await browser?.close();
  for (const s of servers) {
    const code = await s.stop();
    if (code !== 0) console.error(s.output());
  }
});

type Steps = Record<string, { status: string; detail: string; hint: string }>;

async function runCheck(page: Page): Promise<{ steps: Steps; summary: string; rttMs: string; downKbps: string }> {
  await page.waitForSelector('#steps[data-done="true"]', { timeout: 90_000 });
  return page.evaluate(() => {
    const steps: Record<string, { status: string; detail: string; hint: string }> = {};
    for (const li of Array.from(document.querySelectorAll('#steps li') as NodeListOf<HTMLElement>)) {
      steps[li.dataset.step!] = { status: li.dataset.status!, detail: li.querySelector('.detail')!.textContent!, hint: (li.querySelector('.hint') as HTMLElement | null)!.hidden ? '' : li.querySelector('.hint')!.textContent! };
    }
    const list = document.getElementById('steps')!;
    return { steps, summary: document.getElementById('summary')!.textContent!, rttMs: list.dataset.rttMs ?? '', downKbps: list.dataset.downKbps ?? '' };
  });
}

test.serial('/check passes every step on a working node', async (t) => {
  const server = await startPagesServer();
  servers.push(server);
  const page = await openPage(browser, `${server.base}/check`);
  const result = await runCheck(page);
  for (const [id, step] of Object.entries(result.steps)) t.log(`${id}: ${step.status} - ${step.detail}`);
  t.deepEqual(Object.keys(result.steps), ['signalling', 'turn', 'ice', 'publish', 'receive', 'quality']);
  for (const [id, step] of Object.entries(result.steps)) t.is(step.status, 'pass', `${id}: ${step.detail}`);
  t.regex(result.summary, /All steps passed/);
  t.true(Number(result.rttMs) >= 0 && result.rttMs !== '', `RTT ${result.rttMs} ms`);
  t.true(Number(result.downKbps) > 50, `received ${result.downKbps} kbit/s`);
  const loopback = await page.evaluate(() => (document.getElementById('loopback') as HTMLVideoElement).videoWidth);
  t.true(loopback > 0, 'the page shows its own video received back');
  await screenshot(page, 'check');
  await page.close();
});

test.serial('/check names the TURN step when the TURN server cannot be reached', async (t) => {
  const server = await startPagesServer({ FJ_WEBRTC_TURN_IP: '127.0.0.2' });
  servers.push(server);
  const page = await openPage(browser, `${server.base}/check`);
  const result = await runCheck(page);
  for (const [id, step] of Object.entries(result.steps)) t.log(`${id}: ${step.status} - ${step.detail}`);
  t.is(result.steps.signalling!.status, 'pass');
  t.is(result.steps.turn!.status, 'fail');
  t.regex(result.steps.turn!.hint, /FJ_WEBRTC_TURN_PORT/);
  t.regex(result.steps.turn!.detail, /127\.0\.0\.2/);
  t.regex(result.summary, /Failed: TURN relay/);
  await screenshot(page, 'check-turn-unreachable');
  await page.close();
});
