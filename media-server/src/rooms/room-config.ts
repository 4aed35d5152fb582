// Request body -> RoomConfig with Fishjam 0.6.3's validation rules and error messages (RoomController/Room.Config).
import { DomainError } from './domain-errors.js';
import type { RoomConfig, VideoCodec } from './room-types.js';

export const ROOM_ID_PATTERN = /^[a-zA-Z0-9-_]+$/;

/** The original interpolates the raw value into its messages; objects are shown as JSON so the text stays readable. */
export function showValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}

export function parseRoomConfig(body: Readonly<Record<string, unknown>>, generateId: () => string): RoomConfig {
  const roomId = body.roomId ?? null;
  if (roomId !== null && (typeof roomId !== 'string' || !ROOM_ID_PATTERN.test(roomId) || roomId.length > 255)) {
    throw new DomainError(
      'invalid_room_config',
      `Cannot add room with id "${showValue(roomId)}" - roomId may contain only alphanumeric characters, hyphens and underscores`,
    );
  }
  const maxPeers = body.maxPeers ?? null;
  if (maxPeers !== null && !(Number.isInteger(maxPeers) && (maxPeers as number) >= 0)) {
    throw new DomainError('invalid_room_config', `Expected maxPeers to be a number, got: ${showValue(maxPeers)}`);
  }
  const videoCodec = body.videoCodec ?? null;
  if (videoCodec !== null && videoCodec !== 'h264' && videoCodec !== 'vp8') {
    throw new DomainError('invalid_room_config', `Expected videoCodec to be 'h264' or 'vp8', got: ${showValue(videoCodec)}`);
  }
  const webhookUrl = body.webhookUrl ?? null;
  if (webhookUrl !== null && !isHttpUrl(webhookUrl)) {
    throw new DomainError('invalid_room_config', `Expected webhookUrl to be valid URL, got: ${showValue(webhookUrl)}`);
  }
  const timeouts = ['peerlessPurgeTimeout', 'peerDisconnectedTimeout'] as const;
  for (const name of timeouts) {
    const value = body[name] ?? null;
    if (value !== null && !(Number.isInteger(value) && (value as number) > 0)) {
      throw new DomainError('invalid_room_config', `Expected ${name} to be a positive integer, got: ${showValue(value)}`);
    }
  }
  return {
    roomId: (roomId as string | null) ?? generateId(),
    maxPeers: maxPeers as number | null,
    videoCodec: videoCodec as VideoCodec | null,
    webhookUrl: webhookUrl as string | null,
    peerlessPurgeTimeout: (body.peerlessPurgeTimeout ?? null) as number | null,
    peerDisconnectedTimeout: (body.peerDisconnectedTimeout ?? null) as number | null,
  };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}
