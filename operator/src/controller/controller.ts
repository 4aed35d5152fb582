// The FishjamCluster controller: observe (informers) -> reconcile (pure, reconcile/desired.ts) -> apply.
// Two rate-limited queues as in prometheus-operator: one reconciles specs, one refreshes status. Spec work is
// queued only when generation, labels or annotations change, so its own status writes cause no loop.
import type { KubeConfig, KubernetesObject, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { resolveSpec, type OperatorDefaults } from '../api/defaults.js';
import { GROUP, VERSION, PLURAL, type FishjamCluster, type FishjamClusterStatus, type KubeObject, type NodeStatus, type ScaleDownState } from '../api/types.js';
import { statusWrite } from '../status/status-writes.js';
import { validateSpec } from '../api/validate.js';
import { desired, type Desired } from '../reconcile/desired.js';
import { CLUSTER_LABEL, HASH_ANNOTATION, MANAGED_BY, objectNames } from '../reconcile/names.js';
import { specHash } from '../reconcile/spec-hash.js';
import { aggregate } from '../status/aggregate.js';
import { collectLoads, podViews } from '../status/collect.js';
import { buildStatus, type ReconcileOutcome } from '../status/build-status.js';
import type { NodeClient } from '../status/node-client.js';
import { errorCode, errorMessage } from './api-errors.js';
import { resilientInformer, type ResilientInformer } from './informer.js';
import { namespacedInformers } from './namespaced-informers.js';
import { secretVerdict, type SecretReference } from '../reconcile/secret-access.js';
import type { KubeApi } from './kube-api.js';
import type { OperatorMetrics } from './operator-metrics.js';
import { WorkQueue, type BackoffOptions } from './work-queue.js';
import { EVENT_REASON, EventRecorder } from './events.js';
import { DRAIN_SLACK_MS } from '../reconcile/scale-down.js';

export interface ControllerOptions {
  kc: KubeConfig;
  api: KubeApi;
  nodes: NodeClient;
  operator: OperatorDefaults;
  metrics: OperatorMetrics;
  log: Logger;
  /** Watch these namespaces (an informer each); undefined = all namespaces. */
  namespaces?: readonly string[];
  statusIntervalMs: number;
  /** Load totals alone (rooms, peers, tracks) are written at most this often; state changes at once. */
  statusLoadIntervalMs?: number;
  resyncIntervalMs: number;
  /** Restart a watch that delivered nothing (bookmarks included) for this long. */
  watchSilenceMs?: number;
  backoff: BackoffOptions;
  workers: number;
  now?: () => Date;
  randomSecret?: (bytes: number) => string;
  /** Records Kubernetes Events; one writing through `api` is made when absent. */
  events?: EventRecorder;
}

export const DEFAULT_STATUS_LOAD_INTERVAL_MS = 60_000;

/** Kinds the operator deletes when no longer desired (found by the cluster label, owned by the cluster). */
const PRUNABLE: { apiVersion: string; kind: string; optional?: boolean }[] = [
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  // Absent unless prometheus-operator's CRDs are installed.
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', optional: true },
];

interface ClusterMemory {
  seen: string;
  appliedHashes: Map<string, string>;
  appliedReplicas: number | undefined;
  pruneKey: string | undefined;
  scaleDown: ScaleDownState | undefined;
  scaleDownKnown: boolean;
  outcome: ReconcileOutcome | undefined;
  nodes: NodeStatus[] | undefined;
  lastStatus: FishjamClusterStatus | undefined;
  lastLoadWriteAt: number | undefined;
}

type Cluster = FishjamCluster & KubernetesObject;

/** A Secret the spec may not use; reported with its own reason instead of ApplyFailed. */
export class SecretAccessError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
const keyOf = (ns: string | undefined, name: string | undefined) => `${ns ?? ''}/${name ?? ''}`;
const splitKey = (key: string) => {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
};
/** What, besides the spec (generation), should trigger a reconcile when it changes. */
const triggerOf = (c: Cluster) => JSON.stringify([c.metadata?.generation, c.metadata?.labels ?? {}, c.metadata?.annotations ?? {}]);

export class Controller {
  readonly reconcileQueue: WorkQueue;
  readonly statusQueue: WorkQueue;
  readonly clusters: ResilientInformer<Cluster>;
  readonly statefulSets: ResilientInformer<V1StatefulSet>;
  readonly pods: ResilientInformer<V1Pod>;
  private readonly memory = new Map<string, ClusterMemory>();
  private readonly timers: NodeJS.Timeout[] = [];
  private workers: Promise<void>[] = [];
  private readonly now: () => Date;
  private readonly randomSecret: (bytes: number) => string;
  readonly events: EventRecorder;

  constructor(private readonly opts: ControllerOptions) {
    this.events = opts.events ?? new EventRecorder({ api: opts.api, log: opts.log, instance: 'fishjam-operator', ...(opts.now ? { now: opts.now } : {}) });
    this.now = opts.now ?? (() => new Date());
    this.randomSecret = opts.randomSecret ?? ((bytes) => randomBytes(bytes).toString('base64url'));
    this.reconcileQueue = new WorkQueue(opts.backoff);
    this.statusQueue = new WorkQueue(opts.backoff);
    const nsPath = (ns: string | undefined) => (ns ? `/namespaces/${ns}` : '');
    const managed = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
    const informerOpts = (resource: string) => ({
      backoff: opts.backoff,
      log: opts.log,
      labelSelector: resource === 'fishjamclusters' ? undefined : managed,
      onError: () => opts.metrics.watchRestarts.inc({ resource }),
      onSilent: () => opts.metrics.watchRestarts.inc({ resource }),
      ...(opts.watchSilenceMs !== undefined ? { silenceMs: opts.watchSilenceMs } : {}),
    });
    this.clusters = namespacedInformers<Cluster>(opts.namespaces, (ns) =>
      resilientInformer<Cluster>(
        opts.kc,
        `/apis/${GROUP}/${VERSION}${nsPath(ns)}/${PLURAL}`,
        () => opts.api.listClusters(ns),
        {
          add: (c) => this.onClusterChange(c),
          update: (c) => this.onClusterChange(c),
          delete: (c) => this.onClusterDelete(c),
        },
        informerOpts(PLURAL),
      ),
    );
    this.statefulSets = namespacedInformers<V1StatefulSet>(opts.namespaces, (ns) =>
      resilientInformer<V1StatefulSet>(
        opts.kc,
        `/apis/apps/v1${nsPath(ns)}/statefulsets`,
        () => opts.api.listStatefulSets(ns, managed),
        { add: (s) => this.onOwnedChange(s, false), update: (s) => this.onOwnedChange(s, false), delete: (s) => this.onOwnedChange(s, true) },
        informerOpts('statefulsets'),
      ),
    );
    this.pods = namespacedInformers<V1Pod>(opts.namespaces, (ns) =>
      resilientInformer<V1Pod>(
        opts.kc,
        `/api/v1${nsPath(ns)}/pods`,
        () => opts.api.listPods(ns, managed),
        { add: (p) => this.onPodChange(p), update: (p) => this.onPodChange(p), delete: (p) => this.onPodChange(p) },
        informerOpts('pods'),
      ),
    );
  }

  async start(): Promise<void> {
    await Promise.all([this.statefulSets.start(), this.pods.start()]);
    // Clusters last: their first reconcile then sees StatefulSets and pods already cached.
    await this.clusters.start();
    for (let i = 0; i < this.opts.workers; i++) {
      this.workers.push(this.runWorker(this.reconcileQueue, 'reconcile', (k) => this.reconcile(k)));
      this.workers.push(this.runWorker(this.statusQueue, 'status', (k) => this.refreshStatus(k)));
    }
    this.every(this.opts.statusIntervalMs, () => this.memory.forEach((_, key) => this.statusQueue.add(key)));
    this.every(this.opts.resyncIntervalMs, () =>
      this.memory.forEach((mem, key) => {
        // A full pass re-applies everything: repairs objects someone edited or deleted behind our back.
        mem.appliedHashes.clear();
        mem.pruneKey = undefined;
        this.reconcileQueue.add(key);
      }),
    );
    this.every(1000, () => {
      this.opts.metrics.queueDepth.set({ queue: 'reconcile' }, this.reconcileQueue.depth);
      this.opts.metrics.queueDepth.set({ queue: 'status' }, this.statusQueue.depth);
    });
  }

  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    this.reconcileQueue.stop();
    this.statusQueue.stop();
    await Promise.all([this.clusters.stop(), this.statefulSets.stop(), this.pods.stop()]);
    await Promise.all(this.workers);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  // ---- event handlers ----

  private memoryFor(key: string): ClusterMemory {
    let mem = this.memory.get(key);
    if (!mem) {
      mem = {
        seen: '',
        appliedHashes: new Map(),
        appliedReplicas: undefined,
        pruneKey: undefined,
        scaleDown: undefined,
        scaleDownKnown: false,
        outcome: undefined,
        nodes: undefined,
        lastStatus: undefined,
        lastLoadWriteAt: undefined,
      };
      this.memory.set(key, mem);
      this.opts.metrics.managedClusters.set(this.memory.size);
    }
    return mem;
  }

  private onClusterChange(c: Cluster): void {
    const key = keyOf(c.metadata?.namespace, c.metadata?.name);
    const mem = this.memoryFor(key);
    const trigger = triggerOf(c);
    if (mem.seen === trigger) return;
    mem.seen = trigger;
    this.reconcileQueue.add(key);
  }

  private onClusterDelete(c: Cluster): void {
    // Nothing to clean up by hand: every owned object has an ownerReference and is garbage-collected.
    this.memory.delete(keyOf(c.metadata?.namespace, c.metadata?.name));
    this.opts.metrics.managedClusters.set(this.memory.size);
  }

  private ownerKey(obj: KubernetesObject): string | undefined {
    const owner = obj.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'FishjamCluster');
    return owner ? keyOf(obj.metadata?.namespace, owner.name) : undefined;
  }

  private onOwnedChange(sts: V1StatefulSet, deleted: boolean): void {
    const key = this.ownerKey(sts);
    if (!key) return;
    const mem = this.memory.get(key);
    if (!mem) return;
    this.statusQueue.add(key);
    const hash = sts.metadata?.annotations?.[HASH_ANNOTATION];
    const ours = mem.appliedHashes.get(`StatefulSet/${sts.metadata?.name}`);
    // Only drift (deleted, or edited by someone else) needs a reconcile; status churn does not.
    if (deleted || (ours !== undefined && (hash !== ours || sts.spec?.replicas !== mem.appliedReplicas))) {
      mem.appliedHashes.delete(`StatefulSet/${sts.metadata?.name}`);
      if (deleted) mem.appliedReplicas = undefined;
      this.reconcileQueue.add(key);
    }
  }

  private onPodChange(pod: V1Pod): void {
    const cluster = pod.metadata?.labels?.[CLUSTER_LABEL];
    if (cluster && this.memory.has(keyOf(pod.metadata?.namespace, cluster))) this.statusQueue.add(keyOf(pod.metadata?.namespace, cluster));
  }

  // ---- workers ----

  private async runWorker(queue: WorkQueue, name: string, handle: (key: string) => Promise<void>): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await handle(key);
        queue.forget(key);
      } catch (err) {
        const delay = queue.addRateLimited(key);
        this.opts.log.warn({ key, queue: name, err: errorMessage(err), retryInMs: delay, retries: queue.retries(key) }, `${name} failed`);
      } finally {
        queue.done(key);
      }
    }
  }

  private async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cluster = this.clusters.cache.get(name, namespace);
    if (!cluster || cluster.metadata?.deletionTimestamp) return;
    const mem = this.memoryFor(key);
    const end = this.opts.metrics.reconcileDuration.startTimer();
    const sts = this.statefulSets.cache.get(name, namespace);
    const d = desired(
      cluster,
      {
        statefulSetReplicas: mem.appliedReplicas ?? sts?.spec?.replicas,
        nodes: mem.nodes ?? cluster.status?.nodes ?? [],
        scaleDown: mem.scaleDownKnown ? mem.scaleDown : cluster.status?.scaleDown,
        now: this.now(),
        randomSecret: this.randomSecret,
      },
      this.opts.operator,
    );
    const outcome: ReconcileOutcome = {
      generation: cluster.metadata?.generation,
      valid: d.valid,
      conditions: d.conditions,
      scaleDown: d.scaleDown,
      error: undefined,
      desiredReplicas: d.valid ? resolveSpec(name, cluster.spec ?? {}, this.opts.operator).replicas : 0,
    };
    if (!d.valid) {
      const message = d.conditions.find((c) => c.type === 'SpecValid')?.message ?? 'invalid spec';
      this.events.record(cluster, 'Warning', EVENT_REASON.invalidSpec, message);
    }
    try {
      if (d.valid) await this.applyDesired(cluster, mem, d, sts);
      mem.outcome = outcome;
      this.opts.metrics.reconcileTotal.inc({ result: d.valid ? 'success' : 'invalid' });
      if (d.requeueAfterMs !== undefined) this.reconcileQueue.addAfter(key, d.requeueAfterMs);
    } catch (err) {
      const reason = err instanceof SecretAccessError ? err.reason : undefined;
      mem.outcome = { ...outcome, error: errorMessage(err), errorReason: reason };
      this.events.record(cluster, 'Warning', reason ?? EVENT_REASON.applyFailed, errorMessage(err));
      this.opts.metrics.reconcileTotal.inc({ result: 'error' });
      this.opts.metrics.reconcileErrors.inc();
      throw err;
    } finally {
      end();
      this.statusQueue.add(key);
    }
  }

  private async applyDesired(cluster: Cluster, mem: ClusterMemory, d: Desired, sts: V1StatefulSet | undefined): Promise<void> {
    const { api } = this.opts;
    await this.checkSecrets(cluster, d.secrets);
    for (const secret of d.createIfMissing) await api.createIfMissing(secret);
    for (const obj of d.apply) {
      const id = `${obj.kind}/${obj.metadata.name}`;
      const hash = obj.metadata.annotations?.[HASH_ANNOTATION];
      // The hash of the desired content on the object tells whether applying would change anything; for the
      // StatefulSet the cached live object is checked too, replicas included (kubectl scale keeps the annotation).
      const liveMatches =
        obj.kind === 'StatefulSet' &&
        sts?.metadata?.annotations?.[HASH_ANNOTATION] === hash &&
        sts?.spec?.replicas === (obj as KubeObject & { spec: { replicas: number } }).spec.replicas;
      if (hash !== undefined && (mem.appliedHashes.get(id) === hash || liveMatches)) {
        mem.appliedHashes.set(id, hash);
        continue;
      }
      await api.apply(obj);
      if (hash !== undefined) mem.appliedHashes.set(id, hash);
    }
    const set = d.apply.find((o) => o.kind === 'StatefulSet') as (KubeObject & { spec: { replicas: number } }) | undefined;
    this.recordTransitions(cluster, mem, d, sts, set?.spec.replicas);
    mem.appliedReplicas = set?.spec.replicas;
    mem.scaleDown = d.scaleDown;
    mem.scaleDownKnown = true;
    await this.prune(cluster, mem, d.apply);
    if (d.drainOrdinal !== undefined) await this.requestDrain(cluster, d.drainOrdinal);
  }

  /** Events for what this pass changed: StatefulSet created or scaled, a drain started or finished. */
  private recordTransitions(cluster: Cluster, mem: ClusterMemory, d: Desired, sts: V1StatefulSet | undefined, replicas: number | undefined): void {
    const names = objectNames(cluster.metadata!.name!);
    const before = mem.appliedReplicas ?? sts?.spec?.replicas;
    if (replicas !== undefined && before === undefined && !sts) {
      this.events.record(cluster, 'Normal', EVENT_REASON.created, `created StatefulSet ${names.statefulSet} with ${replicas} replicas`);
    } else if (replicas !== undefined && before !== undefined && before !== replicas) {
      this.events.record(cluster, 'Normal', EVENT_REASON.scaled, `scaled StatefulSet ${names.statefulSet} from ${before} to ${replicas} replicas`);
    }
    const previous = mem.scaleDownKnown ? mem.scaleDown : cluster.status?.scaleDown;
    if (d.scaleDown && previous?.ordinal !== d.scaleDown.ordinal) {
      const spec = resolveSpec(cluster.metadata!.name!, cluster.spec ?? {}, this.opts.operator);
      const deadline = spec.drainTimeoutSeconds + DRAIN_SLACK_MS / 1000;
      this.events.record(cluster, 'Normal', EVENT_REASON.drainStarted, `draining ${names.pod(d.scaleDown.ordinal)} before removing it (removed at the latest after ${deadline} s)`);
    }
    const done = d.drainFinished;
    if (done) {
      const pod = names.pod(done.ordinal);
      if (done.by === 'deadline') {
        this.events.record(cluster, 'Warning', EVENT_REASON.drainFinished, `${pod} still had rooms at its drain deadline; removing it anyway`);
      } else {
        this.events.record(cluster, 'Normal', EVENT_REASON.drainFinished, done.by === 'empty' ? `${pod} drained: no rooms left; removing it` : `${pod} was already gone`);
      }
    }
  }

  /** Refuses (before anything is applied) a spec naming Secrets it may not use: see reconcile/secret-access.ts. */
  private async checkSecrets(cluster: Cluster, refs: readonly SecretReference[]): Promise<void> {
    const ns = cluster.metadata!.namespace!;
    const who = { name: cluster.metadata!.name!, uid: cluster.metadata!.uid! };
    for (const ref of refs) {
      let secret: Awaited<ReturnType<KubeApi['readSecret']>>;
      try {
        secret = await this.opts.api.readSecret(ns, ref.name);
      } catch (err) {
        if (errorCode(err) !== 403) throw err;
        throw new SecretAccessError(
          'SecretsForbidden',
          `the operator may not read Secrets in namespace ${ns}: add it to the chart's watchNamespaces or secretNamespaces (${errorMessage(err)})`,
        );
      }
      const verdict = secretVerdict(ref, secret?.metadata, who);
      if (!verdict.ok) throw new SecretAccessError(verdict.reason, verdict.message);
    }
  }

  /** Deletes owned objects of the prunable kinds that the desired state no longer contains. */
  private async prune(cluster: Cluster, mem: ClusterMemory, wanted: KubeObject[]): Promise<void> {
    const names = new Set(wanted.map((o) => `${o.kind}/${o.metadata.name}`));
    const pruneKey = specHash([...names].sort());
    if (mem.pruneKey === pruneKey) return;
    const ns = cluster.metadata!.namespace!;
    for (const { apiVersion, kind, optional } of PRUNABLE) {
      let existing: KubeObject[];
      try {
        existing = await this.opts.api.listOwned(apiVersion, kind, ns, `${CLUSTER_LABEL}=${cluster.metadata!.name}`);
      } catch (err) {
        if (optional && !names.has(`${kind}/${objectNames(cluster.metadata!.name!).serviceMonitor}`)) continue;
        throw err;
      }
      for (const obj of existing) {
        const owned = obj.metadata.ownerReferences?.some((r) => r.uid === cluster.metadata!.uid && r.controller);
        if (owned && !names.has(`${kind}/${obj.metadata.name}`)) {
          this.opts.log.info({ kind, name: obj.metadata.name, namespace: ns }, 'deleting object no longer desired');
          await this.opts.api.delete(apiVersion, kind, ns, obj.metadata.name!);
          mem.appliedHashes.delete(`${kind}/${obj.metadata.name}`);
        }
      }
    }
    mem.pruneKey = pruneKey;
  }

  private async requestDrain(cluster: Cluster, ordinal: number): Promise<void> {
    const name = cluster.metadata!.name!;
    const ns = cluster.metadata!.namespace!;
    const podName = objectNames(name).pod(ordinal);
    const pod = this.pods.cache.get(podName, ns);
    const ip = pod?.status?.podIP;
    if (!ip) return;
    const spec = resolveSpec(name, cluster.spec ?? {}, this.opts.operator);
    try {
      // The token goes out as a Bearer header, so the Secret is checked again right before it is read.
      const secret = await this.opts.api.readSecret(ns, spec.apiToken.name);
      const ref = { name: spec.apiToken.name, field: 'spec.apiTokenSecretRef', generated: spec.apiToken.generated };
      const verdict = secretVerdict(ref, secret?.metadata, { name, uid: cluster.metadata!.uid! });
      if (!verdict.ok) throw new Error(verdict.message);
      const token = secret?.data[spec.apiToken.key];
      if (token === undefined) throw new Error(`secret ${spec.apiToken.name} has no key ${spec.apiToken.key}`);
      await this.opts.nodes.drain(ip, spec.httpPort, token);
      this.opts.metrics.drainRequests.inc({ result: 'sent' });
      this.opts.log.info({ pod: podName, namespace: ns }, 'asked node to drain before scale-down');
    } catch (err) {
      // Not fatal: the plan asks again on the next pass, and the pod's preStop drains it anyway.
      this.opts.metrics.drainRequests.inc({ result: 'error' });
      this.opts.log.warn({ pod: podName, err: errorMessage(err) }, 'drain request failed');
    }
    this.statusQueue.addAfter(keyOf(ns, name), 500);
  }

  private async refreshStatus(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cluster = this.clusters.cache.get(name, namespace);
    const mem = this.memory.get(key);
    if (!cluster || !mem?.outcome || cluster.metadata?.deletionTimestamp) return;
    const metricsPort = validateSpec(cluster.spec).length === 0 ? resolveSpec(name, cluster.spec ?? {}, this.opts.operator).metrics.port : undefined;
    const pods = podViews(name, this.pods.cache.list(namespace));
    const loads = await collectLoads(pods, metricsPort, this.opts.nodes, () => this.opts.metrics.scrapeErrors.inc());
    const agg = aggregate(name, pods, loads);
    mem.nodes = agg.nodes;
    const status = buildStatus(cluster, mem.outcome, agg, this.now());
    const nowMs = this.now().getTime();
    const write = statusWrite(mem.lastStatus, status, mem.lastLoadWriteAt, nowMs, this.opts.statusLoadIntervalMs ?? DEFAULT_STATUS_LOAD_INTERVAL_MS);
    if (write === 'none') {
      this.opts.metrics.statusUpdates.inc({ result: 'unchanged' });
      return;
    }
    try {
      await this.opts.api.applyClusterStatus(namespace, name, status);
    } catch (err) {
      this.opts.metrics.statusUpdates.inc({ result: 'error' });
      // The cluster was deleted meanwhile: nothing to report.
      if (errorCode(err) === 404) return;
      throw err;
    }
    mem.lastStatus = status;
    mem.lastLoadWriteAt = nowMs;
    this.opts.metrics.statusUpdates.inc({ result: 'written' });
  }
}
