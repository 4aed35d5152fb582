// The built-in cluster view (/cluster) on a two-node cluster on loopback, in Chromium: it asks for the server token
// (a token the operator set is never pre-filled), lists both nodes, and shows a room created through the REST API
// within 2 s (the page polls every second). A wrong token is refused and asked for again.
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { freePort, until, type RunningServer } from '../support/media-server.js';
import { PAGES_TOKEN, openPage, screenshot, startPagesServer } from '../support/pages.js';

let a: RunningServer;
let b: RunningServer;
let browser: Browser;

test.before(async () => {
  const dist = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: String(await freePort()), FJ_DIST_COOKIE: 'pages-e2e-cookie' };
  a = await startPagesServer({ ...dist, FJ_DIST_NODE_NAME: 'pages-a@127.0.0.1' });
  b = await startPagesServer({ ...dist, FJ_DIST_NODE_NAME: 'pages-b@127.0.0.1', FJ_DIST_NODES: 'pages-a@127.0.0.1' });
  await until(() => a.api('/health'), (r) => r.body?.data?.distribution?.nodesInCluster === 2, 20_000, 'a two-node cluster');
  browser = await launchChromium();
});

test.after.always(async () => {
  await browser?.close();
  for (const s of [b, a]) {
    const code = await s?.stop();
    if (code !== 0) console.error(s.output());
  }
});

const nodeRows = (p: Page) =>
  p.evaluate(() => Array.from(document.querySelectorAll('#nodes tr[data-node]') as NodeListOf<HTMLElement>).map((tr) => ({ node: tr.dataset.node!, rooms: Number(tr.querySelector('[data-field="rooms"]')!.textContent) })));
const roomIds = (p: Page) => p.evaluate(() => Array.from(document.querySelectorAll('#rooms tr[data-room]') as NodeListOf<HTMLElement>).map((tr) => tr.dataset.room!));

test('/cluster asks for the token, lists both nodes, and shows a new room within 2 s', async (t) => {
  const page = await openPage(browser, `${a.base}/cluster`);
  await page.waitForSelector('#token-form:not([hidden])');
  t.is(await page.inputValue('#token'), '', 'a token the operator set is never pre-filled');

  await page.fill('#token', 'not-the-token');
  await page.click('button[type="submit"]');
  await page.waitForSelector('#token-error:not([hidden])');
  t.regex((await page.textContent('#token-error')) ?? '', /did not accept/);

  await page.fill('#token', PAGES_TOKEN);
  await page.press('#token', 'Enter'); // the form works from the keyboard
  const nodes = await until(() => nodeRows(page), (rows) => rows.length === 2, 10_000, 'both nodes listed');
  t.deepEqual(nodes.map((n) => n.node).sort(), ['pages-a@127.0.0.1', 'pages-b@127.0.0.1']);
  t.is(await page.evaluate(() => sessionStorage.getItem('fishjam.serverToken')), PAGES_TOKEN, 'kept in session storage');

  const totalRooms = async () => (await nodeRows(page)).reduce((n, r) => n + r.rooms, 0);
  const before = await totalRooms();
  const created = await b.api('/room', { method: 'POST', json: { roomId: 'pages-cluster-room' } });
  t.is(created.status, 201);
  const at = Date.now();
  await until(totalRooms, (n) => n === before + 1, 2000, 'the room count to go up by one within 2 s');
  const countMs = Date.now() - at;
  await until(() => roomIds(page), (ids) => ids.includes('pages-cluster-room'), 2000, 'the room to be listed within 2 s');
  t.log(`room count updated ${countMs} ms after the create, listed ${Date.now() - at} ms after`);

  // a few more rooms and a demo peer, for a screenshot that shows placement at work
  for (let i = 0; i < 3; i++) t.is((await a.api('/room', { method: 'POST', json: {} })).status, 201);
  const demo = await fetch(`${a.base}/pages-api/demo/peer`, { method: 'POST', body: JSON.stringify({ room: 'lobby' }) });
  t.is(demo.status, 201);
  await until(totalRooms, (n) => n === before + 5, 3000, 'five rooms');
  const spread = await nodeRows(page);
  t.true(spread.every((n) => n.rooms > 0), `rooms on both nodes: ${JSON.stringify(spread)}`);
  t.regex((await page.textContent('#next-node')) ?? '', /pages-[ab]@127\.0\.0\.1/);
  await screenshot(page, 'cluster', true);

  // the data itself needs the token
  t.is((await fetch(`${a.base}/pages-api/cluster`)).status, 401);
  await page.close();
});
