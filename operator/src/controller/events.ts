// Kubernetes Events about a FishjamCluster (what `kubectl describe fjc` shows): created, scaled, drain started and
// finished, invalid spec, apply failures. Recording never blocks or fails a reconcile: the write is fire-and-forget
// (bounded by the API deadline) and its failure is only logged. The same event for the same object is recorded once
// per `dedupMs` (a failing apply retried with backoff must not write an Event per retry), in a bounded memory.
import type { Logger } from 'pino';
import type { FishjamCluster } from '../api/types.js';
import { errorMessage } from './api-errors.js';
import type { KubeApi } from './kube-api.js';

export type EventType = 'Normal' | 'Warning';

export const EVENT_REASON = {
  created: 'Created',
  scaled: 'Scaled',
  drainStarted: 'DrainStarted',
  drainFinished: 'DrainFinished',
  invalidSpec: 'InvalidSpec',
  applyFailed: 'ApplyFailed',
} as const;

/** Kubernetes caps an Event's message at 1 KiB in events.k8s.io; stay under it for core Events as well. */
export const MAX_MESSAGE = 1024;
const COMPONENT = 'fishjam-operator';

export interface EventRecorderOptions {
  api: KubeApi;
  log: Logger;
  /** reportingInstance: this operator replica. */
  instance: string;
  dedupMs?: number;
  maxRemembered?: number;
  now?: () => Date;
}

export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private readonly dedupMs: number;
  private readonly maxRemembered: number;
  private readonly now: () => Date;
  private pending = new Set<Promise<void>>();
  private seq = 0;

  constructor(private readonly opts: EventRecorderOptions) {
    this.dedupMs = opts.dedupMs ?? 10 * 60_000;
    this.maxRemembered = opts.maxRemembered ?? 2000;
    this.now = opts.now ?? (() => new Date());
  }

  record(cluster: FishjamCluster, type: EventType, reason: string, message: string): void {
    const ns = cluster.metadata.namespace;
    const name = cluster.metadata.name;
    if (!ns || !name) return;
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
    const key = `${cluster.metadata.uid}|${type}|${reason}|${text}`;
    const at = this.now();
    // Normal events mark transitions and come once by construction; warnings repeat with every retry.
    if (type === 'Warning') {
      const last = this.recent.get(key);
      if (last !== undefined && at.getTime() - last < this.dedupMs) return;
      this.remember(key, at.getTime());
    }
    // A name unique per operator replica and event, like client-go's "<object>.<unix nanos in hex>".
    const eventName = `${name}.${(at.getTime() * 1000 + (this.seq++ % 1000)).toString(16)}`;
    const write = this.opts.api
      .createEvent(ns, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: eventName, namespace: ns },
        involvedObject: {
          apiVersion: cluster.apiVersion,
          kind: cluster.kind,
          name,
          namespace: ns,
          ...(cluster.metadata.uid ? { uid: cluster.metadata.uid } : {}),
        },
        type,
        reason,
        message: text,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: this.opts.instance,
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      })
      .catch((err: unknown) => this.opts.log.warn({ reason, err: errorMessage(err) }, 'could not record an event'));
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
  }

  /** Waits for the event writes in flight (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private remember(key: string, at: number): void {
    this.recent.delete(key);
    this.recent.set(key, at);
    // Oldest first (insertion order): drop beyond the bound.
    while (this.recent.size > this.maxRemembered) this.recent.delete(this.recent.keys().next().value!);
  }
}
