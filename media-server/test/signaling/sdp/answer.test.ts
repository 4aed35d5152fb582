import test from 'ava';
import type { DtlsParameters, IceCandidate, IceParameters, RtpParameters } from 'mediasoup/types';
import { parse } from 'sdp-transform';
import { buildAnswer, payloadTypeMismatches } from '../../../src/signaling/sdp/answer.js';
import { parseClientOffer, type ClientOffer } from '../../../src/signaling/sdp/client-offer.js';
import { chromiumAudioOffer, routerCaps, weriftOffer } from './sdp-fixtures.js';

const iceParameters: IceParameters = { usernameFragment: 'srvufrag', password: 'srvpassword', iceLite: true };
const iceCandidates: IceCandidate[] = [
  { foundation: 'udpcandidate', priority: 1076302079, ip: '127.0.0.1', address: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host' },
];
const dtlsParameters: DtlsParameters = { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] };

function offerOf(sdp: string, midToTrackId: Record<string, string> = {}): ClientOffer {
  const parsed = parseClientOffer(sdp, routerCaps, midToTrackId);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

test('answer to the Chromium audio offer: ICE-lite, BUNDLE, passive DTLS, recvonly with the producer codec', (t) => {
  const offer = offerOf(chromiumAudioOffer);
  const answer = buildAnswer({ offer, iceParameters, iceCandidates, dtlsParameters });
  if (!answer.ok) return t.fail(answer.error);
  const sdp = parse(answer.value);
  t.is(sdp.icelite, 'ice-lite');
  t.deepEqual(sdp.groups?.map((g) => [g.type, String(g.mids)]), [['BUNDLE', '0']]);
  t.deepEqual(sdp.fingerprint, { type: 'sha-256', hash: 'AA:BB' });
  const [m] = sdp.media;
  t.is(m?.direction, 'recvonly');
  t.is(m?.setup, 'passive');
  t.is(m?.iceUfrag, 'srvufrag');
  t.is(m?.rtcpMux, 'rtcp-mux');
  t.is(m?.rtcpRsize, 'rtcp-rsize');
  t.is(String(m?.payloads), '111');
  t.deepEqual(m?.rtp, [{ payload: 111, codec: 'opus', rate: 48000, encoding: 2 }]);
  t.deepEqual(m?.fmtp, [{ payload: 111, config: 'minptime=10;useinbandfec=1' }]);
  t.deepEqual(m?.candidates?.map((c) => [c.ip, c.port, c.type, c.transport]), [['127.0.0.1', 40000, 'host', 'udp']]);
  t.deepEqual(m?.ext?.map((e) => [e.value, e.uri]), [
    [1, 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'],
    [2, 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'],
    [3, 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'],
  ]);
});

test('DTLS setup follows the roles: client passive -> server active; explicit server role honoured', (t) => {
  const passiveClient = offerOf(chromiumAudioOffer.replace('a=setup:actpass', 'a=setup:passive'));
  const answer = buildAnswer({ offer: passiveClient, iceParameters, iceCandidates, dtlsParameters });
  t.true(answer.ok && answer.value.includes('a=setup:active'));
  const clash = buildAnswer({ offer: passiveClient, iceParameters, iceCandidates, dtlsParameters: { ...dtlsParameters, role: 'server' } });
  t.deepEqual(clash, { ok: false, error: 'both sides would be DTLS server' });
});

const consumerAudio: RtpParameters = {
  mid: '2',
  codecs: [
    { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [{ type: 'transport-cc' }] },
  ],
  // what mediasoup leaves when the offered ids differ from its own (see ExtensionIdPolicy)
  headerExtensions: [],
  encodings: [{ ssrc: 1111 }],
  rtcp: { cname: 'consumer-cname', reducedSize: true },
};

test('werift offer: producers recvonly with simulcast rids, a consumer sendonly with ssrc/msid, idle m-line inactive', (t) => {
  const offer = offerOf(weriftOffer, { '0': 'p:a', '1': 'p:v' });
  const answer = buildAnswer({
    offer,
    iceParameters,
    iceCandidates,
    dtlsParameters,
    decisions: { '2': { action: 'send', rtpParameters: consumerAudio, streamId: 'other', trackId: 'other:a' } },
    sessionVersion: 3,
  });
  if (!answer.ok) return t.fail(answer.error);
  const sdp = parse(answer.value);
  t.is(sdp.origin.sessionVersion, 3);
  t.deepEqual(sdp.groups, [{ type: 'BUNDLE', mids: '0 1 2 3' }]);
  t.deepEqual(sdp.media.map((m) => [String(m.mid), m.type, m.direction, m.port]), [
    ['0', 'audio', 'recvonly', 9],
    ['1', 'video', 'recvonly', 9],
    ['2', 'audio', 'sendonly', 9],
    ['3', 'video', 'inactive', 9],
  ]);
  const [, simulcastVideo, consumer, idle] = sdp.media;
  t.deepEqual(simulcastVideo?.rids, [
    { id: 'l', direction: 'recv' },
    { id: 'm', direction: 'recv' },
    { id: 'h', direction: 'recv' },
  ]);
  t.deepEqual(simulcastVideo?.simulcast, { dir1: 'recv', list1: 'l;m;h' });
  t.deepEqual(simulcastVideo?.rtp.map((r) => r.codec), ['VP8', 'rtx']);
  // (sdp-transform's parser cuts msid at ':', so the written line is checked as text)
  t.true(answer.value.includes('\r\na=msid:other other:a\r\n'));
  t.deepEqual(consumer?.ssrcs, [
    { id: 1111, attribute: 'cname', value: 'consumer-cname' },
    { id: 1111, attribute: 'msid', value: 'other other:a' },
  ]);
  t.deepEqual(consumer?.rtp, [{ payload: 100, codec: 'opus', rate: 48000, encoding: 2 }]);
  t.deepEqual(idle?.rtp.map((r) => r.payload), [96, 97]);
  t.is(idle?.ssrcs, undefined);
});

test('a consumer with RTX gets a FID group; paused simulcast layers stay paused', (t) => {
  const offer = offerOf(weriftOffer.replace('a=simulcast:send l;m;h', 'a=simulcast:send l;~m;~h'), { '1': 'p:v' });
  const video: RtpParameters = {
    codecs: [
      { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {}, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] },
      { mimeType: 'video/rtx', payloadType: 102, clockRate: 90000, parameters: { apt: 101 }, rtcpFeedback: [] },
    ],
    encodings: [{ ssrc: 5000, rtx: { ssrc: 5001 } }],
    rtcp: { cname: 'c' },
  };
  const answer = buildAnswer({
    offer,
    iceParameters,
    iceCandidates,
    dtlsParameters,
    decisions: { '3': { action: 'send', rtpParameters: video, streamId: 's', trackId: 's:v' } },
  });
  if (!answer.ok) return t.fail(answer.error);
  const sdp = parse(answer.value);
  t.deepEqual(sdp.media[1]?.simulcast, { dir1: 'recv', list1: 'l;~m;~h' });
  t.deepEqual(sdp.media[3]?.ssrcGroups, [{ semantics: 'FID', ssrcs: '5000 5001' }]);
  t.deepEqual(sdp.media[3]?.rtcpFb, [
    { payload: 101, type: 'nack' },
    { payload: 101, type: 'nack', subtype: 'pli' },
  ]);
  t.deepEqual(sdp.media[3]?.fmtp, [{ payload: 102, config: 'apt=101' }]);
});

test('rejected m-lines get port 0 and leave the BUNDLE group', (t) => {
  const offer = offerOf(weriftOffer, { '0': 'p:a', '1': 'p:v' });
  const answer = buildAnswer({ offer, iceParameters, iceCandidates, dtlsParameters, decisions: { '1': { action: 'reject' } } });
  if (!answer.ok) return t.fail(answer.error);
  const sdp = parse(answer.value);
  t.deepEqual(sdp.groups, [{ type: 'BUNDLE', mids: '0 2 3' }]);
  t.is(sdp.media[1]?.port, 0);
});

test('contradictory decisions and BUNDLE collisions are error values', (t) => {
  const offer = offerOf(weriftOffer, { '0': 'p:a' });
  t.deepEqual(
    buildAnswer({ offer, iceParameters, iceCandidates, dtlsParameters, decisions: { '0': { action: 'send', rtpParameters: consumerAudio, streamId: 's', trackId: 't' } } }),
    { ok: false, error: 'mid 0: the client does not receive on this m-line' },
  );
  t.deepEqual(
    buildAnswer({ offer, iceParameters, iceCandidates, dtlsParameters, decisions: { '3': { action: 'send', rtpParameters: consumerAudio, streamId: 's', trackId: 't' } } }),
    { ok: false, error: 'mid 3: a audio consumer on a video m-line' },
  );
  // A consumer whose payload type 96 is opus, while the producer m-line 1 uses 96 for VP8.
  const clashing: RtpParameters = { ...consumerAudio, codecs: [{ ...consumerAudio.codecs[0]!, payloadType: 96 }] };
  const clash = buildAnswer({
    offer: offerOf(weriftOffer, { '0': 'p:a', '1': 'p:v' }),
    iceParameters,
    iceCandidates,
    dtlsParameters,
    decisions: { '2': { action: 'send', rtpParameters: clashing, streamId: 's', trackId: 't' } },
  });
  t.false(clash.ok);
  t.regex(clash.ok ? '' : clash.error, /payload type 96 means both/);
  // Under the offer's ids every m-line lists the offer's own extensions, so a consumer's mediasoup ids cannot clash.
  const mediasoupIds: RtpParameters = { ...consumerAudio, headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }] };
  const noClash = buildAnswer({
    offer: offerOf(weriftOffer, { '0': 'p:a', '1': 'p:v' }),
    iceParameters,
    iceCandidates,
    dtlsParameters,
    decisions: { '2': { action: 'send', rtpParameters: mediasoupIds, streamId: 's', trackId: 't' } },
  });
  t.true(noClash.ok);
  t.false(noClash.ok && noClash.value.includes('sdes:mid'), 'MID is never negotiated (it collides with forwarded abs-send-time)');
});

test('payloadTypeMismatches names consumer codecs the client did not offer under that payload type', (t) => {
  const offer = offerOf(weriftOffer);
  const line = offer.mLines[2]!;
  t.deepEqual(payloadTypeMismatches(line, consumerAudio), ['mid 2: audio/opus is sent as 100, the client offered 111']);
  t.deepEqual(payloadTypeMismatches(line, { ...consumerAudio, codecs: [{ ...consumerAudio.codecs[0]!, payloadType: 111 }] }), []);
});
