import test from 'ava';
import * as mediasoup from 'mediasoup';
import type { Worker } from 'mediasoup/types';
import { RtpHeader, RtpPacket } from 'werift';
import { buildAnswer, payloadTypeMismatches } from '../../../src/signaling/sdp/answer.js';
import { parseClientOffer } from '../../../src/signaling/sdp/client-offer.js';
import { launchChromium, type Chromium } from './chromium-cdp.js';
import { createClientPeer, MediaStreamTrack } from './werift-peer.js';

// Chromium is what the SDK runs in: its offer (one sendonly audio track like the SDK's, one recvonly audio
// transceiver like offerData {audio: 1} adds) must get an answer it accepts, and media must flow both ways.

let worker: Worker | undefined;
let chromium: Chromium | undefined;
const cleanups: (() => unknown)[] = [];

test.before(async () => {
  worker = await mediasoup.createWorker({ logLevel: 'error' });
  chromium = await launchChromium();
});

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  chromium?.close();
  worker?.close();
});

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('Chromium 156 offer: answer accepted, its audio reaches a Producer, a Consumer reaches it', async (t) => {
  const router = await worker!.createRouter({
    mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 111 }],
  });
  cleanups.push(() => router.close());

  // Another participant's audio, published from werift, for Chromium to receive.
  const publisher = createClientPeer();
  cleanups.push(() => publisher.close());
  const track = new MediaStreamTrack({ kind: 'audio' });
  publisher.addTransceiver(track, { direction: 'sendonly' });
  const publisherTransport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
  await publisher.setLocalDescription(await publisher.createOffer());
  const published = parseClientOffer(publisher.localDescription!.sdp, router.rtpCapabilities, { '0': 'other:audio' });
  if (!published.ok) return t.fail(published.error);
  const otherProducer = await publisherTransport.produce(published.value.mLines[0]!.producer!);
  const publisherAnswer = buildAnswer({
    offer: published.value,
    iceParameters: publisherTransport.iceParameters,
    iceCandidates: publisherTransport.iceCandidates,
    dtlsParameters: publisherTransport.dtlsParameters,
  });
  if (!publisherAnswer.ok) return t.fail(publisherAnswer.error);
  await publisherTransport.connect({ dtlsParameters: published.value.dtlsParameters });
  await publisher.setRemoteDescription({ type: 'answer', sdp: publisherAnswer.value });
  let seq = 1;
  let timestamp = 0;
  const timer = setInterval(() => {
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq++, timestamp: (timestamp += 960) });
    track.writeRtp(new RtpPacket(header, Buffer.from([0xf8, 0xff, 0xfe])));
  }, 20);
  cleanups.push(() => clearInterval(timer));

  const offerSdp = await chromium!.evaluate<string>(`(async () => {
    window.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const ctx = new AudioContext();
    const destination = ctx.createMediaStreamDestination();
    const oscillator = ctx.createOscillator();
    oscillator.connect(destination);
    oscillator.start();
    pc.addTransceiver(destination.stream.getAudioTracks()[0], { direction: 'sendonly', streams: [destination.stream] });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return offer.sdp;
  })()`);
  const parsed = parseClientOffer(offerSdp, router.rtpCapabilities, { '0': 'me:audio' });
  if (!parsed.ok) return t.fail(parsed.error);
  const offer = parsed.value;
  t.deepEqual(
    offer.mLines.map((l) => [l.mid, l.direction, l.trackId ?? null]),
    [
      ['0', 'sendonly', 'me:audio'],
      ['1', 'recvonly', null],
    ],
  );
  const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
  cleanups.push(() => transport.close());
  const producer = await transport.produce(offer.mLines[0]!.producer!);
  const consumer = await transport.consume({ producerId: otherProducer.id, rtpCapabilities: offer.rtpCapabilities, mid: '1' });
  t.deepEqual(payloadTypeMismatches(offer.mLines[1]!, consumer.rtpParameters), []);
  const answer = buildAnswer({
    offer,
    iceParameters: transport.iceParameters,
    iceCandidates: transport.iceCandidates,
    dtlsParameters: transport.dtlsParameters,
    decisions: { '1': { action: 'send', rtpParameters: consumer.rtpParameters, streamId: 'other', trackId: 'other:audio' } },
  });
  if (!answer.ok) return t.fail(answer.error);
  await transport.connect({ dtlsParameters: offer.dtlsParameters });
  const applied = await chromium!.evaluate<string>(
    `pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer.value)} }).then(() => 'ok', (e) => e.message)`,
  );
  t.is(applied, 'ok');

  const state = await eventually(
    () => chromium!.evaluate<string>('pc.connectionState'),
    (s) => s === 'connected' || s === 'failed',
    'Chromium to connect',
  );
  t.is(state, 'connected');
  const producerStats = await eventually(() => producer.getStats(), (s) => (s[0]?.byteCount ?? 0) > 0, 'audio from Chromium');
  t.true((producerStats[0]?.packetCount ?? 0) > 0);
  const inbound = await eventually(
    () => chromium!.evaluate<number>(`pc.getStats().then((s) => [...s.values()].filter((r) => r.type === 'inbound-rtp').reduce((n, r) => n + r.packetsReceived, 0))`),
    (n) => n > 10,
    'audio at Chromium',
  );
  t.true(inbound > 10);
});
