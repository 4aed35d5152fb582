import test from 'ava';
import {
  parseClientMediaEvent,
  serializeClientMediaEvent,
  type ClientMediaEvent,
} from '../../../src/signaling/media-events/client-media-event.js';
import { capturedMediaEvents } from './capture-fixture.js';

test('parses every client media event of the captured Chromium join, in order', (t) => {
  const events = capturedMediaEvents('client').map(({ json }) => parseClientMediaEvent(json));
  t.deepEqual(
    events.map((e) => (e.ok ? e.value.type : e.error)),
    ['connect', 'renegotiateTracks', 'sdpOffer'],
  );
  const [connect, renegotiate, offer] = events;
  t.deepEqual(connect, { ok: true, value: { type: 'connect', data: { metadata: { name: 'capture' } } } });
  t.deepEqual(renegotiate, { ok: true, value: { type: 'renegotiateTracks' } });
  if (offer?.ok !== true || offer.value.type !== 'sdpOffer') return t.fail('sdpOffer did not parse');
  const trackId = 'peer-capture:b32e423a-512a-4c5e-8bb0-0d9b77e5fb56';
  t.is(offer.value.data.sdpOffer.type, 'offer');
  t.true(offer.value.data.sdpOffer.sdp.startsWith('v=0\r\n'));
  t.deepEqual(offer.value.data.midToTrackId, { '0': trackId });
  t.deepEqual(offer.value.data.trackIdToTrackBitrates, { [trackId]: 50000 });
  t.deepEqual(offer.value.data.trackIdToTrackMetadata, { [trackId]: { type: 'audio', source: 'camera' } });
});

test('serializing the parsed capture gives back the same JSON the SDK sent', (t) => {
  for (const { json, parsed } of capturedMediaEvents('client')) {
    const event = parseClientMediaEvent(json);
    if (!event.ok) return t.fail(event.error);
    t.deepEqual(JSON.parse(serializeClientMediaEvent(event.value)), parsed);
  }
});

const everyEvent: ClientMediaEvent[] = [
  { type: 'connect', data: { metadata: { displayName: 'Bob' } } },
  { type: 'disconnect' },
  { type: 'updateEndpointMetadata', data: { metadata: 'plain string' } },
  { type: 'updateTrackMetadata', data: { trackId: 'p:t', trackMetadata: { muted: true } } },
  { type: 'enableTrackEncoding', data: { trackId: 'p:t', encoding: 'm' } },
  { type: 'disableTrackEncoding', data: { trackId: 'p:t', encoding: 'l' } },
  { type: 'renegotiateTracks' },
  {
    type: 'sdpOffer',
    data: {
      sdpOffer: { type: 'offer', sdp: 'v=0\r\n' },
      trackIdToTrackMetadata: { 'p:v': { source: 'camera' } },
      trackIdToTrackBitrates: { 'p:v': { l: 150000, m: 500000, h: 2500000 }, 'p:a': 50000 },
      midToTrackId: { '0': 'p:a', '1': 'p:v' },
    },
  },
  { type: 'candidate', data: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMLineIndex: 0 } },
  { type: 'trackVariantBitrates', data: { trackId: 'p:v', variantBitrates: { h: 1000000, l: 100000 } } },
  { type: 'trackVariantBitrates', data: { trackId: 'p:a', variantBitrates: 64000 } },
  { type: 'setTargetTrackVariant', data: { trackId: 'o:v', variant: 'h' } },
];

test('every client event round-trips', (t) => {
  for (const event of everyEvent) {
    t.deepEqual(parseClientMediaEvent(serializeClientMediaEvent(event)), { ok: true, value: event }, event.type);
  }
});

test('custom events are wrapped exactly as the SDK sends them', (t) => {
  t.is(serializeClientMediaEvent({ type: 'renegotiateTracks' }), '{"type":"custom","data":{"type":"renegotiateTracks"}}');
  t.is(serializeClientMediaEvent({ type: 'disconnect' }), '{"type":"disconnect"}');
  t.is(
    serializeClientMediaEvent({ type: 'setTargetTrackVariant', data: { trackId: 't', variant: 'l' } }),
    '{"type":"custom","data":{"type":"setTargetTrackVariant","data":{"trackId":"t","variant":"l"}}}',
  );
});

test('fields the SDK may leave out are filled in', (t) => {
  // connect(undefined) and a track added without metadata: JSON.stringify drops undefined values.
  t.deepEqual(parseClientMediaEvent('{"type":"connect","data":{}}'), {
    ok: true,
    value: { type: 'connect', data: { metadata: null } },
  });
  t.deepEqual(parseClientMediaEvent('{"type":"connect"}'), { ok: true, value: { type: 'connect', data: { metadata: null } } });
  const offer = parseClientMediaEvent(
    JSON.stringify({ type: 'custom', data: { type: 'sdpOffer', data: { sdpOffer: { type: 'offer', sdp: 'x' }, midToTrackId: null } } }),
  );
  t.deepEqual(offer, {
    ok: true,
    value: {
      type: 'sdpOffer',
      data: { sdpOffer: { type: 'offer', sdp: 'x' }, trackIdToTrackMetadata: {}, trackIdToTrackBitrates: {}, midToTrackId: {} },
    },
  });
});

const garbage: [string, string][] = [
  ['not json', 'media event is not JSON'],
  ['[]', 'media event has no type'],
  ['{"type":3}', 'media event has no type'],
  ['{"type":"nope"}', 'unknown media event nope'],
  ['{"type":"custom"}', 'custom media event has no type'],
  ['{"type":"custom","data":{"type":"nope"}}', 'unknown media event custom nope'],
  // custom events are only accepted inside the custom envelope, plain ones only outside
  ['{"type":"renegotiateTracks"}', 'unknown media event renegotiateTracks'],
  ['{"type":"custom","data":{"type":"connect","data":{}}}', 'unknown media event custom connect'],
  ['{"type":"custom","data":{"type":"toString"}}', 'unknown media event custom toString'],
  ['{"type":"updateTrackMetadata","data":{"trackMetadata":1}}', 'invalid updateTrackMetadata: updateTrackMetadata.data.trackId: expected string, got undefined'],
  ['{"type":"enableTrackEncoding","data":{"trackId":"t","encoding":"x"}}', 'invalid enableTrackEncoding: enableTrackEncoding.data.encoding: expected "l" | "m" | "h", got string'],
  ['{"type":"custom","data":{"type":"sdpOffer","data":{"sdpOffer":{"type":"answer","sdp":""}}}}', 'invalid sdpOffer: sdpOffer.data.sdpOffer.type: expected "offer", got string'],
  ['{"type":"custom","data":{"type":"sdpOffer","data":{"sdpOffer":{"type":"offer","sdp":"x"},"midToTrackId":{"0":7}}}}', 'invalid sdpOffer: sdpOffer.data.midToTrackId.0: expected string, got number'],
  ['{"type":"custom","data":{"type":"candidate","data":{"candidate":"c","sdpMLineIndex":0.5}}}', 'invalid candidate: candidate.data.sdpMLineIndex: expected integer, got number'],
  ['{"type":"custom","data":{"type":"trackVariantBitrates","data":{"trackId":"t","variantBitrates":"1"}}}', 'invalid trackVariantBitrates: trackVariantBitrates.data.variantBitrates: expected number or {rid: number}, got string'],
];

test('garbage is reported as an error value with a useful message, never thrown', (t) => {
  for (const [json, error] of garbage) {
    t.deepEqual(parseClientMediaEvent(json), { ok: false, error }, json);
  }
});

test('a "__proto__" key in a map field is dropped, not turned into the prototype of the parsed map', (t) => {
  const json =
    '{"type":"custom","data":{"type":"sdpOffer","data":{"sdpOffer":{"type":"offer","sdp":"v=0"},"trackIdToTrackMetadata":' +
    '{"__proto__":{"polluted":"yes"},"track-a":{"name":"cam"}},"trackIdToTrackBitrates":{},"midToTrackId":{"0":"track-a"}}}}';
  const parsed = parseClientMediaEvent(json);
  if (!parsed.ok || parsed.value.type !== 'sdpOffer') return t.fail(parsed.ok ? parsed.value.type : parsed.error);
  const map = parsed.value.data.trackIdToTrackMetadata!;
  t.deepEqual(Object.keys(map), ['track-a']);
  t.is(Object.getPrototypeOf(map), Object.prototype);
  t.is((map as Record<string, unknown>).polluted, undefined);
});
