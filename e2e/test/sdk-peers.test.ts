// The unmodified Fishjam web SDK (@fishjam-dev/ts-client 0.5.0) in headless Chromium against our server: peers
// publish fake camera + microphone, receive each other's media (decoded frames, audio packets), a simulcast
// publisher's layers are switched by a receiver, and a peer that leaves is removed from the others.
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPeerPage, servePage } from '../support/browser.js';
import { startMediaServer, until, type RunningServer } from '../support/media-server.js';

let server: RunningServer;
let browser: Browser;
let page: { url: string; close: () => Promise<void> };

test.before(async () => {
  server = await startMediaServer({ FJ_WEBRTC_LISTEN_IP: '127.0.0.1' });
  page = await servePage();
  browser = await launchChromium();
});

test.after.always(async () => {
  await browser?.close();
  await page?.close();
  const code = await server?.stop();
  if (code !== 0) console.error(server.output());
});

async function addPeer(roomId: string): Promise<string> {
  const res = await server.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: { enableSimulcast: true } } });
  if (res.status !== 201) throw new Error(`add peer: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.token as string;
}

async function join(p: Page, token: string, name: string, simulcast = false): Promise<string> {
  return p.evaluate((o) => (window as any).fishjam.join(o), { host: server.host, token, name, audio: true, video: true, simulcast });
}

type Inbound = { videoFramesDecoded: number; audioPackets: number; videoTracks: number; audioTracks: number; frameWidth: number };
const inbound = (p: Page): Promise<Inbound> => p.evaluate(() => (window as any).fishjam.inbound());
const logOf = (p: Page): Promise<string[]> => p.evaluate(() => (window as any).fishjam.log);

test('two SDK peers exchange audio and video; a simulcast peer switches layers; a leaving peer is removed', async (t) => {
  const room = await server.api('/room', { method: 'POST', json: { videoCodec: 'vp8' } });
  t.is(room.status, 201);
  const roomId = room.body.data.room.id as string;
  const [alice, bob] = [await openPeerPage(browser, page.url), await openPeerPage(browser, page.url)];
  try {
    const aliceId = await join(alice, await addPeer(roomId), 'alice');
    const bobId = await join(bob, await addPeer(roomId), 'bob');
    t.not(aliceId, bobId);

    for (const [name, p] of [['alice', alice], ['bob', bob]] as const) {
      const got = await until(() => inbound(p), (s) => s.videoFramesDecoded > 10 && s.audioPackets > 20 && s.videoTracks === 1 && s.audioTracks === 1, 45_000, `${name} to decode the other's media`).catch(async (e) => {
        console.error(name, (await logOf(p)).join('\n'));
        throw e;
      });
      t.true(got.videoFramesDecoded > 10, `${name} decoded ${got.videoFramesDecoded} frames`);
      t.true(got.audioPackets > 20, `${name} got ${got.audioPackets} audio packets`);
    }
    const shown = await server.api(`/room/${roomId}`);
    t.deepEqual(shown.body.data.peers.map((p: any) => [p.status, p.tracks.length]), [['connected', 2], ['connected', 2]]);

    console.error('[e2e] two peers exchange media');
    // A third peer publishes simulcast; alice asks for its low layer, then its high layer.
    const carol = await openPeerPage(browser, page.url);
    const carolId = await join(carol, await addPeer(roomId), 'carol', true);
    const carolVideo = await until(
      () => alice.evaluate(() => (window as any).fishjam.remoteTracks() as Array<{ trackId: string; kind: string; endpointId: string }>),
      (tracks) => tracks.some((r) => r.endpointId === carolId && r.kind === 'video'),
      30_000,
      "carol's video at alice",
    ).then((tracks) => tracks.find((r) => r.endpointId === carolId && r.kind === 'video')!);
    console.error('[e2e] carol joined with simulcast');
    await until(() => inbound(alice), (s) => s.videoTracks === 2 && s.videoFramesDecoded > 40, 30_000, 'alice to decode two videos');
    console.error('[e2e] alice decodes two videos');
    await alice.evaluate((id) => (window as any).fishjam.setTargetEncoding(id, 'l'), carolVideo.trackId);
    await until(() => alice.evaluate(() => (window as any).fishjam.remoteTracks()), (tracks: any[]) => tracks.some((r) => r.trackId === carolVideo.trackId && r.encoding === 'l'), 20_000, 'encodingSwitched to l');
    await alice.evaluate((id) => (window as any).fishjam.setTargetEncoding(id, 'h'), carolVideo.trackId);
    await until(() => alice.evaluate(() => (window as any).fishjam.remoteTracks()), (tracks: any[]) => tracks.some((r) => r.trackId === carolVideo.trackId && r.encoding === 'h'), 20_000, 'encodingSwitched to h');

    // Bob leaves: the others are told and his tracks disappear from theirs.
    await bob.evaluate(() => (window as any).fishjam.leave());
    await until(() => logOf(alice), (log) => log.some((l) => l.includes(`peerLeft ${bobId}`)), 15_000, 'alice to see bob leave');
    const aliceTracks = await alice.evaluate(() => (window as any).fishjam.remoteTracks() as Array<{ endpointId: string }>);
    t.false(aliceTracks.some((r) => r.endpointId === bobId));
    await until(() => server.api(`/room/${roomId}`), (r) => r.body.data.peers.find((p: any) => p.id === bobId)?.tracks.length === 0, 10_000, 'bob without tracks in REST');
    await carol.close();
  } finally {
    await alice.close();
    await bob.close();
  }
});
