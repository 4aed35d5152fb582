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

type SentLayer = { rid: string; frameWidth: number; framesEncoded: number; framesPerSecond: number; qualityLimitationReason: string };
type Decoded = { frameWidth: number; frameHeight: number; framesDecoded: number; framesPerSecond: number };
const RID_ORDER = ['l', 'm', 'h'];

/** The layers the publisher is sending (frames encoded in the last half second) and what the receiver decodes. */
async function decodedAgainstSent(receiver: Page, publisher: Page, trackId: string): Promise<{ sent: Record<string, SentLayer>; received?: Decoded; encoding?: string }> {
  const before: SentLayer[] = await publisher.evaluate(() => (window as any).fishjam.sentLayers());
  await new Promise((r) => setTimeout(r, 500));
  const after: SentLayer[] = await publisher.evaluate(() => (window as any).fishjam.sentLayers());
  const sent: Record<string, SentLayer> = {};
  for (const layer of after) {
    const earlier = before.find((b) => b.rid === layer.rid);
    if (earlier && layer.framesEncoded > earlier.framesEncoded) sent[layer.rid] = layer;
  }
  const received: Decoded | undefined = await receiver.evaluate((id) => (window as any).fishjam.remoteVideo(id), trackId);
  const tracks: Array<{ trackId: string; encoding?: string }> = await receiver.evaluate(() => (window as any).fishjam.remoteTracks());
  return { sent, received, encoding: tracks.find((r) => r.trackId === trackId)?.encoding };
}

function topLayer(sent: Record<string, SentLayer>): SentLayer | undefined {
  const rid = [...RID_ORDER].reverse().find((r) => sent[r] !== undefined);
  return rid === undefined ? undefined : sent[rid];
}

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
    // Alice asks for carol's low layer, then for the top one. The test follows the layers carol's encoder really
    // sends (a busy machine may make Chromium drop its top layer), and checks what alice decodes, not only the event.
    await alice.evaluate((id) => (window as any).fishjam.setTargetEncoding(id, 'l'), carolVideo.trackId);
    await until(() => alice.evaluate(() => (window as any).fishjam.remoteTracks()), (tracks: any[]) => tracks.some((r) => r.trackId === carolVideo.trackId && r.encoding === 'l'), 20_000, 'encodingSwitched to l');
    const low = await until(
      () => decodedAgainstSent(alice, carol, carolVideo.trackId),
      (d) => d.sent.l !== undefined && d.received?.frameWidth === d.sent.l.frameWidth,
      15_000,
      "alice to decode carol's l layer",
    );
    console.error(`[e2e] l layer: decoded ${low.received?.frameWidth}x${low.received?.frameHeight} at ${low.received?.framesPerSecond} fps`);

    const askedTop = Date.now();
    await alice.evaluate((id) => (window as any).fishjam.setTargetEncoding(id, 'h'), carolVideo.trackId);
    const top = await until(
      () => decodedAgainstSent(alice, carol, carolVideo.trackId),
      (d) => {
        const best = topLayer(d.sent);
        return best !== undefined && d.encoding === best.rid && d.received?.frameWidth === best.frameWidth && d.received.framesPerSecond > 15;
      },
      20_000,
      "alice to decode carol's top layer at more than 15 fps",
    ).catch(async (e) => {
      console.error('alice', (await logOf(alice)).join('\n'), JSON.stringify(await decodedAgainstSent(alice, carol, carolVideo.trackId)));
      throw e;
    });
    const best = topLayer(top.sent)!;
    console.error(`[e2e] top layer ${best.rid} (carol sends ${Object.keys(top.sent).join(',')}): decoded ${top.received?.frameWidth}x${top.received?.frameHeight} at ${top.received?.framesPerSecond} fps, ${Date.now() - askedTop} ms after asking`);
    t.true(top.received!.frameWidth > low.received!.frameWidth, 'the top layer is larger than the low one');

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

test('two SDK publishers joining within 20 ms both receive each other\'s media (no renegotiation glare)', async (t) => {
  const room = await server.api('/room', { method: 'POST', json: { videoCodec: 'vp8' } });
  const roomId = room.body.data.room.id as string;
  const [dave, erin] = [await openPeerPage(browser, page.url), await openPeerPage(browser, page.url)];
  try {
    const [daveToken, erinToken] = [await addPeer(roomId), await addPeer(roomId)];
    const started = Date.now();
    const [daveJoin, erinJoin] = [join(dave, daveToken, 'dave'), new Promise((r) => setTimeout(r, 10)).then(() => join(erin, erinToken, 'erin'))];
    await Promise.all([daveJoin, erinJoin]);
    for (const [name, p] of [['dave', dave], ['erin', erin]] as const) {
      const got = await until(() => inbound(p), (s) => s.videoFramesDecoded > 10 && s.audioPackets > 20 && s.videoTracks === 1 && s.audioTracks === 1, 30_000, `${name} to decode the other's media`).catch(async (e) => {
        console.error(name, (await logOf(p)).join('\n'), JSON.stringify(await p.evaluate(() => (window as any).fishjam.connectionState())));
        throw e;
      });
      t.true(got.videoFramesDecoded > 10, `${name} decoded ${got.videoFramesDecoded} frames`);
    }
    console.error(`[e2e] simultaneous publishers: both decode each other ${Date.now() - started} ms after joining`);
  } finally {
    await dave.close();
    await erin.close();
  }
});
