import test from 'ava';
import { launchChromium, openPeerPage, servePage } from '../support/browser.js';
import { startTestNode } from '../../media-server/test/support/test-node.js';
test('debug3', async (t) => {
  process.env.FJ_TEST_LOGS = '1';
  const n = await startTestNode({ FJ_WEBRTC_LISTEN_IP: '127.0.0.1', FJ_LOG_LEVEL: 'debug' });
  const page = await servePage();
  const browser = await launchChromium();
  try {
    const roomId = (await n.api('/room', { method: 'POST', json: {} })).body.data.room.id;
    const pages = [];
    for (const [name, sim] of [['a', false], ['c', true]] as const) {
      const token = (await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } })).body.data.token;
      const p = await openPeerPage(browser, page.url);
      p.on('console', (m) => console.log('[console]', name, m.text().slice(0, 300)));
      const r = await Promise.race([p.evaluate((o) => (window as any).fishjam.join(o), { host: `127.0.0.1:${n.node.httpPort}`, token, name, audio: true, video: true, simulcast: sim }).catch((e) => 'ERR ' + e.message), new Promise((r) => setTimeout(() => r('TIMEOUT'), 15000))]);
      console.log('join', name, r);
      pages.push(p);
    }
    await new Promise((r) => setTimeout(r, 3000));
    for (const p of pages) console.log(JSON.stringify(await p.evaluate(() => (window as any).fishjam.inbound())));
    const st = await pages[1]!.evaluate(() => (window as any).fishjam.connectionState());
    console.log('LOCAL-C', st.local);
    console.log('REMOTE-C', st.remote);
    t.truthy(true);
  } finally { await browser.close(); await page.close(); await n.stop(); }
});
