// The Membrane RTC Engine protocol of one room, as @fishjam-dev/ts-client 0.5.0 speaks it. The client is always the
// SDP offerer: `renegotiateTracks` (or a change in the room) -> offerData {tracksTypes} -> the client's sdpOffer ->
// Producers for its send m-lines, Consumers on its recvonly m-lines -> sdpAnswer {midToTrackId}. One handler per
// media event; every track change is told to the other endpoints and followed by their renegotiation.
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { RoomMedia } from '../sfu/room-media.js';
import { DownlinkProber } from '../sfu/downlink-prober.js';
import {
  parseClientMediaEvent,
  serializeServerMediaEvent,
  trackEncodings,
  type ClientMediaEventData,
  type EndpointInfo,
  type SdpOfferData,
  type ServerMediaEvent,
  type TrackEncoding,
  type TrackInfo,
} from './media-events/index.js';
import { LatestWinsThrottle } from './latest-wins-throttle.js';
import { ComponentEndpoints, tracksAddedData } from './component-endpoints.js';
import { PeerSession, type PeerLink, type PublishedTrack } from './peer-session.js';
import { buildAnswer, type MLineDecision } from './sdp/answer.js';
import { parseClientOffer, type ClientOffer } from './sdp/client-offer.js';
import { turnCredentials } from '../turn/turn-credentials.js';
import type { TurnServer } from '../turn/turn-server.js';

const TURN_CREDENTIAL_TTL_S = 24 * 60 * 60;
const CONSUMER_RESUME_DELAY_MS = 150;
/** The SDK has one offer in flight at a time; more waiting than this is a flood, and the socket is closed. */
const MAX_QUEUED_OFFERS = 4;
/** Tracks one peer may publish; send m-lines past it are not produced. */
const MAX_PUBLISHED_TRACKS = 16;
/** m-lines of one offer (receive lines grow with the room: one per remote track). */
const MAX_OFFER_MLINES = 1024;
/** An offerData unanswered this long no longer holds back the next one (a client that lost it must not hang). */
const OFFER_ANSWER_TIMEOUT_MS = 10_000;
/**
 * A peer's metadata reaches the room at most once per this many ms per endpoint in the room, and at least 100 ms
 * apart; its tracks' metadata and encoding toggles share one such budget (each of its T tracks' keys waits T times as
 * long). Whatever the peers send, each receiver gets at most ~100 endpoint and ~400 track events per second.
 */
const METADATA_INTERVAL_MS_PER_ENDPOINT = 10;
const METADATA_MIN_INTERVAL_MS = 100;

export class RoomSignaling {
  readonly sessions = new Map<string, PeerSession>();
  private readonly components = new ComponentEndpoints();
  private readonly speaking = new Map<string, Set<string>>();
  /** the whole room is closing (close()): leavers tell nobody */
  private closing = false;
  private readonly metadataThrottle = new LatestWinsThrottle((key) => {
    const interval = Math.max(METADATA_MIN_INTERVAL_MS, METADATA_INTERVAL_MS_PER_ENDPOINT * this.endpoints().length);
    if (!key.includes('\0track\0')) return interval;
    const tracks = this.sessions.get(key.slice(0, key.indexOf('\0')))?.published.size ?? 1;
    return interval * Math.max(1, tracks);
  });

  constructor(
    readonly roomId: string,
    private readonly media: RoomMedia,
    private readonly registry: RoomRegistry,
    private readonly logger: Logger,
    private readonly turn?: TurnServer,
  ) {
    media.onAudioLevels({
      volumes: (routerId, producerIds) => this.onVolumes(routerId, producerIds),
      silence: (routerId) => this.onVolumes(routerId, []),
    });
  }

  attach(peerId: string, link: PeerLink): void {
    this.sessions.set(peerId, new PeerSession(peerId, link));
  }

  /** The socket went away (or the peer was removed): its endpoint leaves the room. */
  detach(peerId: string): void {
    const session = this.sessions.get(peerId);
    if (!session) return;
    session.detached = true;
    this.leave(session);
    this.sessions.delete(peerId);
  }

  /**
   * One media event of one peer. Its own error boundary: a handler that throws closes that peer's socket (1011) and
   * nothing else; the room and the node go on.
   */
  receive(peerId: string, json: string): void {
    const session = this.sessions.get(peerId);
    if (!session) return;
    try {
      this.dispatch(session, json);
    } catch (error) {
      this.fail(session, error);
    }
  }

  private fail(session: PeerSession, error: unknown): void {
    this.logger.error({ peer: session.peerId, err: (error as Error)?.message ?? String(error) }, 'media event handler failed; closing the peer socket');
    session.link.close(1011, 'Internal server error');
    this.detach(session.peerId);
  }

  private dispatch(session: PeerSession, json: string): void {
    const peerId = session.peerId;
    const parsed = parseClientMediaEvent(json);
    if (!parsed.ok) {
      this.logger.debug({ peer: peerId, err: parsed.error }, 'ignoring an unreadable media event');
      return;
    }
    const event = parsed.value;
    this.logger.debug({ peer: peerId, type: event.type }, 'media event in');
    if (event.type !== 'connect' && !session.endpoint) {
      this.logger.debug({ peer: peerId, type: event.type }, 'media event before connect: ignored');
      return;
    }
    switch (event.type) {
      case 'connect':
        return this.onConnect(session, event.data);
      case 'disconnect':
        return this.leave(session);
      case 'updateEndpointMetadata':
        return this.onEndpointMetadata(session, event.data);
      case 'updateTrackMetadata':
        return this.onTrackMetadata(session, event.data);
      case 'renegotiateTracks':
        return this.renegotiate(session);
      case 'sdpOffer': {
        if (session.offersQueued >= MAX_QUEUED_OFFERS) {
          this.logger.warn({ peer: peerId }, 'too many sdpOffers waiting; closing the peer socket');
          session.link.close(1008, 'too many offers');
          this.detach(peerId);
          return;
        }
        session.offersQueued++;
        const epoch = session.epoch;
        session.queue = session.queue
          .then(() => this.onSdpOffer(session, event.data, epoch))
          .catch((error: Error) => {
            if (!this.current(session, epoch)) return; // the peer left meanwhile: nobody to tell
            this.logger.warn({ peer: peerId, err: error.message }, 'sdpOffer failed');
            // tracks of the failed offer that nobody was told about go again
            this.unpublish(session, [...session.published.values()].filter((t) => !t.announced));
            this.send(session, { type: 'error', data: { message: `Negotiation failed: ${error.message}` } } as ServerMediaEvent);
            this.answered(session);
          })
          .finally(() => session.offersQueued--);
        return;
      }
      case 'setTargetTrackVariant':
        return void this.onTargetVariant(session, event.data).catch((error: unknown) => this.fail(session, error));
      case 'enableTrackEncoding':
      case 'disableTrackEncoding':
        return this.onEncodingToggle(session, event.type, event.data);
      case 'candidate':
      case 'trackVariantBitrates':
        return; // ICE-lite: the client's candidates are learnt from its STUN checks; bitrates are informational
    }
  }

  close(code: number, reason: string): void {
    // Every socket is closing: telling each remaining peer about each leaver would be N^2 messages nobody reads.
    this.closing = true;
    for (const session of [...this.sessions.values()]) {
      session.link.close(code, reason);
      this.detach(session.peerId);
    }
  }

  // --- components: endpoints without a socket, whose tracks every peer receives -----------------------------

  addComponent(componentId: string, type: string): void {
    if (!this.components.add(componentId, type)) return;
    for (const other of this.endpoints()) this.send(other, { type: 'endpointAdded', data: { id: componentId, type, metadata: null } });
  }

  addComponentTrack(componentId: string, trackId: string, producer: types.Producer): void {
    const track = this.components.addTrack(componentId, trackId, producer);
    if (!track) return;
    for (const other of this.endpoints()) {
      other.knownTracks.add(trackId);
      this.send(other, { type: 'tracksAdded', data: tracksAddedData(componentId, [track]) });
      this.renegotiate(other);
    }
  }

  removeComponentTrack(componentId: string, trackId: string): void {
    if (!this.components.removeTrack(componentId, trackId)) return;
    for (const other of this.endpoints()) {
      if (!other.knownTracks.has(trackId) && !other.received.has(trackId)) continue;
      other.knownTracks.delete(trackId);
      other.received.get(trackId)?.consumer.close();
      other.received.delete(trackId);
      this.send(other, { type: 'tracksRemoved', data: { endpointId: componentId, trackIds: [trackId] } });
      this.renegotiate(other);
    }
  }

  removeComponent(componentId: string): void {
    const endpoint = this.components.get(componentId);
    if (!endpoint) return;
    for (const trackId of [...endpoint.tracks.keys()]) this.removeComponentTrack(componentId, trackId);
    this.components.remove(componentId);
    for (const other of this.endpoints()) this.send(other, { type: 'endpointRemoved', data: { id: componentId } });
  }

  // --- handlers -------------------------------------------------------------------------------------------

  private onConnect(session: PeerSession, data: ClientMediaEventData['connect']): void {
    if (session.endpoint) return;
    session.endpoint = true;
    session.metadata = data.metadata ?? null;
    const peer = this.registry.find(this.roomId)?.peers.get(session.peerId);
    // As the original: metadata given with `connect` is announced (PeerMetadataUpdated) like a later update.
    if (peer && session.metadata !== null) this.registry.setPeerMetadata(this.roomId, session.peerId, session.metadata);
    else if (peer) peer.metadata = null;
    const others = this.endpoints().filter((s) => s !== session);
    for (const other of others) for (const t of announcedTracks(other)) session.knownTracks.add(t.trackId);
    for (const t of this.components.tracks()) session.knownTracks.add(t.trackId);
    const otherEndpoints = [...others.map((o) => endpointInfo(o)), ...this.components.infos()];
    this.send(session, { type: 'connected', data: { id: session.peerId, otherEndpoints } });
    for (const other of others) this.send(other, { type: 'endpointAdded', data: { id: session.peerId, type: 'webrtc', metadata: session.metadata } });
    // A peer that only receives never asks to renegotiate: offer it the tracks already in the room.
    if (this.tracksFor(session).length > 0) this.renegotiate(session);
  }

  /** Coalesced (latest wins, see latest-wins-throttle.ts): a peer looping updates cannot flood the room. */
  private onEndpointMetadata(session: PeerSession, data: ClientMediaEventData['updateEndpointMetadata']): void {
    const metadata = data.metadata ?? null;
    const epoch = session.epoch;
    this.metadataThrottle.schedule(`${session.peerId}\0endpoint`, () => {
      if (!this.current(session, epoch) || !session.endpoint) return;
      session.metadata = metadata;
      this.registry.setPeerMetadata(this.roomId, session.peerId, session.metadata);
      this.broadcast(session, { type: 'endpointUpdated', data: { id: session.peerId, metadata: session.metadata } });
    });
  }

  private onTrackMetadata(session: PeerSession, data: ClientMediaEventData['updateTrackMetadata']): void {
    if (!session.published.has(data.trackId)) return;
    const metadata = data.trackMetadata ?? null;
    const epoch = session.epoch;
    this.metadataThrottle.schedule(`${session.peerId}\0track\0${data.trackId}\0`, () => {
      const track = session.published.get(data.trackId);
      if (!this.current(session, epoch) || !track) return;
      track.metadata = metadata;
      this.registry.setTrackMetadata(this.roomId, session.peerId, data.trackId, track.metadata);
      this.broadcast(session, { type: 'trackUpdated', data: { endpointId: session.peerId, trackId: data.trackId, metadata: track.metadata } });
    });
  }

  private onEncodingToggle(session: PeerSession, type: 'enableTrackEncoding' | 'disableTrackEncoding', data: { trackId: string; encoding: TrackEncoding }): void {
    const track = session.published.get(data.trackId);
    if (!track) return;
    const { activeEncodings, disabledEncodings } = track.simulcast;
    const [from, to] = type === 'enableTrackEncoding' ? [disabledEncodings, activeEncodings] : [activeEncodings, disabledEncodings];
    if (from.includes(data.encoding)) from.splice(from.indexOf(data.encoding), 1);
    if (!to.includes(data.encoding)) to.push(data.encoding);
    const eventType = type === 'enableTrackEncoding' ? 'trackEncodingEnabled' : 'trackEncodingDisabled';
    // The last toggle of an encoding is its state: coalesced like metadata, so a toggling loop cannot flood the room.
    const epoch = session.epoch;
    this.metadataThrottle.schedule(`${session.peerId}\0track\0${data.trackId}\0encoding\0${data.encoding}`, () => {
      if (!this.current(session, epoch) || !session.published.has(data.trackId)) return;
      this.broadcast(session, { type: eventType, data: { endpointId: session.peerId, trackId: data.trackId, encoding: data.encoding } });
    });
  }

  /** setTargetTrackVariant: the receiver's preferred simulcast layer for one remote track. */
  private async onTargetVariant(session: PeerSession, data: ClientMediaEventData['setTargetTrackVariant']): Promise<void> {
    const received = session.received.get(data.trackId);
    const track = this.findPublished(data.trackId);
    if (!received || !track) return;
    const spatialLayer = track.variants.indexOf(data.variant);
    if (spatialLayer < 0) return;
    // One worker request per consumer at a time, the latest wish applied last: a client repeating the event in a
    // loop must not queue unbounded requests on the worker's channel.
    received.wantedSpatialLayer = spatialLayer;
    if (received.applyingLayers) return;
    received.applyingLayers = true;
    try {
      let applied: number | undefined;
      while (received.wantedSpatialLayer !== applied && !received.consumer.closed) {
        applied = received.wantedSpatialLayer;
        await received.consumer.setPreferredLayers({ spatialLayer: applied, temporalLayer: 2 }).catch(() => undefined);
      }
    } finally {
      received.applyingLayers = false;
    }
  }

  private offerData(session: PeerSession): void {
    const tracksTypes = { audio: 0, video: 0 };
    for (const t of this.tracksFor(session)) tracksTypes[t.kind]++;
    // Never fewer than the receive m-lines the client already has: the SDK sizes an array with the difference.
    for (const kind of ['audio', 'video'] as const) {
      const known = [...session.recvMids.values()].filter((m) => m.kind === kind).length;
      tracksTypes[kind] = Math.max(tracksTypes[kind], known);
    }
    session.negotiation = 'offered';
    session.offeredAt = Date.now();
    this.send(session, { type: 'offerData', data: { integratedTurnServers: this.turnServersFor(session), tracksTypes } });
  }

  private async onSdpOffer(session: PeerSession, data: SdpOfferData, epoch: number): Promise<void> {
    if (!this.current(session, epoch)) return;
    session.negotiation = 'answering';
    const parsed = parseClientOffer(data.sdpOffer.sdp, this.media.rtpCapabilities, data.midToTrackId ?? {});
    if (!parsed.ok) throw new Error(parsed.error);
    const offer = parsed.value;
    if (offer.mLines.length > MAX_OFFER_MLINES) throw new Error(`the offer has ${offer.mLines.length} m-lines, more than ${MAX_OFFER_MLINES}`);
    const transport = await this.ensureTransport(session, offer, epoch);
    if (!transport) return;

    const added = await this.syncPublished(session, offer, transport, data, epoch);
    if (!this.current(session, epoch)) return;
    await this.syncReceived(session, offer, transport, epoch);
    if (!this.current(session, epoch)) return;

    const decisions: Record<string, MLineDecision> = {};
    const midToTrackId: Record<string, string> = {};
    for (const line of offer.mLines) {
      const own = line.trackId !== undefined ? session.published.get(line.trackId) : undefined;
      if (own && line.producer) midToTrackId[line.mid] = own.trackId;
      const slot = session.recvMids.get(line.mid);
      const received = slot?.trackId !== undefined ? session.received.get(slot.trackId) : undefined;
      if (received) {
        midToTrackId[line.mid] = received.trackId;
        decisions[line.mid] = { action: 'send', rtpParameters: received.consumer.rtpParameters, streamId: received.publisherId, trackId: received.trackId };
      }
    }
    const answer = buildAnswer({
      offer,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      decisions,
      sessionId: String(hashOf(session.peerId)),
      sessionVersion: ++session.sessionVersion,
    });
    if (!answer.ok) throw new Error(answer.error);
    this.send(session, { type: 'sdpAnswer', data: { type: 'answer', sdp: answer.value, midToTrackId } });
    // Consumers start once the client has had time to apply the answer (the SDK sends no acknowledgement): a key
    // frame sent before that is dropped by the browser and costs a PLI round trip.
    setTimeout(() => {
      for (const received of session.received.values()) if (received.consumer.paused) void received.consumer.resume().catch(() => undefined);
    }, CONSUMER_RESUME_DELAY_MS).unref();

    if (added.length > 0) this.announceTracks(session, added);
    this.answered(session);
  }

  /** The answer (or an error) is out: the next negotiation may start. */
  private answered(session: PeerSession): void {
    session.negotiation = 'idle';
    if (session.renegotiate) {
      session.renegotiate = false;
      this.offerData(session);
    }
  }

  /** The session is still the endpoint that started work in `epoch` (it has not left since). */
  private current(session: PeerSession, epoch: number): boolean {
    return session.epoch === epoch && session.endpoint && !session.detached && this.sessions.get(session.peerId) === session;
  }

  // --- media ----------------------------------------------------------------------------------------------

  /** The session's transport (created on its first offer); undefined when the peer left while it was being made. */
  private async ensureTransport(session: PeerSession, offer: ClientOffer, epoch: number): Promise<types.WebRtcTransport | undefined> {
    if (session.transport && !session.transport.closed) {
      const existing = session.transport;
      // The SDK restarts ICE on every offer after its first: new client credentials need new server ones.
      if (session.clientIceUfrag !== offer.iceParameters.usernameFragment) {
        session.clientIceUfrag = offer.iceParameters.usernameFragment;
        await existing.restartIce();
      }
      return this.current(session, epoch) && !existing.closed ? existing : undefined;
    }
    session.clientIceUfrag = offer.iceParameters.usernameFragment;
    const transport = await this.media.createWebRtcTransport();
    if (!this.current(session, epoch)) {
      transport.close();
      return undefined;
    }
    // Owned by the session from now on: leave() closes it, whatever is still in flight.
    session.transport = transport;
    await transport.connect({ dtlsParameters: offer.dtlsParameters });
    if (!this.current(session, epoch) || transport.closed) return undefined;
    await transport.enableTraceEvent(['bwe']).catch(() => undefined);
    // Lends the transport a bitrate floor when its simulcast consumers sit below the layers they want on a link that
    // may have recovered (downlink-floor.ts says why mediasoup alone can take a minute there).
    const prober = new DownlinkProber(
      transport,
      () => [...session.received.values()].map((r) => r.consumer),
      (change) => this.logger.info({ peer: session.peerId, ...change }, 'downlink floor'),
    );
    transport.on('trace', (trace) => {
      if (trace.type !== 'bwe') return;
      prober.onBwe(trace.info as { availableBitrate?: number; desiredBitrate?: number });
      const now = Date.now();
      if (now - session.lastBandwidthReport < 1000) return;
      session.lastBandwidthReport = now;
      const info = trace.info as { availableBitrate?: number };
      if (typeof info.availableBitrate === 'number') this.send(session, { type: 'bandwidthEstimation', data: { estimation: info.availableBitrate } });
    });
    return transport;
  }

  /** Producers for new send m-lines; tracks the client stopped sending are removed. */
  private async syncPublished(session: PeerSession, offer: ClientOffer, transport: types.WebRtcTransport, data: SdpOfferData, epoch: number): Promise<PublishedTrack[]> {
    const offered = new Set<string>();
    const added: PublishedTrack[] = [];
    for (const line of offer.mLines) {
      if (!line.trackId || !line.producer) continue;
      offered.add(line.trackId);
      if (session.published.has(line.trackId)) continue;
      // A track id is its publisher's: another peer's id (or a remote track this peer receives) is not taken over.
      const owner = this.ownerOf(line.trackId);
      if ((owner && owner !== session) || session.received.has(line.trackId)) {
        this.logger.warn({ peer: session.peerId, track: line.trackId }, 'send m-line names a track of another peer: not produced');
        continue;
      }
      if (session.published.size >= MAX_PUBLISHED_TRACKS) {
        this.logger.warn({ peer: session.peerId, track: line.trackId }, `more than ${MAX_PUBLISHED_TRACKS} published tracks: not produced`);
        continue;
      }
      const producer = await transport.produce({ ...line.producer, appData: { peerId: session.peerId, trackId: line.trackId } });
      if (!this.current(session, epoch) || producer.closed) {
        producer.close();
        return [];
      }
      const rids = line.sendRids.length > 0 ? line.sendRids : [];
      const variants = rids.filter((r): r is TrackEncoding => (trackEncodings as readonly string[]).includes(r));
      const track: PublishedTrack = {
        trackId: line.trackId,
        producer,
        kind: producer.kind,
        metadata: data.trackIdToTrackMetadata?.[line.trackId] ?? null,
        simulcast: { enabled: variants.length > 1, activeEncodings: variants.filter((v) => !line.pausedRids.includes(v)), disabledEncodings: [] },
        variants: variants.length > 0 ? variants : ['h'],
        announced: false,
      };
      session.published.set(track.trackId, track);
      added.push(track);
      this.registry.addTrack(this.roomId, session.peerId, { id: track.trackId, type: track.kind, metadata: track.metadata });
    }
    const gone = [...session.published.values()].filter((t) => !offered.has(t.trackId));
    if (gone.length > 0) this.unpublish(session, gone);
    return added;
  }

  /** Consumers for the other endpoints' tracks on the client's free recvonly m-lines (paused until answered). */
  private async syncReceived(session: PeerSession, offer: ClientOffer, transport: types.WebRtcTransport, epoch: number): Promise<void> {
    for (const line of offer.mLines) {
      if (line.trackId !== undefined || line.direction !== 'recvonly' || line.stopped) continue;
      if (!session.recvMids.has(line.mid)) session.recvMids.set(line.mid, { kind: line.type, trackId: undefined });
    }
    for (const [mid, slot] of session.recvMids) {
      if (slot.trackId !== undefined && !session.received.has(slot.trackId)) slot.trackId = undefined;
      if (!offer.mLines.some((l) => l.mid === mid && !l.stopped)) session.recvMids.delete(mid);
    }
    for (const track of this.tracksFor(session)) {
      if (session.received.has(track.trackId)) continue;
      const free = [...session.recvMids.entries()].find(([, s]) => s.kind === track.kind && s.trackId === undefined);
      if (!free) {
        session.renegotiate = true; // not enough recvonly m-lines yet: offerData again after this answer
        continue;
      }
      if (!this.media.canConsume(track.producer.id, offer.rtpCapabilities)) continue;
      let consumer: types.Consumer;
      try {
        await this.media.ensureConsumable(track.producer.id, transport);
        if (!this.current(session, epoch)) return;
        if (track.producer.closed || session.received.has(track.trackId)) continue;
        consumer = await transport.consume({ producerId: track.producer.id, rtpCapabilities: withoutRtx(offer.rtpCapabilities), paused: true, mid: free[0] });
      } catch (error) {
        // One track failing (its publisher left during a pipe, say) is not the whole offer failing: skip it, and
        // offer again once this answer is out.
        if (!this.current(session, epoch)) return;
        this.logger.warn({ peer: session.peerId, track: track.trackId, err: (error as Error).message }, 'consumer not made; renegotiating');
        if (!track.producer.closed) session.renegotiate = true;
        continue;
      }
      if (!this.current(session, epoch)) {
        consumer.close();
        return;
      }
      // The publisher may have left while the consumer was being made: mediasoup closes it, it must not be kept.
      if (consumer.closed || track.producer.closed) {
        consumer.close();
        continue;
      }
      const publisherId = (track.producer.appData as { peerId: string }).peerId;
      free[1].trackId = track.trackId;
      session.received.set(track.trackId, { trackId: track.trackId, consumer, mid: free[0], publisherId });
      session.knownTracks.add(track.trackId);
      consumer.on('producerclose', () => session.received.delete(track.trackId));
      consumer.on('layerschange', (layers) => {
        const variant = layers ? track.variants[layers.spatialLayer] : undefined;
        if (variant && track.simulcast.enabled) {
          this.send(session, { type: 'encodingSwitched', data: { endpointId: publisherId, trackId: track.trackId, encoding: variant, reason: 'other' } });
        }
      });
    }
  }

  private announceTracks(publisher: PeerSession, tracks: PublishedTrack[]): void {
    for (const t of tracks) t.announced = true;
    const info: Record<string, TrackInfo> = {};
    const trackIdToMetadata: Record<string, unknown> = {};
    for (const t of tracks) {
      info[t.trackId] = { metadata: t.metadata, simulcastConfig: t.simulcast };
      trackIdToMetadata[t.trackId] = t.metadata;
    }
    for (const other of this.endpoints()) {
      if (other === publisher) continue;
      for (const t of tracks) other.knownTracks.add(t.trackId);
      this.send(other, { type: 'tracksAdded', data: { endpointId: publisher.peerId, trackIdToMetadata, tracks: info } });
      this.renegotiate(other);
    }
  }

  private unpublish(session: PeerSession, tracks: PublishedTrack[]): void {
    // A receive-only peer that leaves changes nobody's media: no tracksRemoved {trackIds: []}, no renegotiation
    // (each costs every other peer an ICE restart: O(N^2) with viewer churn).
    if (tracks.length === 0) return;
    for (const t of tracks) {
      session.published.delete(t.trackId);
      this.metadataThrottle.forget(`${session.peerId}\0track\0${t.trackId}\0`);
      t.producer.close();
      this.registry.removeTrack(this.roomId, session.peerId, t.trackId);
    }
    const trackIds = tracks.map((t) => t.trackId);
    for (const other of this.endpoints()) {
      if (other === session) continue;
      if (!trackIds.some((id) => other.knownTracks.has(id) || other.received.has(id))) continue;
      for (const id of trackIds) {
        other.knownTracks.delete(id);
        other.received.get(id)?.consumer.close();
        other.received.delete(id);
      }
      this.send(other, { type: 'tracksRemoved', data: { endpointId: session.peerId, trackIds } });
      this.renegotiate(other);
    }
  }

  private renegotiate(session: PeerSession): void {
    const lostOffer = session.negotiation === 'offered' && Date.now() - session.offeredAt > OFFER_ANSWER_TIMEOUT_MS;
    if (session.negotiation !== 'idle' && !lostOffer) session.renegotiate = true;
    else this.offerData(session);
  }

  private leave(session: PeerSession): void {
    session.epoch++;
    this.metadataThrottle.forget(`${session.peerId}\0`);
    session.negotiation = 'idle';
    session.renegotiate = false;
    if (!session.endpoint) {
      session.transport?.close();
      session.transport = undefined;
      return;
    }
    this.unpublish(session, [...session.published.values()]);
    session.endpoint = false;
    session.transport?.close();
    session.transport = undefined;
    session.received.clear();
    session.recvMids.clear();
    session.knownTracks.clear();
    for (const other of this.endpoints()) this.send(other, { type: 'endpointRemoved', data: { id: session.peerId } });
  }

  // --- voice activity -------------------------------------------------------------------------------------

  private onVolumes(routerId: string, producerIds: string[]): void {
    const before = this.speaking.get(routerId) ?? new Set<string>();
    const now = new Set(producerIds);
    this.speaking.set(routerId, now);
    for (const id of now) if (!before.has(id)) this.vad(id, 'speech');
    for (const id of before) if (!now.has(id)) this.vad(id, 'silence');
  }

  private vad(producerId: string, status: 'speech' | 'silence'): void {
    for (const owner of this.sessions.values()) {
      for (const track of owner.published.values()) {
        if (track.producer.id !== producerId) continue;
        for (const other of this.endpoints()) {
          if (other !== owner && other.knownTracks.has(track.trackId)) this.send(other, { type: 'vadNotification', data: { trackId: track.trackId, status } });
        }
      }
    }
  }

  // --- helpers --------------------------------------------------------------------------------------------

  /** The SDK relays everything through these (it only uses relay candidates). */
  private turnServersFor(session: PeerSession): Array<{ serverAddr: string; serverPort: number; transport: 'udp' | 'tcp'; username: string; password: string }> {
    if (!this.turn) return [];
    const { username, password } = turnCredentials(this.turn.secret, session.peerId, Date.now(), TURN_CREDENTIAL_TTL_S);
    return (['udp', 'tcp'] as const).map((transport) => ({ serverAddr: this.turn!.announcedIp, serverPort: this.turn!.port, transport, username, password }));
  }

  private endpoints(): PeerSession[] {
    return [...this.sessions.values()].filter((s) => s.endpoint);
  }

  /** Every announced track of the other endpoints and of the components: what this session should receive. */
  private tracksFor(session: PeerSession): PublishedTrack[] {
    return [...this.endpoints().filter((s) => s !== session).flatMap((s) => announcedTracks(s)), ...this.components.tracks()];
  }

  /** The session publishing `trackId`, announced or not. */
  private ownerOf(trackId: string): PeerSession | undefined {
    for (const s of this.sessions.values()) if (s.published.has(trackId)) return s;
    return undefined;
  }

  private findPublished(trackId: string): PublishedTrack | undefined {
    for (const s of this.sessions.values()) {
      const t = s.published.get(trackId);
      if (t) return t;
    }
    return undefined;
  }

  private send(session: PeerSession, event: ServerMediaEvent): void {
    if (this.closing) return;
    this.logger.debug({ peer: session.peerId, type: event.type }, 'media event out');
    session.link.send(serializeServerMediaEvent(event));
  }

  private broadcast(from: PeerSession, event: ServerMediaEvent): void {
    for (const other of this.endpoints()) if (other !== from) this.send(other, event);
  }
}

function announcedTracks(session: PeerSession): PublishedTrack[] {
  return [...session.published.values()].filter((t) => t.announced);
}

function endpointInfo(session: PeerSession): EndpointInfo {
  const tracks: Record<string, TrackInfo> = {};
  const trackIdToMetadata: Record<string, unknown> = {};
  for (const t of announcedTracks(session)) {
    tracks[t.trackId] = { metadata: t.metadata, simulcastConfig: t.simulcast };
    trackIdToMetadata[t.trackId] = t.metadata;
  }
  return { id: session.peerId, type: 'webrtc', metadata: session.metadata, trackIdToMetadata, tracks };
}

/**
 * mediasoup picks RTX payload types itself and they rarely equal the browser's, whose answer must keep its own: so
 * consumers send without RTX, and NACKed packets are retransmitted on the media stream itself.
 */
function withoutRtx(caps: types.RtpCapabilities): types.RtpCapabilities {
  return { ...caps, codecs: (caps.codecs ?? []).filter((c) => !c.mimeType.toLowerCase().endsWith('/rtx')) };
}

function hashOf(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h;
}
