import test from 'ava';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as mediasoup from 'mediasoup';
import type { Router, WebRtcTransport, Worker } from 'mediasoup/types';
import { RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { buildAnswer, payloadTypeMismatches, type MLineDecision } from '../../../src/signaling/sdp/answer.js';
import { parseClientOffer, type ClientOffer } from '../../../src/signaling/sdp/client-offer.js';
import { createClientPeer, MediaStreamTrack } from './werift-peer.js';

// The strongest check of the translation: a real WebRTC client (werift) and a real mediasoup router must agree on
// what parseClientOffer and buildAnswer say, down to ICE, DTLS and RTP arriving where it should.

const workerBinary = join(dirname(createRequire(import.meta.url).resolve('mediasoup')), '../../worker/out/Release/mediasoup-worker');

let worker: Worker | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

test.before(async () => {
  if (!existsSync(workerBinary)) throw new Error(`mediasoup worker not built at ${workerBinary}`);
  worker = await mediasoup.createWorker({ logLevel: 'error' });
});

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  worker?.close();
});

async function createRouter(): Promise<Router> {
  return worker!.createRouter({
    mediaCodecs: [
      // payload types as browsers offer them, so consumers send what the client expects (see payloadTypeMismatches)
      { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 111 },
      { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 96 },
    ],
  });
}

async function createTransport(router: Router): Promise<WebRtcTransport> {
  const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
  cleanups.push(() => transport.close());
  return transport;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function connected(pc: RTCPeerConnection): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      if (pc.connectionState === 'connected') return resolve();
      pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') resolve();
        if (state === 'failed') reject(new Error('peer connection failed'));
      });
    }),
    10_000,
    'ICE and DTLS to connect',
  );
}

/** Client offer -> parse -> produce -> answer; returns what the server made of it. */
async function negotiate(
  pc: RTCPeerConnection,
  router: Router,
  transport: WebRtcTransport,
  midToTrackId: Record<string, string>,
  decide: (offer: ClientOffer) => Promise<Record<string, MLineDecision>> = async () => ({}),
): Promise<{ offer: ClientOffer; answer: string; producers: mediasoup.types.Producer[] }> {
  await pc.setLocalDescription(await pc.createOffer());
  const parsed = parseClientOffer(pc.localDescription!.sdp, router.rtpCapabilities, midToTrackId);
  if (!parsed.ok) throw new Error(parsed.error);
  const offer = parsed.value;
  const producers = [];
  for (const line of offer.mLines) {
    if (line.producer === undefined) continue;
    producers.push(await transport.produce({ ...line.producer, appData: { trackId: line.trackId } }));
  }
  const answer = buildAnswer({
    offer,
    iceParameters: transport.iceParameters,
    iceCandidates: transport.iceCandidates,
    dtlsParameters: transport.dtlsParameters,
    decisions: await decide(offer),
  });
  if (!answer.ok) throw new Error(answer.error);
  await transport.connect({ dtlsParameters: offer.dtlsParameters });
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.value });
  return { offer, answer: answer.value, producers };
}

function pump(track: MediaStreamTrack, payloadType: number): NodeJS.Timeout {
  let seq = 1;
  let timestamp = 1000;
  return setInterval(() => {
    const header = new RtpHeader({ payloadType, sequenceNumber: seq++, timestamp: (timestamp += 960), marker: true });
    track.writeRtp(new RtpPacket(header, Buffer.alloc(60, 0x5a)));
  }, 10);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!(await check())) await new Promise((r) => setTimeout(r, 50));
    })(),
    10_000,
    what,
  );
}

test.serial('werift audio+video offer -> mediasoup producers receive RTP; a second client consumes the audio', async (t) => {
  const router = await createRouter();
  cleanups.push(() => router.close());

  // Publisher: sendonly audio and video, like the SDK's first two tracks.
  const publisher = createClientPeer();
  cleanups.push(() => publisher.close());
  const audio = new MediaStreamTrack({ kind: 'audio' });
  const video = new MediaStreamTrack({ kind: 'video' });
  publisher.addTransceiver(audio, { direction: 'sendonly' });
  publisher.addTransceiver(video, { direction: 'sendonly' });
  const publisherTransport = await createTransport(router);
  const published = await negotiate(publisher, router, publisherTransport, { '0': 'pub:audio', '1': 'pub:video' });
  t.deepEqual(
    published.producers.map((p) => [p.kind, p.appData.trackId]),
    [
      ['audio', 'pub:audio'],
      ['video', 'pub:video'],
    ],
  );
  t.regex(published.answer, /a=ice-lite/);
  t.regex(published.answer, /a=group:BUNDLE 0 1/);
  t.regex(published.answer, /a=setup:passive/);
  await connected(publisher);

  const timers = [pump(audio, 111), pump(video, 96)];
  cleanups.push(() => timers.forEach(clearInterval));
  for (const producer of published.producers) {
    await until(async () => (await producer.getStats()).some((s) => s.byteCount > 0), `RTP on the ${producer.kind} producer`);
    const [stats] = await producer.getStats();
    t.true((stats?.packetCount ?? 0) > 0, `${producer.kind} producer counts packets`);
  }

  // Subscriber: one recvonly audio transceiver (what offerData {audio: 1} makes the SDK add).
  const subscriber = createClientPeer();
  cleanups.push(() => subscriber.close());
  subscriber.addTransceiver('audio', { direction: 'recvonly' });
  const subscriberTransport = await createTransport(router);
  let received = 0;
  let receivedPayloadType = -1;
  subscriber.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      received += 1;
      receivedPayloadType = rtp.header.payloadType;
    });
  });
  const audioProducer = published.producers[0]!;
  let consumerPayloadType = -2;
  const subscribed = await negotiate(subscriber, router, subscriberTransport, {}, async (offer) => {
    const line = offer.mLines[0]!;
    t.true(router.canConsume({ producerId: audioProducer.id, rtpCapabilities: offer.rtpCapabilities }));
    const consumer = await subscriberTransport.consume({
      producerId: audioProducer.id,
      rtpCapabilities: offer.rtpCapabilities,
      mid: line.mid,
    });
    consumerPayloadType = consumer.rtpParameters.codecs[0]!.payloadType;
    t.deepEqual(payloadTypeMismatches(line, consumer.rtpParameters), []);
    return { [line.mid]: { action: 'send', rtpParameters: consumer.rtpParameters, streamId: 'pub', trackId: 'pub:audio' } };
  });
  t.regex(subscribed.answer, /a=sendonly/);
  t.regex(subscribed.answer, /a=msid:pub pub:audio/);
  await connected(subscriber);
  await until(async () => received > 5, 'RTP at the subscriber');
  // mediasoup sends with the router's payload type, which equals the offer's here.
  t.is(consumerPayloadType, 111);
  t.is(receivedPayloadType, consumerPayloadType);
  t.regex(subscribed.answer, new RegExp(`a=rtpmap:${consumerPayloadType} opus/48000/2`));
});

test.serial('mediasoup accepts the simulcast (rid) parameters parsed from a werift offer', async (t) => {
  const router = await createRouter();
  cleanups.push(() => router.close());
  const pc = createClientPeer();
  cleanups.push(() => pc.close());
  pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), {
    direction: 'sendonly',
    simulcast: ['l', 'm', 'h'].map((rid) => ({ direction: 'send' as const, rid })),
  });
  const transport = await createTransport(router);
  const { producers, answer } = await negotiate(pc, router, transport, { '0': 'p:v' });
  t.is(producers.length, 1);
  t.is(producers[0]?.type, 'simulcast');
  t.deepEqual(producers[0]?.rtpParameters.encodings?.map((e) => e.rid), ['l', 'm', 'h']);
  t.regex(answer, /a=simulcast:recv l;m;h/);
  t.regex(answer, /a=rid:h recv/);
});
