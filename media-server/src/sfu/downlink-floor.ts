// When to lend a receiver's transport a bitrate floor, so a simulcast subscriber whose link recovered climbs back to
// the layer it wants. Pure: time and measurements come in, the floor to apply comes out (downlink-prober.ts drives it).
//
// Why: mediasoup raises a subscriber's spatial layer only when its send-side estimate (libwebrtc's GCC) covers the
// layer, and the estimate regrows only from probes and from what flows. With Chromium as the receiver, mediasoup's
// probe clusters come out measured below the link (see README, "Downlink adaptation"), and what flows is the lower
// layer, so after a congestion episode the estimate can stay under the top layer for a minute on an open link.
// The floor is a trial with real media: the transport's minimum outgoing bitrate is set one step up (a multiple of the
// estimate, at most what its consumers want), mediasoup switches them up, and the receiver's transport-cc feedback
// says within a second or two whether the link carries it. Loss -> the floor goes at once and GCC (which never stopped measuring) takes the layers down again;
// no loss -> the floor is held a few seconds, while the estimate grows on the traffic that now flows, then released.
// A failed trial costs the receiver a second of a layer its link cannot carry, so trials back off exponentially.

export interface DownlinkFloorOptions {
  /** how long a shortfall must last before a trial (ms): a passing dip is GCC's own business */
  readonly settleMs: number;
  /** how long a trial waits for the consumers to reach their layers (ms) */
  readonly trialMs: number;
  /** how long a trial's floor is watched once the layers rose, before it becomes the kept floor (ms) */
  readonly holdMs: number;
  /** a kept floor is released after this long at the target without loss (ms) */
  readonly releaseAfterMs: number;
  /** transport-cc loss (0-1) above which a trial fails */
  readonly failLoss: number;
  /** loss above which no trial starts (the link is already lossy: more traffic makes it worse) */
  readonly quietLoss: number;
  /** wait after the first failure (ms); doubled per consecutive failure up to maxBackoffMs */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** a shortfall is `desired > available * (1 + shortfallMargin)` */
  readonly shortfallMargin: number;
  /**
   * a trial's floor is at most the estimate times this: one step up the layer ladder, not straight to the top, so a
   * link that carries the middle layer's full frame rate but not the top layer gets the former instead of failing
   */
  readonly stepFactor: number;
  /**
   * the step when every consumer is on the spatial layer it can get, only short of frame rate: a smaller one, so
   * mediasoup spends it on the current layer's frame rate rather than on the next layer's first temporal layer
   */
  readonly temporalStepFactor: number;
}

export const DOWNLINK_FLOOR_DEFAULTS: DownlinkFloorOptions = {
  settleMs: 2000,
  trialMs: 5000,
  holdMs: 2000,
  releaseAfterMs: 30_000,
  failLoss: 0.1,
  quietLoss: 0.03,
  // mediasoup keeps a subscriber off higher spatial layers for 10 s after a bandwidth downgrade (and a failed trial
  // ends in one), so a shorter first wait would only produce trials that cannot switch anything.
  baseBackoffMs: 10_000,
  maxBackoffMs: 40_000,
  shortfallMargin: 0.05,
  stepFactor: 2.5,
  temporalStepFactor: 1.5,
};

export interface DownlinkSample {
  readonly now: number;
  /** the transport's available outgoing bitrate (bps), as the estimate reports it (the floor included) */
  readonly available: number;
  /** what its consumers would use at the layers they want (bps), mediasoup's figure */
  readonly desired: number;
  /** some video consumer is on a lower layer (spatial, or temporal within its layer) than it wants and can get */
  readonly belowTarget: boolean;
  /** the shortfall is of frame rate only (temporal layers within the spatial layer each consumer can get) */
  readonly temporalOnly?: boolean;
  /** how high the consumers are now (any measure that grows with each layer step up: a partial gain counts) */
  readonly level?: number;
  /** transport-cc loss (0-1), when measured for this sample */
  readonly loss?: number;
}

/** the estimate a step starts from is at least this (bps): from a collapsed estimate, one step still reaches a layer */
const MIN_STEP_BASE = 100_000;

type State =
  | { readonly kind: 'idle'; readonly shortSince: number | undefined; readonly healthySince: number | undefined }
  | { readonly kind: 'trial'; readonly since: number; readonly floor: number; readonly previous: number; readonly level: number | undefined }
  | { readonly kind: 'hold'; readonly until: number; readonly floor: number };

export type FloorEvent = 'trial' | 'failed' | 'no-gain' | 'succeeded' | 'released';

export class DownlinkFloor {
  private state: State = { kind: 'idle', shortSince: undefined, healthySince: undefined };
  /** the floor kept between trials: each success raises it, loss drops it, a long healthy spell releases it */
  private kept = 0;
  private failures = 0;
  private notBefore = 0;
  /** what happened on the last sample that changed the floor (for logs and tests) */
  lastEvent: FloorEvent | undefined;

  constructor(private readonly options: DownlinkFloorOptions = DOWNLINK_FLOOR_DEFAULTS) {}

  /** The floor in force now (bps; 0 = none). */
  get floor(): number {
    return this.state.kind === 'idle' ? this.kept : this.state.floor;
  }

  /** Whether the next sample should carry a loss figure (it costs the caller a stats request). */
  get wantsLoss(): boolean {
    return this.floor > 0 || this.state.kind !== 'idle' || this.state.shortSince !== undefined;
  }

  /** Takes one sample; returns the new floor when it changes, undefined when it stays. */
  onSample(s: DownlinkSample): number | undefined {
    const o = this.options;
    // Loss while a floor is in force: the link does not carry it. GCC, which never stopped measuring, takes over.
    if (this.floor > 0 && s.loss !== undefined && s.loss > o.failLoss) return this.backOff(s.now, 'failed');
    const state = this.state;
    switch (state.kind) {
      case 'idle':
        return this.idle(s, state.shortSince, state.healthySince);
      case 'trial': {
        // every consumer at its target, or some a step higher than when the trial began (a step is a gain: the next
        // trial may step again from there)
        const rose = s.level !== undefined && state.level !== undefined && s.level > state.level;
        if (!s.belowTarget || rose) {
          this.state = { kind: 'hold', until: s.now + o.holdMs, floor: state.floor };
          return undefined;
        }
        // Nothing switched (the publisher stopped sending the layer, mediasoup's post-downgrade wait): not the link's
        // fault, but no reason to keep the higher floor either.
        if (s.now - state.since >= o.trialMs) {
          this.kept = state.previous;
          this.notBefore = s.now + o.baseBackoffMs;
          this.state = { kind: 'idle', shortSince: undefined, healthySince: undefined };
          return this.changed('no-gain');
        }
        return undefined;
      }
      case 'hold': {
        if (s.now < state.until) return undefined;
        // Kept, not released: released at once, the estimate (which grows slowly on what flows) would take the
        // layers down again and the receiver would flap between trials.
        this.kept = state.floor;
        this.failures = 0;
        this.notBefore = 0;
        this.state = { kind: 'idle', shortSince: undefined, healthySince: undefined };
        return this.changed('succeeded');
      }
    }
  }

  private idle(s: DownlinkSample, shortSince: number | undefined, healthySince: number | undefined): number | undefined {
    const o = this.options;
    const base = Math.max(s.available, this.kept);
    const short = s.belowTarget && s.desired > base * (1 + o.shortfallMargin);
    if (!short) {
      // A kept floor is released after a long healthy spell at the target: by then the estimate has grown on the
      // traffic the floor let through, and a link that narrows later is GCC's to handle (with the loss check above).
      const since = this.kept > 0 && !s.belowTarget ? (healthySince ?? s.now) : undefined;
      if (since !== undefined && s.now - since >= o.releaseAfterMs) {
        this.kept = 0;
        this.state = { kind: 'idle', shortSince: undefined, healthySince: undefined };
        return this.changed('released');
      }
      this.state = { kind: 'idle', shortSince: undefined, healthySince: since };
      return undefined;
    }
    const since = shortSince ?? s.now;
    this.state = { kind: 'idle', shortSince: since, healthySince: undefined };
    const quiet = s.loss !== undefined && s.loss <= o.quietLoss;
    // the settle time is for a new shortfall; a climb on a kept floor goes on at once
    const settled = this.kept > 0 || s.now - since >= o.settleMs;
    if (!settled || s.now < this.notBefore || !quiet) return undefined;
    const step = s.temporalOnly ? o.temporalStepFactor : o.stepFactor;
    const floor = Math.round(Math.min(s.desired * (1 + o.shortfallMargin), Math.max(base, MIN_STEP_BASE) * step));
    if (floor <= this.kept) return undefined;
    this.state = { kind: 'trial', since: s.now, floor, previous: this.kept, level: s.level };
    return this.changed('trial');
  }

  private backOff(now: number, event: FloorEvent): number {
    const o = this.options;
    const wait = Math.min(o.maxBackoffMs, o.baseBackoffMs * 2 ** this.failures);
    this.failures = Math.min(this.failures + 1, 16);
    this.notBefore = now + wait;
    this.kept = 0;
    this.state = { kind: 'idle', shortSince: undefined, healthySince: undefined };
    return this.changed(event);
  }

  private changed(event: FloorEvent): number {
    this.lastEvent = event;
    return this.floor;
  }
}
