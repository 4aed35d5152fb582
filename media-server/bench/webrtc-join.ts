// Join latency with the real SDK (benchmark, not a test): N sequential joins of the unmodified
// @fishjam-dev/ts-client 0.5.0 in headless Chromium, each a receive-only peer entering a room where one Chromium
// peer publishes its fake camera; timed in the page from the websocket's `open` to `joined`, to the remote video's
// trackReady, to the first decoded frame (getStats framesDecoded > 0, polled every 10 ms) and to the first frame
// presented (requestVideoFrameCallback). The node runs in-process (startTestNode: real worker, coturn; the SDK relays
// through TURN). Prints p50/p95.
//
//   npm run bench:webrtc -w media-server        or   N=20 node --import tsx bench/webrtc-join.ts   (N <= 50)
import type { Page } from 'playwright-core';
import { launchChromium, openPeerPage, servePage } from '../../e2e/support/browser.js';
import { startTestNode } from '../test/support/test-node.js';
import { percentile, withTimeout } from './webrtc-support.js';

const N = Math.max(1, Math.min(Number(process.env.N ?? process.argv[2] ?? 10), 50));
const JOIN_TIMEOUT_MS = 20_000;

type Timing = { joined: number; trackReady: number; firstDecoded: number; firstRendered: number };

const n = await startTestNode({ FJ_WEBRTC_LISTEN_IP: '127.0.0.1' });
const page = await servePage();
const browser = await launchChromium();
const timings: Timing[] = [];
let failures = 0;
try {
  const roomId = (await n.api('/room', { method: 'POST', json: { videoCodec: 'vp8' } })).body.data.room.id as string;
  const addPeer = async (): Promise<{ id: string; token: string }> => {
    const res = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
    return { id: res.body.data.peer.id as string, token: res.body.data.token as string };
  };
  const host = `127.0.0.1:${n.node.httpPort}`;

  // the publisher: camera only, until the room lists its video track
  const publisher = await openPeerPage(browser, page.url);
  await withTimeout(publisher.evaluate((o) => (window as any).fishjam.join(o), { host, token: (await addPeer()).token, name: 'publisher', audio: false, video: true, simulcast: false }), JOIN_TIMEOUT_MS, 'the publisher to join');
  const deadline = Date.now() + 15_000;
  while (!(await n.api(`/room/${roomId}`)).body.data.peers.some((p: any) => p.tracks.length > 0)) {
    if (Date.now() > deadline) throw new Error('the publisher did not publish');
    await new Promise((r) => setTimeout(r, 100));
  }

  console.log(`join latency: ${N} sequential SDK joins (headless Chromium, receive-only) into a room with one VP8 publisher`);
  for (let i = 0; i < N; i++) {
    const peer = await addPeer();
    let p: Page | undefined;
    try {
      p = await openPeerPage(browser, page.url);
      const t = (await withTimeout(
        p.evaluate((o) => (window as any).fishjam.timedJoin(o), { host, token: peer.token, name: `joiner-${i}`, timeoutMs: JOIN_TIMEOUT_MS }),
        JOIN_TIMEOUT_MS + 2000,
        `join ${i}`,
      )) as Timing;
      timings.push(t);
      console.log(`  join ${String(i + 1).padStart(2)}: joined ${t.joined.toFixed(0)} ms, trackReady ${t.trackReady.toFixed(0)} ms, first decoded ${t.firstDecoded.toFixed(0)} ms, first rendered ${t.firstRendered.toFixed(0)} ms`);
    } catch (error) {
      failures++;
      console.log(`  join ${i + 1}: FAILED ${(error as Error).message}`);
    } finally {
      await p?.close().catch(() => undefined);
      await n.api(`/room/${roomId}/peer/${peer.id}`, { method: 'DELETE' });
    }
  }
} finally {
  await browser.close().catch(() => undefined);
  await page.close();
  await n.stop();
}

console.log('');
for (const key of ['joined', 'trackReady', 'firstDecoded', 'firstRendered'] as const) {
  const values = timings.map((t) => t[key]).filter((v) => v >= 0);
  console.log(`socket open -> ${key.padEnd(13)} p50 ${percentile(values, 50).toFixed(0).padStart(5)} ms   p95 ${percentile(values, 95).toFixed(0).padStart(5)} ms   (${values.length} joins)`);
}
console.log(`failed joins: ${failures}/${N}`);
process.exit(failures === N ? 1 : 0);
