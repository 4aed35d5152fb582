// When to lend a receiver's transport a bitrate floor, so a simulcast subscriber whose link recovered climbs back to
// the layer it wants. Pure: time and measurements come in, the floor to apply comes out (downlink-prober.ts drives it).
//
// Why: mediasoup raises a subscriber's spatial layer only when its send-side estimate (libwebrtc's GCC) covers the
// layer, and the estimate regrows only from probes and from what flows. With Chromium as the receiver, mediasoup's
// probe clusters come out measured below the link (see README, "Downlink adaptation"), and what flows is the lower
// layer, so after a congestion episode the estimate can stay under the top layer for a minute on an open link.
//
// The floor is a trial with real media: the transport's minimum outgoing bitrate is set one step up (a multiple of the
// estimate, at most what its consumers want), mediasoup switches them up, and the receiver's feedback says within a
// second or two whether the link carries it. The floor is GCC's min_data_rate: while it is on, GCC cannot go below it
// for delay, so the floor's own checks must: transport-cc loss above failLoss, or the round trip rising rttRiseMs
// above what it was when the trial began, end it at once (GCC then restarts from the floor and takes the layers
// down). A step that raised the consumers without either is kept, the next step follows at once, and a kept floor is
// released after keptMs (GCC restarts from it, now backed by the traffic it let through). A failed trial costs the
// receiver a second of a layer its link cannot carry (and its publisher a keyframe), so failures back off
// exponentially, and only a kept floor released clean resets the backoff.

export interface DownlinkFloorOptions {
  /** how long a shortfall must last before a first trial (ms): a passing dip is GCC's own business */
  readonly settleMs: number;
  /** how long a trial waits for the consumers to rise (ms) */
  readonly trialMs: number;
  /** how long a trial's floor is watched once the consumers rose, before it is kept (ms) */
  readonly holdMs: number;
  /** a kept floor is released after this long (ms) */
  readonly keptMs: number;
  /** transport-cc loss (0-1) above which a floor fails */
  readonly failLoss: number;
  /** loss above which no trial starts (the link is already lossy: more traffic makes it worse) */
  readonly quietLoss: number;
  /** a round trip this much above the trial's first one (ms) fails the floor: a queue is building */
  readonly rttRiseMs: number;
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
  keptMs: 10_000,
  failLoss: 0.1,
  quietLoss: 0.03,
  rttRiseMs: 150,
  // mediasoup keeps a subscriber off higher spatial layers for 10 s after a bandwidth downgrade (and a failed trial
  // ends in one), so a shorter first wait would only produce trials that cannot switch anything.
  baseBackoffMs: 10_000,
  maxBackoffMs: 120_000,
  shortfallMargin: 0.05,
  stepFactor: 2.5,
  temporalStepFactor: 1.5,
};

/** mediasoup refuses a minimum outgoing bitrate below this (other than 0, none) */
export const WORKER_MIN_BITRATE = 30_000;

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
  /** during a trial: a consumer that was there when it began is on a higher layer now */
  readonly rose?: boolean;
  /** transport-cc loss (0-1), when measured for this sample */
  readonly loss?: number;
  /** round trip to the receiver (ms), when measured for this sample */
  readonly rttMs?: number;
}

/** the estimate a step starts from is at least this (bps): from a collapsed estimate, one step still reaches a layer */
const MIN_STEP_BASE = 100_000;

type State =
  | { readonly kind: 'idle'; readonly shortSince: number | undefined }
  | { readonly kind: 'trial'; readonly since: number; readonly floor: number; readonly previous: number }
  | { readonly kind: 'hold'; readonly until: number; readonly floor: number };

export type FloorEvent = 'trial' | 'failed' | 'no-gain' | 'cancelled' | 'succeeded' | 'lowered' | 'released' | 'reset';

export class DownlinkFloor {
  private state: State = { kind: 'idle', shortSince: undefined };
  /** the floor kept between trials: each success raises it, loss or delay drops it, keptMs releases it */
  private kept = 0;
  private keptSince = 0;
  /** the round trip when the floor went on (the first one measured since) */
  private baseRtt: number | undefined;
  private failures = 0;
  /** trials in a row that raised nothing */
  private noGains = 0;
  private notBefore = 0;
  /** what happened on the last sample that changed the floor (for logs and tests) */
  lastEvent: FloorEvent | undefined;

  constructor(private readonly options: DownlinkFloorOptions = DOWNLINK_FLOOR_DEFAULTS) {}

  /** The floor in force now (bps; 0 = none). */
  get floor(): number {
    return this.state.kind === 'idle' ? this.kept : this.state.floor;
  }

  /** A trial is on: the caller reports `rose` for the consumers it had when the trial began. */
  get trialOn(): boolean {
    return this.state.kind === 'trial';
  }

  /** Whether the next sample should carry loss and round-trip figures (they cost the caller stats requests). */
  get wantsMeasurements(): boolean {
    return this.floor > 0 || this.state.kind !== 'idle' || this.state.shortSince !== undefined;
  }

  /** Whether a sample with these figures could be (part of) a shortfall: the caller measures only then. */
  isShortfall(available: number, desired: number, belowTarget: boolean): boolean {
    return belowTarget && desired > Math.max(available, this.kept) * (1 + this.options.shortfallMargin);
  }

  /** The path changed (ICE restart, another candidate pair): what was learnt about the old one does not hold. */
  reset(): number | undefined {
    const had = this.floor;
    this.kept = 0;
    this.baseRtt = undefined;
    this.state = { kind: 'idle', shortSince: undefined };
    return had > 0 ? this.changed('reset') : undefined;
  }

  /** Takes one sample; returns the floor when it changes (or a step is kept), undefined otherwise. */
  onSample(s: DownlinkSample): number | undefined {
    const o = this.options;
    if (this.floor > 0) {
      // GCC cannot lower the rate below a floor: loss and a growing queue are for the floor to notice.
      if (s.loss !== undefined && s.loss > o.failLoss) return this.backOff(s.now, 'failed');
      if (s.rttMs !== undefined) {
        if (this.baseRtt === undefined) this.baseRtt = s.rttMs;
        else if (s.rttMs > this.baseRtt + o.rttRiseMs) return this.backOff(s.now, 'failed');
      }
    }
    const state = this.state;
    switch (state.kind) {
      case 'idle':
        return this.idle(s, state.shortSince);
      case 'trial': {
        if (s.rose) {
          this.state = { kind: 'hold', until: s.now + o.holdMs, floor: state.floor };
          return undefined;
        }
        // The need went away without the floor's doing (a lower wish, a paused track, a layer the publisher stopped
        // sending): back to the floor before the trial, nothing learnt either way.
        if (!s.belowTarget) return this.revert(state.previous, 'cancelled');
        // Nothing switched (mediasoup's post-downgrade wait, a temporal layer the encoder does not make): not the
        // link's fault, but no reason to keep the higher floor either.
        // The first such trial is retried soon with the larger step (a small frame-rate step may simply have been too
        // small for the next temporal layer); repeated ones wait like failures, without counting as the link's.
        if (s.now - state.since >= o.trialMs) {
          this.noGains = Math.min(this.noGains + 1, 16);
          this.notBefore = s.now + (this.noGains === 1 ? o.settleMs : Math.min(o.maxBackoffMs, o.baseBackoffMs * 2 ** (this.noGains - 2)));
          return this.revert(state.previous, 'no-gain');
        }
        return undefined;
      }
      case 'hold': {
        if (s.now < state.until) return undefined;
        this.kept = state.floor;
        this.keptSince = s.now;
        this.noGains = 0;
        this.state = { kind: 'idle', shortSince: undefined };
        return this.changed('succeeded');
      }
    }
  }

  private idle(s: DownlinkSample, shortSince: number | undefined): number | undefined {
    const o = this.options;
    if (this.kept > 0) {
      if (s.now - this.keptSince >= o.keptMs) {
        // held clean for keptMs: the link carried it, so past failures no longer count
        this.failures = 0;
        this.notBefore = 0;
        return this.revert(0, 'released');
      }
      // what is wanted fell (a track gone, a lower wish): a floor above it would only blind GCC
      const wanted = Math.round(s.desired * (1 + o.shortfallMargin));
      if (wanted < this.kept) return this.revert(wanted >= WORKER_MIN_BITRATE ? wanted : 0, 'lowered');
    }
    if (!this.isShortfall(s.available, s.desired, s.belowTarget)) {
      this.state = { kind: 'idle', shortSince: undefined };
      return undefined;
    }
    const since = shortSince ?? s.now;
    this.state = { kind: 'idle', shortSince: since };
    const quiet = s.loss !== undefined && s.loss <= o.quietLoss;
    // the settle time is for a new shortfall; a climb on a kept floor goes on at once
    const settled = this.kept > 0 || s.now - since >= o.settleMs;
    if (!settled || s.now < this.notBefore || !quiet) return undefined;
    const base = Math.max(s.available, this.kept, MIN_STEP_BASE);
    const step = s.temporalOnly && this.noGains === 0 ? o.temporalStepFactor : o.stepFactor;
    const floor = Math.round(Math.min(s.desired * (1 + o.shortfallMargin), base * step));
    if (floor <= this.kept) return undefined;
    if (this.kept === 0) this.baseRtt = s.rttMs;
    this.state = { kind: 'trial', since: s.now, floor, previous: this.kept };
    return this.changed('trial');
  }

  private revert(floor: number, event: FloorEvent): number {
    this.kept = floor;
    if (floor === 0) this.baseRtt = undefined;
    this.state = { kind: 'idle', shortSince: undefined };
    return this.changed(event);
  }

  private backOff(now: number, event: FloorEvent): number {
    const o = this.options;
    const wait = Math.min(o.maxBackoffMs, o.baseBackoffMs * 2 ** this.failures);
    this.failures = Math.min(this.failures + 1, 16);
    this.notBefore = now + wait;
    return this.revert(0, event);
  }

  private changed(event: FloorEvent): number {
    this.lastEvent = event;
    return this.floor;
  }
}
