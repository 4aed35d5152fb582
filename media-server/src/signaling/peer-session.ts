// What the server keeps for one connected peer socket: its link, whether it joined as an endpoint, its transport,
// the tracks it sends (Producers) and the other peers' tracks it receives (Consumers, each on one of its recvonly
// m-lines), and the state of its SDP negotiation.
import type { types } from 'mediasoup';
import type { SimulcastConfig, TrackEncoding } from './media-events/index.js';

export interface PeerLink {
  send(json: string): void;
  close(code: number, reason: string): void;
}

export interface PublishedTrack {
  readonly trackId: string;
  readonly producer: types.Producer;
  readonly kind: 'audio' | 'video';
  metadata: unknown;
  readonly simulcast: SimulcastConfig;
  /** the SDK's variant names (l, m, h) in the producer's encoding order, low to high */
  readonly variants: TrackEncoding[];
  /**
   * false until tracksAdded went out (after the publisher's answer): until then no other peer may see or consume it,
   * or its answer would name a track its SDK was never told about
   */
  announced: boolean;
}

export interface ReceivedTrack {
  readonly trackId: string;
  readonly consumer: types.Consumer;
  readonly mid: string;
  readonly publisherId: string;
  /** the spatial layer the client last asked for (setTargetTrackVariant) */
  wantedSpatialLayer?: number;
  /** a setPreferredLayers request is in flight; the wish that arrives meanwhile is applied after it */
  applyingLayers?: boolean;
}

export class PeerSession {
  /** true after the client's `connect` media event, false again after `disconnect` */
  endpoint = false;
  metadata: unknown = null;
  transport: types.WebRtcTransport | undefined;
  readonly published = new Map<string, PublishedTrack>();
  /** remote trackId -> consumer */
  readonly received = new Map<string, ReceivedTrack>();
  /** recvonly mids the client has offered, in offer order, and which remote track each carries (if any) */
  readonly recvMids = new Map<string, { kind: string; trackId: string | undefined }>();
  /** tracks this peer was told about (connected/tracksAdded), so it can be sent their VAD and layer events */
  readonly knownTracks = new Set<string>();
  /**
   * One negotiation at a time, the client always offering: `idle` -> offerData sent (`offered`) -> its sdpOffer being
   * handled (`answering`) -> sdpAnswer sent (`idle`). An offerData sent before the answer made ts-client 0.5.0 offer
   * again from have-local-offer (glare), so a change while not idle only sets `renegotiate`.
   */
  negotiation: 'idle' | 'offered' | 'answering' = 'idle';
  /** something changed while negotiating: negotiate again once the current answer is out */
  renegotiate = false;
  /**
   * Incremented whenever the endpoint leaves (disconnect event, socket closed, peer removed). Work that awaited
   * mediasoup compares the epoch it started in: a mismatch means the peer left meanwhile, and whatever that work
   * created must be closed instead of kept.
   */
  epoch = 0;
  /** the socket is gone for good (no reconnect of this session object) */
  detached = false;
  sessionVersion = 0;
  /** offers are handled one at a time, in order */
  queue: Promise<void> = Promise.resolve();
  /** sdpOffers received and not yet handled (bounded: a client flooding offers is closed) */
  offersQueued = 0;
  /** when the last offerData went out (a client that never answers it must not block renegotiation forever) */
  offeredAt = 0;
  lastBandwidthReport = 0;
  /** the client's ICE ufrag of its last offer: a new one means it restarted ICE */
  clientIceUfrag: string | undefined;

  constructor(
    readonly peerId: string,
    readonly link: PeerLink,
  ) {}
}
