// The components of a room as the peers' SDK sees them: endpoints of their component type ("file", ...) with null
// metadata, whose tracks are consumed like a peer's (the producer is fed by the component's player, see
// components/file-player.ts). Kept apart from the peers' sessions: a component has no socket, no transport and no
// negotiation, and must not appear in the per-peer statistics.
import type { types } from 'mediasoup';
import type { EndpointInfo, TrackInfo } from './media-events/index.js';
import type { PublishedTrack } from './peer-session.js';

export interface ComponentEndpoint {
  readonly id: string;
  readonly type: string;
  readonly tracks: Map<string, PublishedTrack>;
}

export class ComponentEndpoints {
  private readonly endpoints = new Map<string, ComponentEndpoint>();

  /** false if it was known already */
  add(id: string, type: string): boolean {
    if (this.endpoints.has(id)) return false;
    this.endpoints.set(id, { id, type, tracks: new Map() });
    return true;
  }

  /** The new track, or undefined when the component is unknown or has it already. */
  addTrack(id: string, trackId: string, producer: types.Producer): PublishedTrack | undefined {
    const endpoint = this.endpoints.get(id);
    if (!endpoint || endpoint.tracks.has(trackId)) return undefined;
    const track: PublishedTrack = {
      trackId,
      producer,
      kind: producer.kind,
      metadata: null,
      simulcast: { enabled: false, activeEncodings: [], disabledEncodings: [] },
      variants: ['h'],
      announced: true,
    };
    endpoint.tracks.set(trackId, track);
    return track;
  }

  removeTrack(id: string, trackId: string): boolean {
    return this.endpoints.get(id)?.tracks.delete(trackId) ?? false;
  }

  /** The removed endpoint (its remaining track ids are the caller's to withdraw first). */
  remove(id: string): ComponentEndpoint | undefined {
    const endpoint = this.endpoints.get(id);
    this.endpoints.delete(id);
    return endpoint;
  }

  get(id: string): ComponentEndpoint | undefined {
    return this.endpoints.get(id);
  }

  tracks(): PublishedTrack[] {
    return [...this.endpoints.values()].flatMap((e) => [...e.tracks.values()]);
  }

  infos(): EndpointInfo[] {
    return [...this.endpoints.values()].map((e) => endpointInfoOf(e));
  }
}

export function tracksAddedData(endpointId: string, tracks: PublishedTrack[]): { endpointId: string; trackIdToMetadata: Record<string, unknown>; tracks: Record<string, TrackInfo> } {
  const info: Record<string, TrackInfo> = {};
  const trackIdToMetadata: Record<string, unknown> = {};
  for (const t of tracks) {
    info[t.trackId] = { metadata: t.metadata, simulcastConfig: t.simulcast };
    trackIdToMetadata[t.trackId] = t.metadata;
  }
  return { endpointId, trackIdToMetadata, tracks: info };
}

function endpointInfoOf(endpoint: ComponentEndpoint): EndpointInfo {
  const { trackIdToMetadata, tracks } = tracksAddedData(endpoint.id, [...endpoint.tracks.values()]);
  return { id: endpoint.id, type: endpoint.type, metadata: null, trackIdToMetadata, tracks };
}
