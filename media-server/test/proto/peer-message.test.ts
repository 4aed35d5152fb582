import test from 'ava';
import { decodePeerMessage, encodePeerMessage, type PeerMessage } from '../../src/proto/peer-message.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

test('auth_request is field 2 with token as field 1 (what the SDK sends first)', (t) => {
  // 0x12 = field 2, wire type 2; 0x07 = length; 0x0a = token field 1; 0x05 = length; "token"
  t.is(hex(encodePeerMessage({ authRequest: { token: 'token' } })), '12070a05746f6b656e');
});

test('authenticated is field 1 and empty', (t) => {
  t.is(hex(encodePeerMessage({ authenticated: {} })), '0a00');
});

test('media_event is field 3 with data as field 1', (t) => {
  t.is(hex(encodePeerMessage({ mediaEvent: { data: '{}' } })), '1a040a027b7d');
});

test('round-trips every variant', (t) => {
  const messages: PeerMessage[] = [
    { authenticated: {} },
    { authRequest: { token: 'a.b.c' } },
    { mediaEvent: { data: JSON.stringify({ type: 'connect', data: { metadata: { name: 'ż' } } }) } },
  ];
  for (const message of messages) {
    t.deepEqual(decodePeerMessage(encodePeerMessage(message)), { ok: true, value: message });
  }
});

test('decodes bytes produced by the SDK encoder layout (auth request with empty token keeps the field)', (t) => {
  t.deepEqual(decodePeerMessage(Uint8Array.from([0x12, 0x00])), { ok: true, value: { authRequest: { token: '' } } });
});

test('garbage and empty frames are errors, not exceptions', (t) => {
  const truncated = decodePeerMessage(Uint8Array.from([0x12, 0x07, 0x0a]));
  t.false(truncated.ok);
  const empty = decodePeerMessage(new Uint8Array());
  t.deepEqual(empty, { ok: false, error: 'empty PeerMessage' });
  const text = decodePeerMessage(Buffer.from('hello world, not protobuf'));
  t.false(text.ok);
});

test('unknown fields are skipped (forward compatible)', (t) => {
  // field 15 varint 1, then auth_request
  const bytes = Uint8Array.from([0x78, 0x01, 0x12, 0x03, 0x0a, 0x01, 0x78]);
  t.deepEqual(decodePeerMessage(bytes), { ok: true, value: { authRequest: { token: 'x' } } });
});
