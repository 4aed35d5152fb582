import test from 'ava';
import { WebRTCEndpoint } from '@fishjam-dev/ts-client';
import { parseClientMediaEvent } from '../../../src/signaling/media-events/client-media-event.js';
import {
  parseServerMediaEvent,
  serializeServerMediaEvent,
  type ServerMediaEvent,
} from '../../../src/signaling/media-events/server-media-event.js';
import { capturedMediaEvents } from './capture-fixture.js';

test('server events of the captured join serialize to the exact JSON shapes the SDK accepted', (t) => {
  const [connected, offerData, sdpAnswer] = capturedMediaEvents('server');
  const events: ServerMediaEvent[] = [
    { type: 'connected', data: { id: 'peer-capture', otherEndpoints: [] } },
    { type: 'offerData', data: { integratedTurnServers: [], tracksTypes: { audio: 0, video: 0 } } },
  ];
  t.deepEqual(JSON.parse(serializeServerMediaEvent(events[0]!)), connected?.parsed);
  t.deepEqual(JSON.parse(serializeServerMediaEvent(events[1]!)), offerData?.parsed);
  const answer = parseServerMediaEvent(sdpAnswer!.json);
  if (!answer.ok || answer.value.type !== 'sdpAnswer') return t.fail('captured sdpAnswer did not parse');
  t.deepEqual(JSON.parse(serializeServerMediaEvent(answer.value)), sdpAnswer?.parsed);
  t.deepEqual(answer.value.data.midToTrackId, { '0': 'peer-capture:b32e423a-512a-4c5e-8bb0-0d9b77e5fb56' });
});

const simulcast = { enabled: true, activeEncodings: ['l', 'h'], disabledEncodings: ['m'] } as const;
const noSimulcast = { enabled: false, activeEncodings: [], disabledEncodings: [] };

const everyEvent: ServerMediaEvent[] = [
  {
    type: 'connected',
    data: {
      id: 'me',
      otherEndpoints: [
        {
          id: 'other',
          type: 'webrtc',
          metadata: { name: 'o' },
          trackIdToMetadata: { 'other:v': { source: 'camera' } },
          tracks: { 'other:v': { metadata: { source: 'camera' }, simulcastConfig: { ...simulcast, activeEncodings: ['l', 'h'], disabledEncodings: ['m'] } } },
        },
      ],
    },
  },
  { type: 'endpointAdded', data: { id: 'new', type: 'webrtc', metadata: null } },
  { type: 'endpointRemoved', data: { id: 'new' } },
  { type: 'endpointUpdated', data: { id: 'other', metadata: { name: 'renamed' } } },
  {
    type: 'tracksAdded',
    data: {
      endpointId: 'other',
      trackIdToMetadata: { 'other:a': null },
      tracks: { 'other:a': { metadata: null, simulcastConfig: noSimulcast } },
    },
  },
  { type: 'tracksRemoved', data: { endpointId: 'other', trackIds: ['other:a'] } },
  { type: 'trackUpdated', data: { endpointId: 'other', trackId: 'other:v', metadata: { muted: true } } },
  { type: 'trackEncodingEnabled', data: { endpointId: 'other', trackId: 'other:v', encoding: 'm' } },
  { type: 'trackEncodingDisabled', data: { endpointId: 'other', trackId: 'other:v', encoding: 'h' } },
  { type: 'tracksPriority', data: { tracks: ['other:v'] } },
  { type: 'error', data: { message: 'boom' } },
  {
    type: 'offerData',
    data: {
      integratedTurnServers: [{ serverAddr: '10.0.0.1', serverPort: 50000, transport: 'udp', username: 'u', password: 'p' }],
      tracksTypes: { audio: 1, video: 2 },
    },
  },
  { type: 'sdpAnswer', data: { type: 'answer', sdp: 'v=0\r\n', midToTrackId: { '0': 'me:a', '1': 'other:v' } } },
  { type: 'candidate', data: { candidate: 'candidate:1 1 udp 1 127.0.0.1 4000 typ host', sdpMLineIndex: 0, sdpMid: null, usernameFragment: null } },
  { type: 'encodingSwitched', data: { endpointId: 'other', trackId: 'other:v', encoding: 'l', reason: 'lowBandwidth' } },
  { type: 'vadNotification', data: { trackId: 'other:a', status: 'speech' } },
  { type: 'bandwidthEstimation', data: { estimation: 1234567 } },
];

test('every server event round-trips', (t) => {
  for (const event of everyEvent) {
    t.deepEqual(parseServerMediaEvent(serializeServerMediaEvent(event)), { ok: true, value: event }, event.type);
  }
});

test('WebRTC endpoint events travel in the custom envelope, engine events do not', (t) => {
  const wrapped = everyEvent.filter((e) => JSON.parse(serializeServerMediaEvent(e)).type === 'custom').map((e) => e.type);
  t.deepEqual(wrapped, ['offerData', 'sdpAnswer', 'candidate', 'encodingSwitched', 'vadNotification', 'bandwidthEstimation']);
});

test('garbage is an error value', (t) => {
  t.false(parseServerMediaEvent('{"type":"connected","data":{"id":"x"}}').ok);
  t.false(parseServerMediaEvent('{"type":"custom","data":{"type":"vadNotification","data":{"trackId":"t","status":"loud"}}}').ok);
  t.false(parseServerMediaEvent('{').ok);
});

// The strongest check: the unmodified SDK consumes what we serialize and reports what we meant.
test('the real SDK 0.5.0 understands the serialized server events', (t) => {
  const sdk = new WebRTCEndpoint();
  const seen: string[] = [];
  const record = (name: string) => () => seen.push(name);
  for (const name of [
    'endpointAdded',
    'endpointRemoved',
    'endpointUpdated',
    'trackAdded',
    'trackRemoved',
    'trackUpdated',
    'trackEncodingEnabled',
    'trackEncodingDisabled',
    'tracksPriorityChanged',
    'bandwidthEstimationChanged',
    'connectionError',
  ] as const) {
    sdk.on(name, record(name));
  }
  let connectedWith = '';
  sdk.on('connected', (id, others) => {
    seen.push('connected');
    connectedWith = `${id} ${others.map((o) => `${o.id}/${o.type}/${JSON.stringify(o.metadata)}/${[...o.tracks.keys()].join(',')}`).join(' ')}`;
  });
  const send = (event: ServerMediaEvent): void => sdk.receiveMediaEvent(serializeServerMediaEvent(event));

  send(everyEvent[0]!); // connected with one other endpoint and its simulcast video
  const remote = sdk.getRemoteTracks()['other:v'];
  t.deepEqual(remote?.metadata, { source: 'camera' });
  t.deepEqual(remote?.simulcastConfig, { enabled: true, activeEncodings: ['l', 'h'], disabledEncodings: ['m'] });
  t.is(sdk.getLocalEndpoint().id, 'me');
  t.deepEqual(Object.keys(sdk.getRemoteEndpoints()), ['other']);

  send({ type: 'endpointAdded', data: { id: 'new', type: 'webrtc', metadata: { name: 'n' } } });
  t.deepEqual(sdk.getRemoteEndpoints()['new']?.metadata, { name: 'n' });
  send({
    type: 'tracksAdded',
    data: {
      endpointId: 'new',
      trackIdToMetadata: { 'new:a': { kind: 'mic' } },
      tracks: { 'new:a': { metadata: { kind: 'mic' }, simulcastConfig: noSimulcast } },
    },
  });
  t.deepEqual(sdk.getRemoteTracks()['new:a']?.metadata, { kind: 'mic' });
  send({ type: 'trackUpdated', data: { endpointId: 'new', trackId: 'new:a', metadata: { kind: 'mic', muted: true } } });
  t.deepEqual(sdk.getRemoteTracks()['new:a']?.metadata, { kind: 'mic', muted: true });

  let vad = '';
  sdk.getRemoteTracks()['new:a']?.on('voiceActivityChanged', (ctx) => (vad = ctx.vadStatus));
  send({ type: 'vadNotification', data: { trackId: 'new:a', status: 'speech' } });
  t.is(vad, 'speech');

  let switched = '';
  remote?.on('encodingChanged', (ctx) => (switched = `${ctx.encoding} ${ctx.encodingReason}`));
  send({ type: 'encodingSwitched', data: { endpointId: 'other', trackId: 'other:v', encoding: 'l', reason: 'lowBandwidth' } });
  t.is(switched, 'l lowBandwidth');

  send({ type: 'trackEncodingDisabled', data: { endpointId: 'other', trackId: 'other:v', encoding: 'h' } });
  send({ type: 'trackEncodingEnabled', data: { endpointId: 'other', trackId: 'other:v', encoding: 'h' } });
  send({ type: 'tracksPriority', data: { tracks: ['other:v'] } });
  send({ type: 'bandwidthEstimation', data: { estimation: 900000 } });
  t.is(Number(sdk.getBandwidthEstimation()), 900000);

  send({ type: 'endpointRemoved', data: { id: 'new' } });
  t.is(sdk.getRemoteEndpoints()['new'], undefined);
  t.is(sdk.getRemoteTracks()['new:a'], undefined);

  // SDK quirk: endpointUpdated rebuilds the endpoint and forgets its track list (trackIdToTrack keeps them).
  send({ type: 'endpointUpdated', data: { id: 'other', metadata: { name: 'renamed' } } });
  t.deepEqual(sdk.getRemoteEndpoints()['other']?.metadata, { name: 'renamed' });
  t.is(sdk.getRemoteEndpoints()['other']?.tracks.size, 0);
  t.truthy(sdk.getRemoteTracks()['other:v']);

  t.deepEqual(
    seen,
    [
      'connected',
      'trackAdded',
      'endpointAdded',
      'trackAdded',
      'trackUpdated',
      'trackEncodingDisabled',
      'trackEncodingEnabled',
      'tracksPriorityChanged',
      'bandwidthEstimationChanged',
      'trackRemoved',
      'endpointRemoved',
      'endpointUpdated',
    ],
  );
  t.is(connectedWith, 'me other/webrtc/{"name":"o"}/other:v');
});

// Integrator beware: the SDK erases a removed track through its mid, so tracksRemoved for a track that no sdpAnswer to
// this client has mapped yet (sdpAnswer.midToTrackId) throws inside its handler; endpointRemoved has no such need.
test('the real SDK cannot take tracksRemoved for a track it never got a mid for', (t) => {
  const sdk = new WebRTCEndpoint();
  sdk.receiveMediaEvent(serializeServerMediaEvent(everyEvent[0]!));
  const removed = serializeServerMediaEvent({ type: 'tracksRemoved', data: { endpointId: 'other', trackIds: ['other:v'] } });
  t.throws(() => sdk.receiveMediaEvent(removed), { instanceOf: TypeError });
});

test('the real SDK emits what parseClientMediaEvent accepts (connect, updateEndpointMetadata, disconnect)', (t) => {
  const sdk = new WebRTCEndpoint();
  const sent: string[] = [];
  sdk.on('sendMediaEvent', (json) => sent.push(json));
  sdk.connect({ displayName: 'Bob' });
  sdk.receiveMediaEvent(serializeServerMediaEvent({ type: 'connected', data: { id: 'me', otherEndpoints: [] } }));
  sdk.updateEndpointMetadata({ displayName: 'Robert' });
  sdk.disconnect();
  t.deepEqual(sent.map((json) => parseOrError(json)), [
    { type: 'connect', data: { metadata: { displayName: 'Bob' } } },
    { type: 'updateEndpointMetadata', data: { metadata: { displayName: 'Robert' } } },
    { type: 'disconnect' },
  ]);
});

function parseOrError(json: string): unknown {
  const parsed = parseClientMediaEvent(json);
  return parsed.ok ? parsed.value : parsed.error;
}
