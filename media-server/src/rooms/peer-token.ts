// Peer tokens: HMAC-SHA256 over {roomId, peerId, issuedAt}, keyed by FJ_SECRET_KEY_BASE, valid 24 h (as Fishjam's
// Phoenix.Token). Only the room's owner signs and checks them, so nodes need not share the secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const PEER_TOKEN_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface PeerTokenClaims {
  readonly roomId: string;
  readonly peerId: string;
}

export type PeerTokenCheck = ({ ok: true } & PeerTokenClaims) | { ok: false; reason: 'invalid token' | 'expired token' };

export function signPeerToken(claims: PeerTokenClaims, secret: string, nowMs: number): string {
  const payload = Buffer.from(JSON.stringify({ r: claims.roomId, p: claims.peerId, t: nowMs })).toString('base64url');
  return `${payload}.${mac(payload, secret)}`;
}

export function verifyPeerToken(token: string, secret: string, nowMs: number, maxAgeMs = PEER_TOKEN_MAX_AGE_MS): PeerTokenCheck {
  const [payload, signature, ...rest] = token.split('.');
  if (!payload || !signature || rest.length > 0) return { ok: false, reason: 'invalid token' };
  const expected = Buffer.from(mac(payload, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid token' };
  let claims: { r?: unknown; p?: unknown; t?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return { ok: false, reason: 'invalid token' };
  }
  if (typeof claims.r !== 'string' || typeof claims.p !== 'string' || typeof claims.t !== 'number') {
    return { ok: false, reason: 'invalid token' };
  }
  if (nowMs - claims.t > maxAgeMs) return { ok: false, reason: 'expired token' };
  return { ok: true, roomId: claims.r, peerId: claims.p };
}

function mac(payload: string, secret: string): string {
  return createHmac('sha256', secret).update('fishjam-peer-token:').update(payload).digest('base64url');
}

/** The room a token names, read without checking it: a node uses it only to route the socket to the room's owner,
 *  which verifies the token itself. */
export function peekPeerTokenRoom(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { r?: unknown };
    return typeof claims.r === 'string' ? claims.r : undefined;
  } catch {
    return undefined;
  }
}
