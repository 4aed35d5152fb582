// One load client: a werift peer connection speaking the real peer-socket protocol the way @fishjam-dev/ts-client
// does (auth_request -> connect -> [renegotiateTracks] -> offerData -> sdpOffer -> sdpAnswer, again on every
// offerData the server sends when tracks come and go). Publishers send synthetic VP8/opus; every peer counts the media
// it receives from the clear-text RTP headers (see rtp-stream-counter.ts) and drops it before decrypting, so one
// process holds hundreds of peers. Every wait is bounded.
import { WebSocket } from 'ws';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  useAbsSendTime,
  useAudioLevelIndication,
  useNACK,
  usePLI,
  useSdesMid,
  useTransportWideCC,
  useTWCC,
} from 'werift';
import { decodePeerMessage, encodePeerMessage } from '../proto/index.js';
import { opusPump, vp8Pump, type Pump, type VideoShape } from './media-pump.js';
import { isKeyFrameRequest, RtpStreamCounter, ssrcsOf } from './rtp-stream-counter.js';

export interface LoadPeerOptions {
  /** ws(s)://host/socket/peer/websocket */
  socketUrl: string;
  token: string;
  label: string;
  /** tracks this peer publishes (none: a subscriber) */
  publish: { video?: VideoShape; audio?: boolean };
  timeoutMs?: number;
  /**
   * Use only relay candidates from the TURN servers the server names in offerData (UDP), as the web SDK does
   * (iceTransportPolicy "relay"); by default the peer reaches the node's WebRTC ports directly.
   */
  relay?: boolean;
}

/** A TURN server as the server names it in offerData (integratedTurnServers). */
export interface OfferedTurnServer {
  serverAddr: string;
  serverPort: number;
  transport: 'udp' | 'tcp';
  username: string;
  password: string;
}

type MediaEvent = { type: string; data?: any };

/**
 * A peer like the SDK's in a browser: BUNDLE, opus + VP8, browser-like header extension ids. The server answers with
 * the offer's ids and the worker writes each receiver's own ids into forwarded packets.
 */
export function loadPeerConnection(): RTCPeerConnection {
  return new RTCPeerConnection({
    bundlePolicy: 'max-bundle',
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, rtcpFeedback: [useTWCC()], parameters: 'minptime=10;useinbandfec=1' })],
      video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96, rtcpFeedback: [useTWCC(), useNACK(), usePLI()] })],
    },
    headerExtensions: {
      audio: [useAudioLevelIndication(), useAbsSendTime(), useTransportWideCC(), useSdesMid()],
      video: [useAbsSendTime(), useTransportWideCC(), useSdesMid()],
    },
    // incoming SRTP is dropped before decryption (kept with probability 1e-11); the counter reads it first
    debug: { inboundPacketLoss: 1e-9 },
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class LoadPeer {
  readonly counter = new RtpStreamCounter();
  readonly pc = loadPeerConnection();
  /** ms from `started` (set by the caller) to ICE+DTLS connected / to the first packet of every announced stream */
  connectedAt: number | undefined;
  private readonly pumps: Pump[] = [];
  private readonly ownMids = new Map<string, string>(); // mid -> trackId, once the first offer assigned mids
  private readonly ownTracks: { trackId: string; transceiver: ReturnType<RTCPeerConnection['addTransceiver']> }[] = [];
  private readonly pendingTracks: { trackId: string; track: MediaStreamTrack }[] = [];
  private ws: WebSocket | undefined;
  private negotiation: Promise<void> = Promise.resolve();
  private answered: (() => void) | undefined;
  private counting = false;
  private closed = false;
  /** the TURN servers of the first offerData (relay peers use them) */
  turnServers: OfferedTurnServer[] | undefined;
  /** the last error of a negotiation (the peer goes on; the report shows it) */
  error: string | undefined;
  negotiations = 0;

  constructor(private readonly options: LoadPeerOptions) {}

  get timeoutMs(): number {
    return this.options.timeoutMs ?? 20_000;
  }

  /** Joins and, for a publisher, publishes and starts sending. Resolves once ICE and DTLS are connected. */
  async join(): Promise<void> {
    const ws = new WebSocket(this.options.socketUrl);
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('error', () => undefined);
    const events: MediaEvent[] = [];
    const waiters: { match: (e: MediaEvent) => boolean; resolve: (e: MediaEvent) => void }[] = [];
    let authenticated: () => void = () => undefined;
    const isAuthenticated = new Promise<void>((resolve) => (authenticated = resolve));
    const closedEarly = new Promise<never>((_, reject) =>
      ws.on('close', (code, reason) => {
        if (!this.closed) reject(new Error(`peer socket closed: ${code} ${reason.toString()}`));
      }),
    );
    closedEarly.catch(() => undefined);
    ws.on('message', (data: Buffer) => {
      const decoded = decodePeerMessage(data);
      if (!decoded.ok) return;
      const m = decoded.value;
      if ('authenticated' in m) return authenticated();
      if (!('mediaEvent' in m)) return;
      let event = JSON.parse(m.mediaEvent.data) as MediaEvent;
      if (event.type === 'custom') event = event.data as MediaEvent;
      this.onMediaEvent(event);
      events.push(event);
      for (const w of [...waiters]) {
        if (w.match(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    });
    const next = (type: string): Promise<MediaEvent> =>
      withTimeout(
        Promise.race([
          new Promise<MediaEvent>((resolve) => {
            const seen = events.find((e) => e.type === type);
            if (seen) return resolve(seen);
            waiters.push({ match: (e) => e.type === type, resolve });
          }),
          closedEarly,
        ]),
        this.timeoutMs,
        `media event ${type}`,
      );
    await withTimeout(
      Promise.race([new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject))), closedEarly]),
      this.timeoutMs,
      `the peer socket ${this.options.socketUrl} to open`,
    );
    const firstAnswer = new Promise<void>((resolve) => (this.answered = resolve));
    this.send({ authRequest: { token: this.options.token } });
    await withTimeout(Promise.race([isAuthenticated, closedEarly]), this.timeoutMs, 'authenticated');
    this.sendMediaEvent({ type: 'connect', data: { metadata: { name: this.options.label, loadTest: true } } });
    await next('connected');

    const { video, audio } = this.options.publish;
    if (video) {
      const track = new MediaStreamTrack({ kind: 'video' });
      this.pendingTracks.push({ trackId: `${this.options.label}-video`, track });
      this.pumps.push(vp8Pump(track, video));
    }
    if (audio) {
      const track = new MediaStreamTrack({ kind: 'audio' });
      this.pendingTracks.push({ trackId: `${this.options.label}-audio`, track });
      this.pumps.push(opusPump(track));
    }
    // A relay peer adds its tracks at the first offerData, as the SDK does: the transport (and its ICE agent) is made
    // with the first transceiver and must already know the TURN servers that offerData names.
    if (!this.options.relay) this.addPendingTracks();
    const publishing = this.pendingTracks.length + this.ownTracks.length > 0;
    // A publisher asks for a negotiation; a subscriber in a room with tracks gets offerData without asking.
    if (publishing) this.sendMediaEvent({ type: 'custom', data: { type: 'renegotiateTracks' } });
    if (publishing || events.some((e) => e.type === 'offerData') || (await this.roomHasTracks(events))) {
      await withTimeout(Promise.race([firstAnswer, closedEarly]), this.timeoutMs, 'the first sdpAnswer');
      await this.connected();
    }
    for (const p of this.pumps) p.start();
  }

  /** connected carries the other endpoints and their tracks: a subscriber waits for an offer only when there are some. */
  private async roomHasTracks(events: MediaEvent[]): Promise<boolean> {
    const connected = events.find((e) => e.type === 'connected');
    const others = (connected?.data?.otherEndpoints ?? []) as { tracks?: Record<string, unknown> }[];
    return others.some((o) => Object.keys(o.tracks ?? {}).length > 0);
  }

  private async connected(): Promise<void> {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        if (this.pc.connectionState === 'connected') return resolve();
        this.pc.connectionStateChange.subscribe((state) => {
          if (state === 'connected') resolve();
          if (state === 'failed') reject(new Error('ICE/DTLS failed'));
        });
      }),
      this.timeoutMs,
      'ICE and DTLS to connect',
    );
    this.connectedAt ??= Date.now();
    if (!this.counting) {
      this.counting = true;
      const ice = this.pc.iceTransports[0];
      // A receive buffer of 1 MiB instead of the default ~200 KiB: a load process descheduled for a moment on a busy
      // machine loses fewer packets at its own sockets (capped by net.core.rmem_max).
      for (const protocol of (ice?.connection as unknown as { protocols?: { transport?: { socket?: { setRecvBufferSize?(n: number): void } } }[] })?.protocols ?? []) {
        try {
          protocol.transport?.socket?.setRecvBufferSize?.(1 << 20);
        } catch {
          // not a UDP socket, or the platform refuses: the default buffer stays
        }
      }
      ice?.connection.onData.subscribe((data) => {
        this.counter.feed(data);
        if (this.pumps.length > 0 && isKeyFrameRequest(data)) for (const p of this.pumps) p.keyFrame();
      });
    }
  }

  private onMediaEvent(event: MediaEvent): void {
    if (event.type === 'offerData') {
      const tracksTypes = (event.data?.tracksTypes ?? {}) as { audio?: number; video?: number };
      if (this.turnServers === undefined) {
        this.turnServers = (event.data?.integratedTurnServers ?? []) as OfferedTurnServer[];
        // Before the first offer, which gathers the candidates.
        if (this.options.relay) this.useRelay(this.turnServers);
      }
      this.negotiation = this.negotiation.then(() => this.offer(tracksTypes)).catch((error: Error) => void (this.error = error.message));
    } else if (event.type === 'sdpAnswer') {
      const sdp = event.data?.sdp as string;
      this.negotiation = this.negotiation
        .then(async () => {
          await this.pc.setRemoteDescription({ type: 'answer', sdp });
          for (const { ssrc, kind } of ssrcsOf(sdp)) if (!this.ownSsrc(ssrc)) this.counter.expect(ssrc, kind);
          this.answered?.();
          this.answered = undefined;
        })
        .catch((error: Error) => void (this.error = error.message));
    } else if (event.type === 'error') {
      this.error = String(event.data?.message ?? 'error');
    }
  }

  private addPendingTracks(): void {
    for (const { trackId, track } of this.pendingTracks.splice(0)) {
      this.ownTracks.push({ trackId, transceiver: this.pc.addTransceiver(track, { direction: 'sendonly' }) });
    }
  }

  private useRelay(servers: OfferedTurnServer[]): void {
    const udp = servers.filter((s) => s.transport === 'udp');
    this.pc.setConfiguration({
      ...this.pc.config,
      iceTransportPolicy: 'relay',
      iceServers: udp.map((s) => ({ urls: `turn:${s.serverAddr}:${s.serverPort}?transport=udp`, username: s.username, credential: s.password })),
    });
  }

  /** The local and remote candidates of the selected ICE pair (a relay peer's local one is its TURN relay). */
  selectedPair(): { local: { type: string; host: string; port: number }; remote: { type: string; host: string; port: number } } | undefined {
    const pair = (this.pc.iceTransports[0]?.connection as unknown as { nominated?: { localCandidate: any; remoteCandidate: any } })?.nominated;
    if (!pair) return undefined;
    const c = (x: any) => ({ type: String(x.type), host: String(x.host), port: Number(x.port) });
    return { local: c(pair.localCandidate), remote: c(pair.remoteCandidate) };
  }

  private ownSsrc(ssrc: number): boolean {
    return this.ownTracks.some((t) => t.transceiver.sender.ssrc === ssrc);
  }

  /** Enough recvonly transceivers for the tracks the server has for us, then our offer. */
  private async offer(tracksTypes: { audio?: number; video?: number }): Promise<void> {
    if (this.closed) return;
    this.addPendingTracks();
    for (const kind of ['audio', 'video'] as const) {
      const have = this.pc.getTransceivers().filter((t) => t.kind === kind && t.direction === 'recvonly').length;
      for (let i = have; i < (tracksTypes[kind] ?? 0); i++) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    }
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const midToTrackId: Record<string, string> = {};
    const metadata: Record<string, unknown> = {};
    const bitrates: Record<string, number> = {};
    for (const t of this.ownTracks) {
      if (t.transceiver.mid !== null) midToTrackId[t.transceiver.mid] = t.trackId;
      metadata[t.trackId] = { source: 'load-test' };
      bitrates[t.trackId] = t.transceiver.kind === 'video' ? 1_500_000 : 50_000;
    }
    this.negotiations++;
    this.sendMediaEvent({
      type: 'custom',
      data: {
        type: 'sdpOffer',
        data: { sdpOffer: { type: 'offer', sdp: this.pc.localDescription!.sdp }, trackIdToTrackMetadata: metadata, trackIdToTrackBitrates: bitrates, midToTrackId },
      },
    });
  }

  /** Resolves when every stream the server announced has delivered a packet (time of the last first packet). */
  async firstPackets(deadlineMs: number): Promise<number | undefined> {
    const deadline = Date.now() + deadlineMs;
    while (Date.now() < deadline && !this.closed) {
      const at = this.counter.allStartedAt();
      if (at !== undefined) return at;
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  get sentPackets(): number {
    return this.pumps.reduce((n, p) => n + p.sent, 0);
  }

  /** Publishers send from the end of join(); benchmarks pause and resume them. */
  startSending(): void {
    for (const p of this.pumps) p.start();
  }

  stopSending(): void {
    for (const p of this.pumps) p.stop();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopSending();
    await withTimeout(this.pc.close(), 3000, 'close').catch(() => undefined);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, 'load test done');
    else this.ws?.terminate();
  }

  private send(message: Parameters<typeof encodePeerMessage>[0]): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodePeerMessage(message));
  }

  private sendMediaEvent(event: unknown): void {
    this.send({ mediaEvent: { data: JSON.stringify(event) } });
  }
}
