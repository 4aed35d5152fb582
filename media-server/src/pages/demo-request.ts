// What the demo peer endpoint accepts, and which rooms are demo rooms. Pure.
// A demo room's id is "demo-" + the name in the page's URL: the endpoint only ever builds ids with that prefix, so no
// request can name (and mint a peer in) a room an application created through the REST API with another id.
import { HttpError } from '../api/http-error.js';

export const DEMO_ROOM_PREFIX = 'demo-';
/** room names as they appear in /demo/<name>: short, URL-safe, and valid Fishjam room ids once prefixed */
export const DEMO_ROOM_NAME = /^[A-Za-z0-9_-]{1,48}$/;

/** The room options of a demo room: small, and gone soon after everyone left (nobody deletes demo rooms). */
export const DEMO_ROOM_OPTIONS = {
  maxPeers: 8,
  videoCodec: 'vp8',
  peerlessPurgeTimeout: 60,
  peerDisconnectedTimeout: 10,
} as const;

export function demoRoomId(name: string): string {
  return DEMO_ROOM_PREFIX + name;
}

export function isDemoRoomId(roomId: string): boolean {
  return roomId.startsWith(DEMO_ROOM_PREFIX) && DEMO_ROOM_NAME.test(roomId.slice(DEMO_ROOM_PREFIX.length));
}

/** `{"room": "<name>"}` -> the demo room's id; anything else is a 400 naming the expected form. */
export function parseDemoPeerRequest(body: Record<string, unknown>): { roomId: string } {
  const keys = Object.keys(body);
  const room = body.room;
  if (typeof room !== 'string' || !DEMO_ROOM_NAME.test(room)) {
    throw new HttpError(400, 'Expected {"room": "<name>"} with a name of 1 to 48 letters, digits, "-" or "_"');
  }
  if (keys.some((k) => k !== 'room')) throw new HttpError(400, 'Only "room" may be given');
  return { roomId: demoRoomId(room) };
}
