import test from 'ava';
import {
  decodeServerMessage,
  encodeServerMessage,
  serverMessageKind,
  ServerEventType,
  ServerTrackType,
  type ServerMessage,
  type ServerMessageKind,
} from '../../src/proto/server-message.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

// The oneof field numbers of fishjam.ServerMessage (fishjam-compat.md / protos at 83aa151).
const fieldNumbers: Record<ServerMessageKind, number> = {
  roomCrashed: 1,
  peerConnected: 2,
  peerDisconnected: 3,
  peerCrashed: 4,
  componentCrashed: 5,
  authenticated: 6,
  authRequest: 7,
  subscribeRequest: 8,
  subscribeResponse: 9,
  roomCreated: 10,
  roomDeleted: 11,
  metricsReport: 12,
  hlsPlayable: 13,
  hlsUploaded: 14,
  hlsUploadCrashed: 15,
  peerMetadataUpdated: 16,
  trackAdded: 17,
  trackRemoved: 18,
  trackMetadataUpdated: 19,
  peerAdded: 20,
  peerDeleted: 21,
};

const samples: ServerMessage[] = [
  { roomCrashed: { roomId: 'r' } },
  { peerConnected: { roomId: 'r', peerId: 'p' } },
  { peerDisconnected: { roomId: 'r', peerId: 'p' } },
  { peerCrashed: { roomId: 'r', peerId: 'p', reason: 'boom' } },
  { componentCrashed: { roomId: 'r', componentId: 'c' } },
  { authenticated: {} },
  { authRequest: { token: 't' } },
  { subscribeRequest: { eventType: ServerEventType.SERVER_NOTIFICATION } },
  { subscribeResponse: { eventType: ServerEventType.METRICS } },
  { roomCreated: { roomId: 'r' } },
  { roomDeleted: { roomId: 'r' } },
  { metricsReport: { metrics: '{"room_id=r":{}}' } },
  { hlsPlayable: { roomId: 'r', componentId: 'c' } },
  { hlsUploaded: { roomId: 'r' } },
  { hlsUploadCrashed: { roomId: 'r' } },
  { peerMetadataUpdated: { roomId: 'r', peerId: 'p', metadata: '{"a":1}' } },
  { trackAdded: { roomId: 'r', peerId: 'p', track: { id: 'p:t', type: ServerTrackType.AUDIO, metadata: '{}' } } },
  { trackRemoved: { roomId: 'r', componentId: 'c', track: { id: 'c:t', type: ServerTrackType.VIDEO, metadata: 'null' } } },
  { trackMetadataUpdated: { roomId: 'r', peerId: 'p', track: { id: 'p:t', type: ServerTrackType.VIDEO, metadata: '{"x":2}' } } },
  { peerAdded: { roomId: 'r', peerId: 'p' } },
  { peerDeleted: { roomId: 'r', peerId: 'p' } },
];

test('every oneof member is encoded under its original field number', (t) => {
  t.is(samples.length, Object.keys(fieldNumbers).length);
  for (const sample of samples) {
    const kind = serverMessageKind(sample);
    const bytes = encodeServerMessage(sample);
    // Field numbers up to 15 fit one tag byte; 16..21 take two (varint), wire type 2 (length-delimited).
    const expectedTag = (fieldNumbers[kind] << 3) | 2;
    const tag = bytes[0]! < 0x80 ? bytes[0]! : (bytes[0]! & 0x7f) | (bytes[1]! << 7);
    t.is(tag, expectedTag, kind);
  }
});

test('RoomCreated is field 10 with room_id as field 1', (t) => {
  // 0x52 = (10 << 3) | 2
  t.is(hex(encodeServerMessage({ roomCreated: { roomId: 'abc' } })), '52050a03616263');
});

test('PeerDeleted is field 21 (two-byte tag)', (t) => {
  // (21 << 3) | 2 = 170 -> varint aa 01
  t.is(hex(encodeServerMessage({ peerDeleted: { roomId: 'r', peerId: 'p' } })), 'aa01060a01721201' + '70');
});

test('TrackAdded keeps peer_id=2, component_id=3, track=4 with type enum', (t) => {
  const bytes = encodeServerMessage({
    trackAdded: { roomId: 'r', peerId: 'p', track: { id: 'i', type: ServerTrackType.AUDIO, metadata: 'm' } },
  });
  // 8a01 = field 17; 0f len; 0a0172 room_id; 120170 peer_id; 2207 track{0a0169 id; 1002 type=2; 1a016d metadata}
  t.is(hex(bytes), '8a01100a017212017022080a01691002' + '1a016d');
});

test('subscribe_request event_type is an enum at field 1', (t) => {
  t.is(hex(encodeServerMessage({ subscribeRequest: { eventType: ServerEventType.METRICS } })), '42020802');
});

test('round-trips every variant', (t) => {
  for (const sample of samples) {
    t.deepEqual(decodeServerMessage(encodeServerMessage(sample)), { ok: true, value: sample }, serverMessageKind(sample));
  }
});

test('defaults are filled in on decode (proto3 drops empty strings on the wire)', (t) => {
  const bytes = encodeServerMessage({ peerConnected: { roomId: '', peerId: 'p' } });
  t.is(hex(bytes), '1203120170');
  t.deepEqual(decodeServerMessage(bytes), { ok: true, value: { peerConnected: { roomId: '', peerId: 'p' } } });
});

test('garbage and content-less frames are errors', (t) => {
  t.deepEqual(decodeServerMessage(new Uint8Array()), { ok: false, error: 'empty ServerMessage' });
  t.false(decodeServerMessage(Uint8Array.from([0x52, 0x09, 0x0a])).ok);
});
