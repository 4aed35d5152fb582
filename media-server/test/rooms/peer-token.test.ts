import test from 'ava';
import { PEER_TOKEN_MAX_AGE_MS, signPeerToken, verifyPeerToken } from '../../src/rooms/peer-token.js';

const secret = 's'.repeat(48);
const t0 = 1_700_000_000_000;

test('a token verifies with its claims for 24 h, then expires', (t) => {
  const token = signPeerToken({ roomId: 'room', peerId: 'peer' }, secret, t0);
  t.deepEqual(verifyPeerToken(token, secret, t0 + 1000), { ok: true, roomId: 'room', peerId: 'peer' });
  t.deepEqual(verifyPeerToken(token, secret, t0 + PEER_TOKEN_MAX_AGE_MS), { ok: true, roomId: 'room', peerId: 'peer' });
  t.deepEqual(verifyPeerToken(token, secret, t0 + PEER_TOKEN_MAX_AGE_MS + 1), { ok: false, reason: 'expired token' });
});

test('tampered, foreign and garbage tokens are invalid', (t) => {
  const token = signPeerToken({ roomId: 'room', peerId: 'peer' }, secret, t0);
  const [payload, mac] = token.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ r: 'other', p: 'peer', t: t0 })).toString('base64url');
  for (const bad of [`${forged}.${mac}`, signPeerToken({ roomId: 'room', peerId: 'peer' }, 'k'.repeat(48), t0), `${payload}.`, '', 'a.b.c', '....', `${payload}.${mac}x`]) {
    t.deepEqual(verifyPeerToken(bad, secret, t0), { ok: false, reason: 'invalid token' }, bad);
  }
});
