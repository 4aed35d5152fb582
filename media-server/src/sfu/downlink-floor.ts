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
  /** how long the floor stays once the layers are reached without loss (ms) */
  readonly holdMs: number;
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
}

export const DOWNLINK_FLOOR_DEFAULTS: DownlinkFloorOptions = {
  settleMs: 2000,
  trialMs: 5000,
  holdMs: 3000,
  failLoss: 0.1,
  quietLoss: 0.03,
  // mediasoup keeps a subscriber off higher spatial layers for 10 s after a bandwidth downgrade (and a failed trial
  // ends in one), so a shorter first wait would only produce trials that cannot switch anything.
  baseBackoffMs: 10_000,
  maxBackoffMs: 40_000,
  shortfallMargin: 0.05,
  stepFactor: 2.5,
};

export interface DownlinkSample {
  readonly now: number;
  /** the transport's available outgoing bitrate (bps), as the estimate reports it (the floor included) */
  readonly available: number;
  /** what its consumers would use at the layers they want (bps), mediasoup's figure */
  readonly desired: number;
  /** some video consumer is on a lower layer (spatial, or temporal within its layer) than it wants and can get */
  readonly belowTarget: boolean;
  /** transport-cc loss (0-1), when measured for this sample */
  readonly loss?: number;
}

/** the estimate a step starts from is at least this (bps): from a collapsed estimate, one step still reaches a layer */
const MIN_STEP_BASE = 100_000;

type State =
  | { readonly kind: 'idle'; readonly shortSince: number | undefined }
  | { readonly kind: 'trial'; readonly since: number; readonly floor: number }
  | { readonly kind: 'hold'; readonly until: number; readonly floor: number };

export type FloorEvent = 'trial' | 'failed' | 'no-gain' | 'succeeded';

export class DownlinkFloor {
  private state: State = { kind: 'idle', shortSince: undefined };
  private failures = 0;
  private notBefore = 0;
  /** what happened on the last sample that changed the floor (for logs and tests) */
  lastEvent: FloorEvent | undefined;

  constructor(private readonly options: DownlinkFloorOptions = DOWNLINK_FLOOR_DEFAULTS) {}

  /** The floor now in force (bps; 0 = none). */
  get floor(): number {
    return this.state.kind === 'idle' ? 0 : this.state.floor;
  }

  /** Whether the next sample should carry a loss figure (it costs the caller a stats request). */
  get wantsLoss(): boolean {
    return this.state.kind !== 'idle' || this.state.shortSince !== undefined;
  }

  /** Takes one sample; returns the new floor when it changes, undefined when it stays. */
  onSample(s: DownlinkSample): number | undefined {
    const o = this.options;
    const state = this.state;
    switch (state.kind) {
      case 'idle': {
        const short = s.belowTarget && s.desired > s.available * (1 + o.shortfallMargin);
        if (!short) {
          this.state = { kind: 'idle', shortSince: undefined };
          return undefined;
        }
        const shortSince = state.shortSince ?? s.now;
        this.state = { kind: 'idle', shortSince };
        const quiet = s.loss !== undefined && s.loss <= o.quietLoss;
        if (s.now - shortSince < o.settleMs || s.now < this.notBefore || !quiet) return undefined;
        const floor = Math.min(s.desired * (1 + o.shortfallMargin), Math.max(s.available, MIN_STEP_BASE) * o.stepFactor);
        this.state = { kind: 'trial', since: s.now, floor: Math.round(floor) };
        return this.changed('trial');
      }
      case 'trial': {
        if (s.loss !== undefined && s.loss > o.failLoss) return this.backOff(s.now, 'failed');
        if (!s.belowTarget) {
          this.state = { kind: 'hold', until: s.now + o.holdMs, floor: state.floor };
          return undefined;
        }
        // Nothing switched (the publisher stopped sending the layer, mediasoup's post-downgrade wait): not the link's
        // fault, but no reason to keep the floor either.
        if (s.now - state.since >= o.trialMs) return this.backOff(s.now, 'no-gain');
        return undefined;
      }
      case 'hold': {
        if (s.loss !== undefined && s.loss > o.failLoss) return this.backOff(s.now, 'failed');
        if (s.now < state.until) return undefined;
        this.failures = 0;
        this.notBefore = 0;
        this.state = { kind: 'idle', shortSince: undefined };
        return this.changed('succeeded');
      }
    }
  }

  private backOff(now: number, event: FloorEvent): number {
    const o = this.options;
    const wait = Math.min(o.maxBackoffMs, o.baseBackoffMs * 2 ** this.failures);
    if (event === 'failed') this.failures = Math.min(this.failures + 1, 16);
    this.notBefore = now + wait;
    this.state = { kind: 'idle', shortSince: undefined };
    return this.changed(event);
  }

  private changed(event: FloorEvent): number {
    this.lastEvent = event;
    return this.floor;
  }
}
