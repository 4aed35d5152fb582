// Time-limited TURN credentials in the "TURN REST API" form coturn checks with --use-auth-secret:
// username "<expiry unix seconds>:<peer id>", password base64(HMAC-SHA1(secret, username)). Pure.
import { createHmac } from 'node:crypto';

export interface TurnCredentials {
  username: string;
  password: string;
}

export function turnCredentials(secret: string, peerId: string, nowMs: number, ttlSeconds: number): TurnCredentials {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${peerId}`;
  return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
}
