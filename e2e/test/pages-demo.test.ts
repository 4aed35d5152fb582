// The built-in demo room (/demo/<room>) and landing page in Chromium with fake camera and microphone: two pages on the
// same URL each play the other's video under the other's name, see the other's mute, and see the other's tile go
// when the other leaves. Screenshots of both pages go to docs/screenshots.
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { until, type RunningServer } from '../support/media-server.js';
import { openPage, screenshot, startPagesServer } from '../support/pages.js';

let server: RunningServer;
let browser: Browser;

test.before(async () => {
  server = await startPagesServer();
  browser = await launchChromium();
});

test.after.always(async () => {
  await browser?.close();
  const code = await server?.stop();
  if (code !== 0) console.error(server.output());
});

interface RemoteView {
  peers: Array<{ name: string; width: number; time: number; muted: boolean }>;
}

/** The remote tiles of a demo page: each one's name label, decoded video width, playback time and mute icon. */
const remoteView = (p: Page): Promise<RemoteView> =>
  p.evaluate(() => ({
    peers: Array.from(document.querySelectorAll('[data-peer-id]') as NodeListOf<HTMLElement>).map((tile) => {
      const video = tile.querySelector('video')!;
      const muted = (tile.querySelector('[aria-label="microphone muted"]') as HTMLElement | null);
      return { name: tile.querySelector('.peer-name')?.textContent ?? '', width: video.videoWidth, time: video.currentTime, muted: muted ? !muted.hidden : false };
    }),
  }));

const playing = (name: string) => (v: RemoteView) => v.peers.length === 1 && v.peers[0]!.name === name && v.peers[0]!.width > 0 && v.peers[0]!.time > 0.5;

test('two pages on /demo/<room> play each other\'s video, see a mute, and lose the tile when the other leaves', async (t) => {
  const url = `${server.base}/demo/e2e-pages`;
  const alice = await openPage(browser, `${url}?name=Alice`);
  const bob = await openPage(browser, `${url}?name=Bob`);
  const started = Date.now();
  const seenByAlice = await until(() => remoteView(alice), playing('Bob'), 30_000, 'Alice to play Bob\'s video');
  const seenByBob = await until(() => remoteView(bob), playing('Alice'), 30_000, 'Bob to play Alice\'s video');
  t.log(`both playing after ${Date.now() - started} ms; Alice sees ${JSON.stringify(seenByAlice.peers[0])}, Bob sees ${JSON.stringify(seenByBob.peers[0])}`);

  // the share link is this page's room, and the room the node holds is the demo room with both peers in it
  t.is(await alice.inputValue('#share-link'), url);
  const room = await server.api('/room/demo-e2e-pages');
  t.is(room.status, 200);
  t.deepEqual(room.body.data.peers.map((p: { metadata: { name: string } }) => p.metadata?.name).sort(), ['Alice', 'Bob']);

  await alice.click('#toggle-mic');
  t.is(await alice.getAttribute('#toggle-mic', 'aria-pressed'), 'true');
  await until(() => remoteView(bob), (v) => v.peers[0]?.muted === true, 10_000, 'Bob to see Alice muted');
  await alice.click('#toggle-mic');
  await until(() => remoteView(bob), (v) => v.peers[0]?.muted === false, 10_000, 'Bob to see Alice unmuted');

  await screenshot(alice, 'demo');

  const left = Date.now();
  await bob.click('#leave');
  await until(() => remoteView(alice), (v) => v.peers.length === 0, 10_000, 'Bob\'s tile to leave Alice\'s page');
  t.log(`Bob's tile gone from Alice's page ${Date.now() - left} ms after he left`);
  t.true(await bob.isVisible('#rejoin'), 'the leaver is offered to join again');
  t.regex((await bob.textContent('#status')) ?? '', /left/);
  await Promise.all([alice.close(), bob.close()]);
});

test('the landing page names the node and links the pages this node serves', async (t) => {
  const page = await openPage(browser, `${server.base}/`);
  await page.waitForFunction(() => document.getElementById('fact-mode')?.textContent === 'development');
  t.is(await page.textContent('#fact-cluster'), 'single node');
  for (const id of ['#card-demo', '#card-cluster', '#card-check']) t.true(await page.isVisible(id), id);
  t.is(await page.getAttribute('#card-demo', 'href'), '/demo');
  await screenshot(page, 'landing');
  await page.close();
});
