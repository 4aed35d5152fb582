// Drives DownlinkFloor (downlink-floor.ts) for one receiving WebRtcTransport: its samples come from the transport's
// `bwe` trace (mediasoup emits one about every second while transport-cc runs, so idle receivers cost nothing extra),
// loss and round trip from stats requests made only while a shortfall or a floor is on, and the floor goes to the
// worker as the transport's minimum outgoing bitrate. One sample at a time: a trace that arrives while the previous
// sample still awaits the worker is dropped, so a slow worker never builds a queue here.
//
// Not steered: transports on ICE-TCP (TCP hides loss, and the worker's write queue would take the excess instead of
// the network) and transports whose estimate is not transport-cc (REMB: no loss figure to end a trial with).
import type { types } from 'mediasoup';
import { DownlinkFloor, DOWNLINK_FLOOR_DEFAULTS, WORKER_MIN_BITRATE, type DownlinkFloorOptions } from './downlink-floor.js';

/** a floor is never above this, whatever mediasoup's desired figure says (bps) */
const MAX_FLOOR = 20_000_000;

export interface BweTrace {
  readonly bweType?: string;
  readonly availableBitrate?: number;
  readonly desiredBitrate?: number;
}

export interface FloorChange {
  readonly event: string;
  readonly floor: number;
  readonly available: number;
  readonly desired: number;
  readonly loss: number | undefined;
  readonly rttMs: number | undefined;
  /** the new path, when a path change reset the floor */
  readonly path?: string;
}

interface LayerMemory {
  spatial: number;
  preferred: number;
  downAt: number;
  /** the highest temporal layer this consumer was ever sent: what the publisher's encoder makes */
  maxTemporal: number;
}

export class DownlinkProber {
  private readonly policy: DownlinkFloor;
  private sampling = false;
  private closed = false;
  private readonly layers = new WeakMap<types.Consumer, LayerMemory>();
  /** the consumers and their layers when the current trial began (a gain counts only for them) */
  private trialStart: Array<[types.Consumer, number]> = [];

  constructor(
    private readonly transport: types.WebRtcTransport,
    private readonly consumers: () => Iterable<types.Consumer>,
    private readonly onChange: (change: FloorChange) => void = () => undefined,
    options: DownlinkFloorOptions = DOWNLINK_FLOOR_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {
    this.policy = new DownlinkFloor(options);
    transport.observer.once('close', () => {
      this.closed = true;
    });
    // Another path (an ICE restart, a new candidate pair): what the floor learnt was about the old one.
    transport.observer.on('iceselectedtuplechange', (tuple) => {
      if (this.policy.reset() !== undefined) void this.apply(0, 0, 0, undefined, undefined, `${tuple.protocol} ${tuple.remoteIp ?? ''}:${tuple.remotePort ?? ''}`);
    });
  }

  /** The floor in force now (bps; 0 = none). */
  get floor(): number {
    return this.policy.floor;
  }

  /** Feed every `bwe` trace of the transport here. */
  onBwe(info: BweTrace): void {
    if (this.sampling || this.closed || this.transport.closed) return;
    const available = info.availableBitrate;
    const desired = info.desiredBitrate;
    if (typeof available !== 'number' || typeof desired !== 'number' || !Number.isFinite(available) || !Number.isFinite(desired)) return;
    const steerable = info.bweType === 'transport-cc' && this.transport.iceSelectedTuple?.protocol !== 'tcp';
    if (!steerable) {
      if (this.policy.reset() !== undefined) void this.apply(0, available, desired, undefined, undefined);
      return;
    }
    this.sampling = true;
    void this.sample(available, desired).finally(() => {
      this.sampling = false;
    });
  }

  private async sample(available: number, desired: number): Promise<void> {
    const now = this.now();
    const consumers = [...this.consumers()];
    // every consumer is looked at (no short-circuit), so each one's layer memory stays current
    const shortfalls = consumers.map((c) => shortfallOf(c, now, this.layers));
    const belowTarget = shortfalls.some((k) => k !== undefined);
    const temporalOnly = belowTarget && !shortfalls.includes('spatial');
    let loss: number | undefined;
    let rttMs: number | undefined;
    if (this.policy.wantsMeasurements || this.policy.isShortfall(available, desired, belowTarget)) {
      const probe = consumers.find((c) => !c.closed && c.kind === 'video' && c.type === 'simulcast');
      const [transportStats, consumerStats] = await Promise.all([
        this.transport.getStats().catch(() => [] as types.WebRtcTransportStat[]),
        probe ? probe.getStats().catch(() => [] as types.ConsumerStat[]) : Promise.resolve([] as types.ConsumerStat[]),
      ]);
      // the transport may have closed while the worker answered: nothing to steer any more
      if (this.closed || this.transport.closed) return;
      loss = transportStats[0]?.rtpPacketLossSent;
      const rtt = consumerStats.find((s) => s.type === 'outbound-rtp')?.roundTripTime;
      rttMs = typeof rtt === 'number' && rtt > 0 ? rtt : undefined;
    }
    const rose = this.policy.trialOn && this.trialStart.some(([c, level]) => !c.closed && layerLevel(c) > level);
    const floor = this.policy.onSample({ now, available, desired, belowTarget, temporalOnly, rose, loss, rttMs });
    if (floor === undefined) return;
    if (this.policy.trialOn) this.trialStart = consumers.map((c) => [c, layerLevel(c)]);
    else this.trialStart = [];
    await this.apply(floor, available, desired, loss, rttMs);
  }

  private async apply(floor: number, available: number, desired: number, loss: number | undefined, rttMs: number | undefined, path?: string): Promise<void> {
    const bitrate = floor === 0 ? 0 : Math.min(MAX_FLOOR, Math.max(WORKER_MIN_BITRATE, floor));
    await this.transport.setMinOutgoingBitrate(bitrate).catch(() => undefined);
    if (this.closed || this.transport.closed) return;
    this.onChange({ event: this.policy.lastEvent ?? 'unknown', floor: bitrate, available, desired, loss, rttMs, ...(path ? { path } : {}) });
  }
}

/**
 * mediasoup keeps a simulcast consumer off spatial layers above the one it was moved down to for 10 s after a
 * bandwidth downgrade (SimulcastProducerStreamManager's BweDowngradeConservativeMs); a trial meanwhile could only
 * raise its temporal layer.
 */
const SPATIAL_UPGRADE_WAIT_MS = 10_500;

/**
 * Whether a sending video simulcast consumer is on a lower layer than it wants and its producer sends: a lower spatial
 * layer (unless mediasoup would refuse the step up now), or the right spatial layer at a lower temporal layer than it
 * was ever sent (the middle layer at a quarter of its frame rate, say; an encoder that makes one temporal layer, as
 * H264 here, never counts as short of frame rate). `memory` keeps each consumer's layers between samples.
 */
export function shortfallOf(consumer: types.Consumer, now: number, memory: WeakMap<types.Consumer, LayerMemory>): 'spatial' | 'temporal' | undefined {
  if (consumer.closed || consumer.kind !== 'video' || consumer.type !== 'simulcast') return undefined;
  if (consumer.paused || consumer.producerPaused) return undefined;
  const preferred = consumer.preferredLayers;
  if (!preferred) return undefined;
  const producerScores = consumer.score?.producerScores ?? [];
  let target = -1;
  for (let layer = 0; layer <= preferred.spatialLayer && layer < producerScores.length; layer++) {
    if ((producerScores[layer] ?? 0) > 0) target = layer;
  }
  const spatial = consumer.currentLayers?.spatialLayer ?? -1;
  const temporal = consumer.currentLayers?.temporalLayer ?? -1;
  const seen = memory.get(consumer);
  const downAt = seen && spatial < seen.spatial && seen.preferred === preferred.spatialLayer ? now : (seen?.downAt ?? 0);
  const maxTemporal = Math.max(seen?.maxTemporal ?? 0, temporal);
  memory.set(consumer, { spatial, preferred: preferred.spatialLayer, downAt, maxTemporal });
  // within mediasoup's wait, the layer it may still raise is the temporal one of the current spatial layer
  const reachable = spatial >= 0 && spatial < target && now - downAt < SPATIAL_UPGRADE_WAIT_MS ? spatial : target;
  if (spatial < reachable) return 'spatial';
  const temporalTarget = Math.min(preferred.temporalLayer ?? 0, maxTemporal);
  return spatial >= 0 && spatial === reachable && temporal < temporalTarget ? 'temporal' : undefined;
}

/** A consumer's layers as one number that grows with every step up (spatial first, then temporal). */
function layerLevel(consumer: types.Consumer): number {
  if (consumer.closed || consumer.kind !== 'video') return 0;
  const layers = consumer.currentLayers;
  return layers ? (layers.spatialLayer + 1) * 16 + (layers.temporalLayer ?? 0) : 0;
}
