// Domain event -> fishjam.ServerMessage (the protobuf the server socket and webhooks carry). Pure.
import { ServerTrackType, type ServerMessage } from '../proto/index.js';
import type { DomainEvent } from '../rooms/event-bus.js';

const metadataText = (metadata: unknown): string => JSON.stringify(metadata ?? null);

export function serverMessageOf(event: DomainEvent): ServerMessage | undefined {
  switch (event.type) {
    case 'roomCreated':
      return { roomCreated: { roomId: event.roomId } };
    case 'roomDeleted':
      return { roomDeleted: { roomId: event.roomId } };
    case 'roomCrashed':
      return { roomCrashed: { roomId: event.roomId } };
    case 'peerAdded':
      return { peerAdded: { roomId: event.roomId, peerId: event.peerId } };
    case 'peerDeleted':
      return { peerDeleted: { roomId: event.roomId, peerId: event.peerId } };
    case 'peerConnected':
      return { peerConnected: { roomId: event.roomId, peerId: event.peerId } };
    case 'peerDisconnected':
      return { peerDisconnected: { roomId: event.roomId, peerId: event.peerId } };
    case 'peerCrashed':
      return { peerCrashed: { roomId: event.roomId, peerId: event.peerId, reason: event.reason } };
    case 'peerMetadataUpdated':
      return { peerMetadataUpdated: { roomId: event.roomId, peerId: event.peerId, metadata: metadataText(event.metadata) } };
    case 'trackAdded':
    case 'trackRemoved':
    case 'trackMetadataUpdated': {
      const body = {
        roomId: event.roomId,
        peerId: event.peerId,
        track: { id: event.trackId, type: event.trackType === 'audio' ? ServerTrackType.AUDIO : ServerTrackType.VIDEO, metadata: metadataText(event.metadata) },
      };
      if (event.type === 'trackAdded') return { trackAdded: body };
      if (event.type === 'trackRemoved') return { trackRemoved: body };
      return { trackMetadataUpdated: body };
    }
    case 'componentTrackAdded':
    case 'componentTrackRemoved': {
      // The same TrackAdded/TrackRemoved as a peer's, with the oneof endpoint_info set to component_id.
      const body = {
        roomId: event.roomId,
        componentId: event.componentId,
        track: { id: event.trackId, type: event.trackType === 'audio' ? ServerTrackType.AUDIO : ServerTrackType.VIDEO, metadata: metadataText(event.metadata) },
      };
      return event.type === 'componentTrackAdded' ? { trackAdded: body } : { trackRemoved: body };
    }
    case 'componentCrashed':
      return { componentCrashed: { roomId: event.roomId, componentId: event.componentId } };
    case 'hlsPlayable':
      return { hlsPlayable: { roomId: event.roomId, componentId: event.componentId } };
    case 'hlsUploaded':
      return { hlsUploaded: { roomId: event.roomId } };
    case 'hlsUploadCrashed':
      return { hlsUploadCrashed: { roomId: event.roomId } };
    case 'componentAdded':
    case 'componentRemoved':
      return undefined; // the original has no notification for these
  }
}
