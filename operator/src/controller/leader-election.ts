// Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews every retry period;
// another candidate takes over once it has seen the same lease record unchanged for a whole lease duration
// (judged by its own clock, not the holder's). Updates carry resourceVersion, so two takers cannot both win.
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage } from './api-errors.js';
import { withDeadline } from './deadline.js';
import type { KubeApi } from './kube-api.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  /** A leader that could not renew for this long steps down; every renewal attempt must end within it. */
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

export interface LeaseRecord {
  holder: string | undefined;
  renewTime: string | undefined;
  transitions: number;
}

/** Pure: may `identity` take the lease, given what it observed and for how long it has seen it unchanged? */
export function canAcquire(record: LeaseRecord | undefined, identity: string, unchangedForMs: number, leaseDurationMs: number): boolean {
  if (!record || !record.holder || record.holder === identity) return true;
  return unchangedForMs >= leaseDurationMs;
}

/** Read-back times are plain Dates; the API server wants MicroTime (6 fractional digits) when they go back. */
function withMicroTimes(spec: NonNullable<V1Lease['spec']>): NonNullable<V1Lease['spec']> {
  return {
    ...spec,
    ...(spec.acquireTime ? { acquireTime: new V1MicroTime(spec.acquireTime) } : {}),
    ...(spec.renewTime ? { renewTime: new V1MicroTime(spec.renewTime) } : {}),
  };
}

/** A release is a courtesy (the lease expires anyway): never wait long for it. */
const RELEASE_DEADLINE_MS = 2_000;

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private observed: { key: string; since: number } | undefined;
  private lastRenew = 0;
  /** the acquire/renew call in flight, if any: a release must not race it (it would renew after we let go) */
  private inflight: Promise<boolean> | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly opts: LeaderElectionOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so a successor need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inflight?.catch(() => false);
    if (this.leading) {
      this.leading = false;
      try {
        // Bounded too: a stopping process must not hang on an API server that does not answer.
        await withDeadline(this.release(), Math.min(this.opts.renewDeadlineMs, RELEASE_DEADLINE_MS), 'lease release');
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'could not release the lease');
      }
      this.opts.onStoppedLeading();
    }
  }

  private async release(): Promise<void> {
    const lease = await this.api.readLease(this.opts.namespace, this.opts.name);
    if (lease?.spec?.holderIdentity === this.opts.identity) {
      const spec = { ...withMicroTimes(lease.spec), holderIdentity: undefined, leaseDurationSeconds: 1 };
      await this.api.replaceLease(this.opts.namespace, this.opts.name, { ...lease, spec });
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      // The whole attempt (read + update) ends inside the renew deadline, as client-go's context does: a hung call
      // must not keep a leader acting past the point where another candidate may take over.
      const budget = this.leading ? this.lastRenew + this.opts.renewDeadlineMs - this.now() : this.opts.renewDeadlineMs;
      this.inflight = withDeadline(this.tryAcquireOrRenew(), Math.max(0, budget), 'lease renewal');
      ok = await this.inflight;
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'lease update failed');
    }
    if (this.stopped) return;
    if (ok) {
      this.lastRenew = this.now();
      if (!this.leading) {
        this.leading = true;
        this.log.info({ identity: this.opts.identity }, 'became leader');
        this.opts.onStartedLeading();
      }
    } else if (this.leading && this.now() - this.lastRenew >= this.opts.renewDeadlineMs) {
      this.leading = false;
      this.log.error('lost the lease (could not renew within the deadline)');
      this.opts.onStoppedLeading();
    }
    this.timer = setTimeout(() => void this.tick(), this.opts.retryPeriodMs);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.opts;
    const nowTime = new V1MicroTime(this.now());
    const lease = await this.api.readLease(namespace, name);
    if (!lease) {
      await this.api.createLease(namespace, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
          acquireTime: nowTime,
          renewTime: nowTime,
          leaseTransitions: 0,
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const record: LeaseRecord = {
      holder: spec.holderIdentity,
      renewTime: spec.renewTime ? new Date(spec.renewTime).toISOString() : undefined,
      transitions: spec.leaseTransitions ?? 0,
    };
    const key = `${record.holder}|${record.renewTime}|${lease.metadata?.resourceVersion}`;
    if (this.observed?.key !== key) this.observed = { key, since: this.now() };
    // A released lease (holder cleared) is free at once; otherwise wait out the duration the holder asked for.
    const duration = record.holder ? Math.max(leaseDurationMs, (spec.leaseDurationSeconds ?? 0) * 1000) : 0;
    if (!canAcquire(record, identity, this.now() - this.observed.since, duration)) return false;
    const takingOver = record.holder !== identity;
    const next: V1Lease = {
      ...lease,
      spec: {
        ...withMicroTimes(spec),
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        renewTime: nowTime,
        ...(takingOver ? { acquireTime: nowTime, leaseTransitions: record.transitions + 1 } : {}),
      },
    };
    await this.api.replaceLease(namespace, name, next);
    return true;
  }
}
