// SIP end to end with real counterparts, all on loopback with configs generated into a temp folder: Kamailio (Debian)
// as the registrar and proxy (digest auth for REGISTER and INVITE), baresip (Debian) as the callee, registered there,
// answering by itself, playing a 440 Hz tone and recording what it hears. A `sip` component registers, dials the callee
// on POST /sip/:room/:component/call; the tone arrives in the room as an audio track that an SDK peer in Chromium
// (unmodified @fishjam-dev/ts-client) decodes with energy; the peer's microphone (Chromium's fake device, a beep)
// reaches the callee mixed as G.711 A-law; DELETE hangs up (204, TrackRemoved, baresip sees the call end); the callee
// hanging up (BYE), the room's last other publisher leaving, and the callee vanishing (SIGKILL, then 30 s of silence)
// end later calls of the same component. The node runs
// as its own process (media-server/dist) with FJ_SIP_IP=127.0.0.1.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ServerEventType, ServerTrackType } from '../../media-server/src/proto/index.js';
import { ServerSocket, terminateAll } from '../../media-server/test/notifications/support/sockets.js';
import { validateAgainst } from '../../media-server/test/support/openapi-validator.js';
import { launchChromium, openPeerPage, servePage } from '../support/browser.js';
import { freePort, startMediaServer, until, type RunningServer } from '../support/media-server.js';
import { startBaresipCallee, startKamailio, wavRms, type Callee, type Running } from '../support/sip-lab.js';

const FJ_PASSWORD = 'fj-sip-pw-31415';
const CALLEE_PASSWORD = 'callee-pw-2718';
let browser: Browser;
let sdkPage: { url: string; close: () => Promise<void> };
let dir: string;
let server: RunningServer | undefined;
let kamailio: Running | undefined;
let callee: Callee | undefined;
let kamailioPort: number;

test.before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fj-sip-'));
  kamailioPort = await freePort();
  kamailio = await startKamailio(path.join(dir, 'kamailio'), kamailioPort, { fishjam: FJ_PASSWORD, callee: CALLEE_PASSWORD });
  callee = await startBaresipCallee(path.join(dir, 'baresip'), { port: await freePort(), ctrlPort: await freePort(), registrarPort: kamailioPort, user: 'callee', password: CALLEE_PASSWORD, toneHz: 440 });
  await until(async () => kamailio!.output(), (o) => o.includes('registered sip:callee@'), 20_000, 'the callee registered');
  server = await startMediaServer({ FJ_COMPONENTS_USED: 'sip', FJ_SIP_IP: '127.0.0.1', FJ_RESOURCES_BASE_PATH: path.join(dir, 'resources'), FJ_WEBRTC_LISTEN_IP: '127.0.0.1', FJ_LOG_LEVEL: 'info' });
  browser = await launchChromium(undefined, ['--autoplay-policy=no-user-gesture-required']);
  sdkPage = await servePage();
});

test.after.always(async () => {
  terminateAll();
  await browser?.close();
  await sdkPage?.close();
  await server?.stop();
  await callee?.stop();
  await kamailio?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.serial('dial the callee: its tone is a room track an SDK peer decodes; the room audio reaches the callee; DELETE, BYE and silence end calls', async (t) => {
  const s = server!;
  const socket = await ServerSocket.open(s.base);
  await socket.subscribe(s.token, [ServerEventType.SERVER_NOTIFICATION]);
  const roomId = (await s.api('/room', { method: 'POST', json: {} })).body.data.room.id as string;
  const peer = await s.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });

  let page: Page | undefined;
  try {
    page = await openPeerPage(browser, sdkPage.url);
    await page.evaluate((o) => (window as any).fishjam.join(o), { host: s.host, token: peer.body.data.token as string, name: 'talker', audio: true, video: false, simulcast: false });

    const registrarCredentials = { address: `127.0.0.1:${kamailioPort}`, username: 'fishjam', password: FJ_PASSWORD };
    const added = await s.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'sip', options: { registrarCredentials } } });
    t.is(added.status, 201, JSON.stringify(added.body));
    t.deepEqual(validateAgainst('ComponentDetailsResponse', added.body), []);
    t.deepEqual(added.body.data.properties, { registrarCredentials });
    const componentId = added.body.data.id as string;
    await until(async () => kamailio!.output(), (o) => o.includes('registered sip:fishjam@'), 20_000, 'the component registered');

    const dial = () =>
      fetch(`${s.base}/sip/${roomId}/${componentId}/call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ phoneNumber: 'callee' }),
        signal: AbortSignal.timeout(10_000),
      });
    const dialled = await dial();
    t.is(dialled.status, 201);
    t.is(await dialled.text(), 'Successfully schedule calling phone_number: callee');

    await until(async () => socket.received.some((m) => 'trackAdded' in m && m.trackAdded.componentId === componentId), (x) => x, 30_000, 'TrackAdded of the callee');
    const added2 = socket.received.find((m) => 'trackAdded' in m && m.trackAdded.componentId === componentId) as any;
    t.is(added2.trackAdded.track.type, ServerTrackType.AUDIO);

    const remote = await until(
      () => page!.evaluate(() => (window as any).fishjam.remoteTracks() as Array<{ trackId: string; kind: string; endpointId: string }>),
      (list) => list.some((r) => r.endpointId === componentId && r.kind === 'audio'),
      30_000,
      'the callee track at the SDK peer',
    );
    const trackId = remote.find((r) => r.endpointId === componentId)!.trackId;
    const heard = await until(
      () => page!.evaluate((id) => (window as any).fishjam.remoteAudio(id), trackId),
      (a: any) => a !== undefined && a.packetsReceived > 100 && a.totalAudioEnergy > 0.01,
      60_000,
      'the tone decoded with energy by Chromium',
    );
    t.log('the callee at the SDK peer', heard);

    // the peer's microphone, mixed and sent as A-law: what baresip decoded is recorded
    const recorded = await until(
      async () => {
        const dec = callee!.recordings().find((f) => f.endsWith('-dec.wav'));
        return dec ? wavRms(dec) : { rms: 0, seconds: 0 };
      },
      (r) => r.seconds > 2 && r.rms > 100,
      60_000,
      'the room audio heard by the callee',
    );
    t.log('heard by the callee (RMS of 16-bit samples, seconds)', recorded);
    t.false(s.output().includes(FJ_PASSWORD), 'the SIP password is not logged');

    const hungUp = await s.api(`/sip/${roomId}/${componentId}/call`, { method: 'DELETE' });
    t.is(hungUp.status, 204);
    await until(async () => socket.received.some((m) => 'trackRemoved' in m && m.trackRemoved.componentId === componentId), (x) => x, 10_000, 'TrackRemoved');
    await until(async () => callee!.output(), (o) => /terminated/.test(o), 10_000, 'baresip sees the call end');
    t.false(socket.received.some((m) => 'componentCrashed' in m));
    t.is((await s.api(`/room/${roomId}`)).body.data.components[0].tracks.length, 0, 'the component stays, without a track');

    // the same component calls again; this time the callee hangs up (its BYE): TrackRemoved, the component stays
    const trackCount = () => socket.received.filter((m) => 'trackAdded' in m && m.trackAdded.componentId === componentId).length;
    const removedCount = () => socket.received.filter((m) => 'trackRemoved' in m && m.trackRemoved.componentId === componentId).length;
    t.is((await dial()).status, 201);
    await until(async () => trackCount(), (x) => x === 2, 30_000, 'the second call answered');
    await callee!.hangUp();
    await until(async () => removedCount(), (x) => x === 2, 10_000, 'TrackRemoved after the callee hung up');

    // a third call, and the only other publisher leaves the room: nobody to hear, the call ends (as the original)
    t.is((await dial()).status, 201);
    await until(async () => trackCount(), (x) => x === 3, 30_000, 'the third call answered');
    await page.evaluate(() => (window as any).fishjam.leave());
    await until(async () => removedCount(), (x) => x === 3, 20_000, 'TrackRemoved once nobody else publishes audio');
    await until(async () => callee!.output(), (o) => (o.match(/session closed|terminate call/g) ?? []).length >= 3, 10_000, 'baresip sees the third call end');

    // a fourth call (a room with no other audio: it stays up), and the callee vanishes (SIGKILL: no BYE): its silence
    // ends the call after 30 s
    t.is((await dial()).status, 201);
    await until(async () => trackCount(), (x) => x === 4, 30_000, 'the fourth call answered');
    callee!.child.kill('SIGKILL');
    const killedAt = Date.now();
    await until(async () => removedCount(), (x) => x === 4, 60_000, 'TrackRemoved once the vanished callee stays silent');
    t.log(`callee SIGKILLed -> TrackRemoved after ${Date.now() - killedAt} ms`);
    t.false(socket.received.some((m) => 'componentCrashed' in m));
    t.is((await s.api(`/room/${roomId}`)).body.data.components.length, 1, 'the component stays');
  } catch (error) {
    t.log('SDK log', await page?.evaluate(() => (window as any).fishjam.log).catch(() => undefined));
    t.log('node log', s.output().slice(-3000));
    t.log('baresip', callee?.output().slice(-2000));
    throw error;
  } finally {
    await page?.close();
  }
  t.is((await s.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
});
