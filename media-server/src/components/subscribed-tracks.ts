// Which of a room's tracks a recording component (HLS or Recording) takes: auto, every track of every peer and
// component but itself; manual, the tracks of the endpoints named through subscribe. Only tracks whose producer is
// open, with the producer to consume.
import type { types } from 'mediasoup';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { SourceTrack } from './hls-session.js';

/** The producer of a peer's track (peers' producers live in signalling; components' in the registry). */
export type PeerProducerLookup = (roomId: string, peerId: string, trackId: string) => types.Producer | undefined;

export function subscribedTracks(
  registry: RoomRegistry,
  peerProducer: PeerProducerLookup,
  roomId: string,
  componentId: string,
  mode: 'auto' | 'manual',
  origins: ReadonlySet<string>,
): SourceTrack[] {
  const room = registry.find(roomId);
  if (!room) return [];
  const wanted = (ownerId: string) => mode === 'auto' || origins.has(ownerId);
  const tracks: SourceTrack[] = [];
  for (const peer of room.peers.values()) {
    if (!wanted(peer.id)) continue;
    for (const track of peer.tracks.values()) {
      const producer = peerProducer(room.id, peer.id, track.id);
      if (producer && !producer.closed) tracks.push({ ownerId: peer.id, trackId: track.id, kind: track.type, producer, screenshare: isScreenshare(track.metadata) });
    }
  }
  for (const component of room.components.values()) {
    if (component.id === componentId || !wanted(component.id)) continue;
    for (const track of component.tracks.values()) {
      if (!track.producer.closed) tracks.push({ ownerId: component.id, trackId: track.id, kind: track.type, producer: track.producer, screenshare: false });
    }
  }
  return tracks;
}

/** The original's rule: a video track whose metadata has `"type": "screenshare"` is a screenshare. */
function isScreenshare(metadata: unknown): boolean {
  return typeof metadata === 'object' && metadata !== null && (metadata as { type?: unknown }).type === 'screenshare';
}
