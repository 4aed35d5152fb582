// The cookie nodes prove to each other. An explicit FJ_DIST_COOKIE always wins; without it the cookie is derived from
// FJ_SERVER_API_TOKEN with a keyed hash (never the token itself, which never crosses the wire either: only HMAC
// proofs over fresh nonces do). Nodes sharing the token form their cluster with no cookie set (the seed's compose
// files), and a stranger without the token can neither join nor reach the dist RPCs. Pure.
import { createHmac } from 'node:crypto';
import type { DistConfig } from '../config/config.js';

export function derivedCookie(serverApiToken: string): string {
  return createHmac('sha256', 'fishjam-ts dist cookie v1').update(serverApiToken).digest('base64url');
}

/** The dist settings with the cookie this node really uses. */
export function withEffectiveCookie(dist: DistConfig, serverApiToken: string): DistConfig {
  return dist.cookieIsDefault ? { ...dist, cookie: derivedCookie(serverApiToken) } : dist;
}
