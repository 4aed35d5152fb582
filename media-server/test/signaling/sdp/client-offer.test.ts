import test from 'ava';
import { parseClientOffer } from '../../../src/signaling/sdp/client-offer.js';
import { chromiumAudioOffer, routerCaps, weriftOffer } from './sdp-fixtures.js';

const audioTrack = 'peer-capture:b32e423a-512a-4c5e-8bb0-0d9b77e5fb56';

test('Chromium audio offer: ICE, DTLS and one audio Producer with the offer payload type', (t) => {
  const parsed = parseClientOffer(chromiumAudioOffer, routerCaps, { '0': audioTrack });
  if (!parsed.ok) return t.fail(parsed.error);
  const offer = parsed.value;
  t.deepEqual(offer.iceParameters, { usernameFragment: 'hAQy', password: 'Q4OVxYDqw0h17Q7RAD6c3urA', iceLite: false });
  t.is(offer.dtlsParameters.role, 'client');
  t.deepEqual(offer.dtlsParameters.fingerprints, [
    { algorithm: 'sha-256', value: 'B8:93:37:46:61:F1:32:AC:F6:FF:22:3F:91:9E:A3:D8:C2:1B:EB:1A:A8:1B:5E:83:8B:D6:41:1B:C5:69:32:29' },
  ]);
  t.deepEqual(offer.bundleMids, ['0']);
  t.true(offer.extmapAllowMixed);
  const [line] = offer.mLines;
  t.is(offer.mLines.length, 1);
  t.is(line?.trackId, audioTrack);
  t.is(line?.direction, 'sendonly');
  t.is(line?.msid, '42adc83b-fb5b-4699-95ba-01283a10adb6 f0af643b-f766-4194-a08c-eb49a69b94d5');
  t.deepEqual(line?.producer, {
    kind: 'audio',
    rtpParameters: {
      mid: '0',
      codecs: [
        {
          mimeType: 'audio/opus',
          payloadType: 111,
          clockRate: 48000,
          channels: 2,
          parameters: { minptime: 10, useinbandfec: 1 },
          rtcpFeedback: [{ type: 'transport-cc' }],
        },
      ],
      // the offer's ids, restricted to what the router supports
      headerExtensions: [
        { uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 1 },
        { uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 2 },
        { uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', id: 3 },
      ],
      encodings: [{ ssrc: 2375100277 }],
      rtcp: { reducedSize: true, cname: 'oxOFsy9VuB/307PH' },
      msid: '42adc83b-fb5b-4699-95ba-01283a10adb6 f0af643b-f766-4194-a08c-eb49a69b94d5',
    },
  });
});

test("the 'router' id policy uses mediasoup's extension ids", (t) => {
  const parsed = parseClientOffer(chromiumAudioOffer, routerCaps, {}, { extensionIds: 'router' });
  if (!parsed.ok) return t.fail(parsed.error);
  // mediasoup: audio level 6, abs-send-time 4, transport-cc 5 (MID is never negotiated)
  t.deepEqual(
    parsed.value.mLines[0]?.producer?.rtpParameters.headerExtensions?.map((e) => e.id),
    [6, 4, 5],
  );
  t.is(parsed.value.mLines[0]?.trackId, undefined);
});

test('werift offer: simulcast by rid, RTX, and recvonly m-lines become capabilities', (t) => {
  const parsed = parseClientOffer(weriftOffer, routerCaps, { '0': 'p:a', '1': 'p:v' });
  if (!parsed.ok) return t.fail(parsed.error);
  const offer = parsed.value;
  t.deepEqual(
    offer.mLines.map((l) => [l.mid, l.type, l.direction, l.trackId ?? null, l.producer?.kind ?? null, l.error ?? null]),
    [
      ['0', 'audio', 'sendonly', 'p:a', 'audio', null],
      ['1', 'video', 'sendonly', 'p:v', 'video', null],
      ['2', 'audio', 'recvonly', null, null, null],
      ['3', 'video', 'recvonly', null, null, null],
    ],
  );
  const video = offer.mLines[1]!.producer!.rtpParameters;
  t.deepEqual(
    video.codecs.map((c) => [c.mimeType, c.payloadType, c.parameters]),
    [
      ['video/VP8', 96, {}],
      ['video/rtx', 97, { apt: 96 }],
    ],
  );
  t.deepEqual(video.codecs[0]?.rtcpFeedback, [{ type: 'transport-cc' }, { type: 'nack' }, { type: 'nack', parameter: 'pli' }]);
  t.deepEqual(video.encodings, [{ rid: 'l', scalabilityMode: 'L1T3' }, { rid: 'm', scalabilityMode: 'L1T3' }, { rid: 'h', scalabilityMode: 'L1T3' }]);
  t.true(video.headerExtensions!.some((e) => e.uri === 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id' && e.id === 8));
  t.deepEqual(offer.mLines[1]?.sendRids, ['l', 'm', 'h']);

  const caps = offer.rtpCapabilities;
  t.deepEqual(
    caps.codecs?.map((c) => [c.kind, c.mimeType, c.preferredPayloadType]),
    [
      ['audio', 'audio/opus', 111],
      ['video', 'video/VP8', 96],
      ['video', 'video/rtx', 97],
    ],
  );
  t.deepEqual(
    caps.headerExtensions?.filter((h) => h.kind === 'video').map((h) => [h.uri, h.preferredId]),
    [
      ['http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', 5],
      ['http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', 6],
      // sdes:mid (7) is offered but never answered, so the consumers must not write it either
    ],
  );
});

test('an m-line whose codecs the router lacks carries an error; the offer still parses', (t) => {
  const noVideo = { ...routerCaps, codecs: routerCaps.codecs?.filter((c) => c.kind === 'audio') };
  const parsed = parseClientOffer(weriftOffer, noVideo, {});
  if (!parsed.ok) return t.fail(parsed.error);
  t.is(parsed.value.mLines[1]?.producer, undefined);
  t.is(parsed.value.mLines[1]?.error, 'no video codec of the offer (video/VP8) is supported by the router');
  t.truthy(parsed.value.mLines[0]?.producer);
});

test('H264 is matched on profile and packetization-mode, not on level', (t) => {
  const h264Offer = chromiumAudioOffer
    .replace('m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', 'm=video 9 UDP/TLS/RTP/SAVPF 102 104 106')
    .replace(/a=rtpmap:[\s\S]*?(?=a=ssrc:)/, [
      'a=rtpmap:102 H264/90000',
      'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
      'a=rtpmap:104 H264/90000',
      'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f',
      'a=rtpmap:106 H264/90000',
      'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034',
      '',
    ].join('\r\n'));
  const parsed = parseClientOffer(h264Offer, routerCaps, {});
  if (!parsed.ok) return t.fail(parsed.error);
  // 102: wrong packetization-mode, 104: constrained high; 106: constrained baseline at another level -> chosen
  t.deepEqual(parsed.value.mLines[0]?.producer?.rtpParameters.codecs.map((c) => c.payloadType), [106]);
});

test('ssrc-group:SIM gives one encoding per layer, with RTX from FID groups', (t) => {
  const simOffer = weriftOffer.replace(
    /a=ssrc-group:FID [\s\S]*?(?=a=rtpmap:96)/,
    [
      'a=ssrc-group:SIM 11 12',
      'a=ssrc-group:FID 11 21',
      'a=ssrc-group:FID 12 22',
      'a=ssrc:11 cname:c',
      'a=ssrc:12 cname:c',
      'a=ssrc:21 cname:c',
      'a=ssrc:22 cname:c',
      '',
    ].join('\r\n'),
  ).replace(/a=rid:[lmh] send\r\n/g, '').replace('a=simulcast:send l;m;h\r\n', '');
  const parsed = parseClientOffer(simOffer, routerCaps, {});
  if (!parsed.ok) return t.fail(parsed.error);
  t.deepEqual(parsed.value.mLines[1]?.producer?.rtpParameters.encodings, [
    { ssrc: 11, rtx: { ssrc: 21 } },
    { ssrc: 12, rtx: { ssrc: 22 } },
  ]);
});

test('hopeless offers are error values', (t) => {
  t.deepEqual(parseClientOffer('', routerCaps, {}), { ok: false, error: 'SDP offer has no m-lines' });
  t.deepEqual(parseClientOffer('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n', routerCaps, {}), {
    ok: false,
    error: 'SDP offer has no ICE credentials',
  });
  const noMid = chromiumAudioOffer.replace('a=mid:0\r\n', '');
  t.deepEqual(parseClientOffer(noMid, routerCaps, {}), { ok: false, error: 'm-line 0 has no a=mid' });
  const noFingerprint = chromiumAudioOffer.replace(/a=fingerprint:.*\r\n/, '');
  t.deepEqual(parseClientOffer(noFingerprint, routerCaps, {}), { ok: false, error: 'SDP offer has no DTLS fingerprint' });
});

test('setup:passive in the offer makes the client the DTLS server', (t) => {
  const parsed = parseClientOffer(chromiumAudioOffer.replace('a=setup:actpass', 'a=setup:passive'), routerCaps, {});
  t.true(parsed.ok && parsed.value.dtlsParameters.role === 'server');
});
