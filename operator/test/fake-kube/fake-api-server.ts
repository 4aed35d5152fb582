// An in-process stand-in for the Kubernetes API server, speaking enough of its REST and watch protocol for the
// real @kubernetes/client-node: discovery, list/get/create/replace/delete, merge patch and server-side apply,
// status subresources, resourceVersion with optimistic concurrency, streaming watches that answer a too-old
// resourceVersion with a 410 ERROR event, finalizers and background garbage collection by ownerReferences.
// Tests can drop watches, compact history, inject failures, and simulate a StatefulSet controller.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { parseLabelSelector } from './label-selector.js';
import { apiVersionOf, RESOURCES, type ResourceType } from './resources.js';
import { jsonEqual, serverSideApply, type Json } from './server-side-apply.js';

type Obj = { [k: string]: Json };
type Meta = {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { uid: string; kind: string; name: string; controller?: boolean }[];
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  managedFields?: unknown[];
};
export type StoredObject = Obj & { metadata: Meta };

export interface RequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  status: number;
  at: number;
}

export interface FailureRule {
  method: string;
  path: RegExp;
  status: number;
  times: number;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: ResourceType;
  object: StoredObject;
}

interface Watcher {
  resource: ResourceType;
  namespace: string | undefined;
  matches: (labels: Record<string, string> | undefined) => boolean;
  res: ServerResponse;
  /** A silenced watcher keeps its connection open but receives nothing (a half-dead connection). */
  silent: boolean;
  timers: NodeJS.Timeout[];
}

export interface DelayRule {
  method: string;
  path: RegExp;
  /** Hold the request this long before handling it; Infinity = never answer. */
  ms: number;
  times: number;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const keyOf = (r: ResourceType, ns: string | undefined, name: string) => `${r.plural}/${ns ?? ''}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);

export interface FakeApiServerOptions {
  /** Create and delete pods for StatefulSets, like the StatefulSet controller and kubelet would. */
  simulateStatefulSets?: boolean;
  /** Serve monitoring.coreos.com/v1 (as if prometheus-operator's CRDs were installed). */
  serviceMonitorCrd?: boolean;
  /** Interval of BOOKMARK events on watches that allow them (default 1000 ms; 0 = none). */
  bookmarkIntervalMs?: number;
}

export class FakeApiServer {
  private readonly server: Server;
  private readonly objects = new Map<string, StoredObject>();
  /** Each manager's last applied configuration, per object key. */
  private readonly applied = new Map<string, Map<string, Obj>>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 100;
  private compactedRv = 0;
  private failures: FailureRule[] = [];
  private delays: DelayRule[] = [];
  private readonly held = new Set<() => void>();
  readonly requests: RequestRecord[] = [];
  url = '';

  constructor(private readonly options: FakeApiServerOptions = {}) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.sendError(req, res, err));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    for (const release of this.held) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- test controls ----

  /** Ends every open watch stream, as an API server restart or a load balancer timeout would. */
  dropWatches(): void {
    for (const w of this.watchers) {
      w.timers.forEach(clearTimeout);
      w.timers.forEach(clearInterval);
      w.res.end();
    }
    this.watchers.clear();
  }

  /** Open watches stop receiving anything (events and bookmarks) while their connections stay open. */
  silenceWatches(plural?: string): number {
    let n = 0;
    for (const w of this.watchers) {
      if (plural && w.resource.plural !== plural) continue;
      w.silent = true;
      n++;
    }
    return n;
  }

  /** Holds matching requests `ms` before answering (Infinity: never, until the server stops). */
  delayNext(rule: Omit<DelayRule, 'times'> & { times?: number }): void {
    this.delays.push({ times: 1, ...rule });
  }

  /** Removes every delay rule (requests already held stay held). */
  clearDelays(): void {
    this.delays = [];
  }

  /** Forgets history: a watch resuming from an older resourceVersion now gets 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  failNext(rule: Omit<FailureRule, 'times'> & { times?: number }): void {
    this.failures.push({ times: 1, ...rule });
  }

  activeWatches(plural?: string): number {
    return [...this.watchers].filter((w) => !plural || w.resource.plural === plural).length;
  }

  get(kind: string, namespace: string | undefined, name: string): StoredObject | undefined {
    const o = this.objects.get(keyOf(this.resourceByKind(kind), namespace, name));
    return o ? clone(o) : undefined;
  }

  list(kind: string, namespace?: string): StoredObject[] {
    const r = this.resourceByKind(kind);
    return [...this.objects.values()]
      .filter((o) => o['kind'] === r.kind && (namespace === undefined || o.metadata.namespace === namespace))
      .map(clone);
  }

  /** Creates or replaces an object directly (as another client would), bumping resourceVersion. */
  put(obj: Obj): StoredObject {
    const r = this.resourceByKind(String(obj['kind']));
    const meta = obj['metadata'] as Meta;
    const existing = this.objects.get(keyOf(r, meta.namespace, meta.name));
    return existing ? this.store(r, obj, existing) : this.create(r, obj);
  }

  /** Deletes as a client would (finalizers honoured, dependents collected). */
  remove(kind: string, namespace: string | undefined, name: string): void {
    this.deleteObject(this.resourceByKind(kind), namespace, name);
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const record: RequestRecord = { method, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], status: 200, at: Date.now() };
    this.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));

    const delay = this.delays.find((d) => d.method === method && d.path.test(url.pathname) && d.times > 0);
    if (delay) {
      delay.times--;
      this.delays = this.delays.filter((d) => d.times > 0);
      await new Promise<void>((resolve) => {
        const release = () => {
          this.held.delete(release);
          resolve();
        };
        this.held.add(release);
        if (Number.isFinite(delay.ms)) setTimeout(release, delay.ms);
      });
      if (!this.server.listening) return;
    }

    const rule = this.failures.find((f) => f.method === method && f.path.test(url.pathname) && f.times > 0);
    if (rule) {
      rule.times--;
      this.failures = this.failures.filter((f) => f.times > 0);
      throw new HttpError(rule.status, rule.status === 429 ? 'TooManyRequests' : 'InternalError', `injected failure ${rule.status}`);
    }

    const seg = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (seg[0] === 'api' && seg[1]) [group, version, rest] = ['', seg[1], seg.slice(2)];
    else if (seg[0] === 'apis' && seg[1] && seg[2]) [group, version, rest] = [seg[1], seg[2], seg.slice(3)];
    else throw new HttpError(404, 'NotFound', `the server could not find the requested resource ${url.pathname}`);

    const served = RESOURCES.filter((r) => r.group === group && r.version === version && this.serves(r));
    if (served.length === 0) throw new HttpError(404, 'NotFound', `no resources in ${group}/${version}`);
    if (rest.length === 0) return this.sendJson(res, 200, this.discovery(group, version, served));

    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, sub] = rest;
    const resource = served.find((r) => r.plural === plural);
    if (!resource) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${plural})`);
    if (sub === 'scale' && resource.scale && name) return this.scale(req, res, resource, namespace, name, method);
    if (sub !== undefined && (sub !== 'status' || !resource.statusSubresource)) throw new HttpError(404, 'NotFound', `no subresource ${sub}`);

    if (!name) {
      if (method === 'GET' && url.searchParams.get('watch') === 'true') return this.watch(req, res, resource, namespace, url.searchParams);
      if (method === 'GET') return this.sendJson(res, 200, this.listResponse(resource, namespace, url.searchParams));
      if (method === 'POST') {
        const body = (await readJson(req)) as Obj;
        const meta = (body['metadata'] ?? {}) as Meta;
        if (namespace) meta.namespace = namespace;
        body['metadata'] = meta as unknown as Json;
        if (this.objects.has(keyOf(resource, namespace, meta.name))) {
          throw new HttpError(409, 'AlreadyExists', `${resource.plural} "${meta.name}" already exists`);
        }
        if (resource.statusSubresource) delete body['status'];
        return this.sendJson(res, 201, this.create(resource, body));
      }
      throw new HttpError(405, 'MethodNotAllowed', method);
    }

    const key = keyOf(resource, namespace, name);
    const existing = this.objects.get(key);
    const notFound = () => new HttpError(404, 'NotFound', `${resource.plural}${resource.group ? `.${resource.group}` : ''} "${name}" not found`);
    switch (method) {
      case 'GET':
        if (!existing) throw notFound();
        return this.sendJson(res, 200, existing);
      case 'DELETE': {
        if (!existing) throw notFound();
        const after = this.deleteObject(resource, namespace, name);
        return this.sendJson(res, 200, after ?? { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: resource.plural, uid: existing.metadata.uid } });
      }
      case 'PUT': {
        if (!existing) throw notFound();
        const body = (await readJson(req)) as Obj;
        const meta = body['metadata'] as Meta;
        if (meta.resourceVersion && meta.resourceVersion !== existing.metadata.resourceVersion) {
          throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
        }
        return this.sendJson(res, 200, this.store(resource, this.forSubresource(resource, sub, existing, body), existing));
      }
      case 'PATCH': {
        const type = (req.headers['content-type'] ?? '').split(';')[0];
        const raw = await readBody(req);
        if (type === 'application/apply-patch+yaml') {
          const manager = url.searchParams.get('fieldManager');
          if (!manager) throw new HttpError(400, 'BadRequest', 'fieldManager is required for apply patch');
          const body = parseYaml(raw) as Obj;
          return this.sendJson(res, existing ? 200 : 201, this.apply(resource, namespace, name, sub, body, manager, url.searchParams.get('force') === 'true'));
        }
        if (!existing) throw notFound();
        if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
          const merged = mergePatch(clone(existing), JSON.parse(raw) as Json) as Obj;
          return this.sendJson(res, 200, this.store(resource, this.forSubresource(resource, sub, existing, merged), existing));
        }
        throw new HttpError(415, 'UnsupportedMediaType', `unsupported patch type ${type}`);
      }
      default:
        throw new HttpError(405, 'MethodNotAllowed', method);
    }
  }

  /** The scale subresource as the API server derives it from the CRD's paths (what an HPA or KEDA reads and writes). */
  private async scale(req: IncomingMessage, res: ServerResponse, resource: ResourceType, namespace: string | undefined, name: string, method: string): Promise<void> {
    const existing = this.objects.get(keyOf(resource, namespace, name));
    if (!existing) throw new HttpError(404, 'NotFound', `${resource.plural} "${name}" not found`);
    const paths = resource.scale!;
    const read = (o: Obj, path: string): Json | undefined =>
      path.split('.').filter(Boolean).reduce<Json | undefined>((v, k) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj)[k] : undefined), o);
    const scaleOf = (o: StoredObject) => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace: namespace ?? null, resourceVersion: o.metadata.resourceVersion, uid: o.metadata.uid },
      spec: { replicas: read(o, paths.specReplicas) ?? 0 },
      status: { replicas: read(o, paths.statusReplicas) ?? 0, selector: read(o, paths.labelSelector) ?? '' },
    });
    if (method === 'GET') return this.sendJson(res, 200, scaleOf(existing));
    if (method !== 'PUT' && method !== 'PATCH') throw new HttpError(405, 'MethodNotAllowed', method);
    const body = (await readJson(req)) as { spec?: { replicas?: unknown } };
    const replicas = body.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) throw new HttpError(422, 'Invalid', 'spec.replicas: must be a non-negative integer');
    const next = clone(existing) as Obj;
    next['spec'] = { ...((next['spec'] as Obj) ?? {}), replicas };
    return this.sendJson(res, 200, scaleOf(this.store(resource, next, existing)));
  }

  private serves(r: ResourceType): boolean {
    return r.group !== 'monitoring.coreos.com' || this.options.serviceMonitorCrd !== false;
  }

  private discovery(group: string, version: string, served: ResourceType[]): object {
    const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: served.flatMap((r) => [
        { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs },
        ...(r.statusSubresource ? [{ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ]),
    };
  }

  private selected(resource: ResourceType, namespace: string | undefined, params: URLSearchParams): StoredObject[] {
    const matches = parseLabelSelector(params.get('labelSelector'));
    return [...this.objects.values()].filter(
      (o) => o['kind'] === resource.kind && (namespace === undefined || o.metadata.namespace === namespace) && matches(o.metadata.labels),
    );
  }

  private listResponse(resource: ResourceType, namespace: string | undefined, params: URLSearchParams): object {
    return {
      kind: `${resource.kind}List`,
      apiVersion: apiVersionOf(resource),
      metadata: { resourceVersion: String(this.rv) },
      items: this.selected(resource, namespace, params),
    };
  }

  private watch(req: IncomingMessage, res: ServerResponse, resource: ResourceType, namespace: string | undefined, params: URLSearchParams): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // Clients wait for the headers before they consider the watch open.
    res.flushHeaders();
    const send = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    const from = params.get('resourceVersion');
    const matches = parseLabelSelector(params.get('labelSelector'));
    if (from && from !== '0' && Number(from) < this.compactedRv) {
      send('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: `too old resource version: ${from} (${this.compactedRv})` });
      res.end();
      return;
    }
    if (!from || from === '0') {
      for (const o of this.selected(resource, namespace, params)) send('ADDED', o);
    } else {
      for (const e of this.history) {
        if (e.rv > Number(from) && e.resource === resource && (namespace === undefined || e.object.metadata.namespace === namespace) && matches(e.object.metadata.labels)) {
          send(e.type, e.object);
        }
      }
    }
    const watcher: Watcher = { resource, namespace, matches, res, silent: false, timers: [] };
    this.watchers.add(watcher);
    const bookmarkMs = this.options.bookmarkIntervalMs ?? 1000;
    if (params.get('allowWatchBookmarks') === 'true' && bookmarkMs > 0) {
      // Every event up to this.rv has been written to this watcher already (writes are synchronous), so a bookmark
      // at the current resourceVersion is safe to resume from.
      watcher.timers.push(
        setInterval(() => {
          if (!watcher.silent) send('BOOKMARK', { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata: { resourceVersion: String(this.rv) } });
        }, bookmarkMs),
      );
    }
    const timeoutSeconds = Number(params.get('timeoutSeconds'));
    if (timeoutSeconds > 0) {
      // The API server ends a watch cleanly at its timeout; clients resume from their last resourceVersion.
      watcher.timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
    }
    req.on('close', () => {
      watcher.timers.forEach(clearTimeout);
      watcher.timers.forEach(clearInterval);
      this.watchers.delete(watcher);
    });
  }

  // ---- storage ----

  private resourceByKind(kind: string): ResourceType {
    const r = RESOURCES.find((x) => x.kind === kind);
    if (!r) throw new Error(`unknown kind ${kind}`);
    return r;
  }

  private emit(type: WatchEvent['type'], resource: ResourceType, object: StoredObject): void {
    const event: WatchEvent = { rv: this.rv, type, resource, object: clone(object) };
    this.history.push(event);
    for (const w of this.watchers) {
      if (!w.silent && w.resource === resource && (w.namespace === undefined || w.namespace === object.metadata.namespace) && w.matches(object.metadata.labels)) {
        w.res.write(`${JSON.stringify({ type, object: event.object })}\n`);
      }
    }
  }

  private create(resource: ResourceType, body: Obj, manager?: string): StoredObject {
    const meta = { ...(body['metadata'] as Meta) };
    if (!meta.name) throw new HttpError(422, 'Invalid', 'metadata.name: Required value');
    const obj = clone(body) as StoredObject;
    obj['apiVersion'] = apiVersionOf(resource);
    obj['kind'] = resource.kind;
    obj.metadata = {
      ...meta,
      uid: randomUUID(),
      resourceVersion: String(++this.rv),
      generation: 1,
      creationTimestamp: new Date().toISOString(),
      ...(manager ? { managedFields: [{ manager, operation: 'Apply', apiVersion: apiVersionOf(resource) }] } : {}),
    };
    if (resource.kind === 'Secret' && obj['stringData']) {
      // The API server folds stringData into data.
      const data = { ...((obj['data'] as Record<string, string>) ?? {}) };
      for (const [k, v] of Object.entries(obj['stringData'] as Record<string, string>)) data[k] = Buffer.from(v).toString('base64');
      obj['data'] = data;
      delete obj['stringData'];
    }
    this.objects.set(keyOf(resource, meta.namespace, meta.name), obj);
    this.emit('ADDED', resource, obj);
    this.afterChange(resource, obj);
    return clone(obj);
  }

  /** Writes a new version if it differs; bumps generation when anything outside metadata and status changed. */
  private store(resource: ResourceType, next: Obj, existing: StoredObject): StoredObject {
    const obj = clone(next) as StoredObject;
    obj['apiVersion'] = existing['apiVersion']!;
    obj['kind'] = existing['kind']!;
    obj.metadata = {
      ...obj.metadata,
      name: existing.metadata.name,
      namespace: existing.metadata.namespace,
      uid: existing.metadata.uid,
      creationTimestamp: existing.metadata.creationTimestamp,
      resourceVersion: existing.metadata.resourceVersion,
      generation: existing.metadata.generation,
      ...(existing.metadata.deletionTimestamp ? { deletionTimestamp: existing.metadata.deletionTimestamp } : {}),
    };
    if (jsonEqual(obj, existing)) return clone(existing);
    const body = (o: Obj) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'metadata' && k !== 'status'));
    if (!jsonEqual(body(obj), body(existing))) obj.metadata.generation = (existing.metadata.generation ?? 1) + 1;
    obj.metadata.resourceVersion = String(++this.rv);
    const key = keyOf(resource, obj.metadata.namespace, obj.metadata.name);
    if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(key);
      this.applied.delete(key);
      this.emit('DELETED', resource, obj);
      this.collectGarbage(obj.metadata.uid);
      return clone(obj);
    }
    this.objects.set(key, obj);
    this.emit('MODIFIED', resource, obj);
    this.afterChange(resource, obj);
    return clone(obj);
  }

  /** What a write to the main endpoint or to /status may change. */
  private forSubresource(resource: ResourceType, sub: string | undefined, existing: StoredObject, body: Obj): Obj {
    if (!resource.statusSubresource) return body;
    if (sub === 'status') return { ...(clone(existing) as Obj), status: body['status'] ?? null };
    const next = { ...body };
    if (existing['status'] !== undefined) next['status'] = clone(existing['status']);
    else delete next['status'];
    return next;
  }

  private apply(resource: ResourceType, namespace: string | undefined, name: string, sub: string | undefined, body: Obj, manager: string, force: boolean): StoredObject {
    const key = keyOf(resource, namespace, name) + (sub ? `/${sub}` : '');
    const meta = (body['metadata'] ?? {}) as Meta;
    if (meta.name !== name) throw new HttpError(400, 'BadRequest', `metadata.name ${meta.name} does not match ${name}`);
    const existing = this.objects.get(keyOf(resource, namespace, name));
    if (!existing && sub) throw new HttpError(404, 'NotFound', `${resource.plural} "${name}" not found`);
    if (resource.statusSubresource) {
      if (sub === 'status') body = { apiVersion: body['apiVersion']!, kind: body['kind']!, metadata: { name, namespace: namespace ?? null }, status: body['status'] ?? {} };
      else delete body['status'];
    }
    const managers = this.applied.get(key) ?? new Map<string, Obj>();
    const { object, conflicts } = serverSideApply(existing as Obj | undefined, body, manager, managers, force);
    if (conflicts.length > 0) throw new HttpError(409, 'Conflict', `Apply failed with ${conflicts.length} conflicts: ${conflicts.join(', ')}`);
    managers.set(manager, clone(body));
    this.applied.set(key, managers);
    if (!existing) {
      object['metadata'] = { ...(object['metadata'] as object), namespace: namespace ?? null } as Json;
      return this.create(resource, object, manager);
    }
    const fields = [...managers.keys()].map((m) => ({ manager: m, operation: 'Apply', apiVersion: apiVersionOf(resource) }));
    (object['metadata'] as Meta).managedFields = fields;
    return this.store(resource, object, existing);
  }

  private deleteObject(resource: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    const key = keyOf(resource, namespace, name);
    const existing = this.objects.get(key);
    if (!existing) return undefined;
    if ((existing.metadata.finalizers ?? []).length > 0) {
      if (existing.metadata.deletionTimestamp) return clone(existing);
      const marked = clone(existing);
      marked.metadata.deletionTimestamp = new Date().toISOString();
      marked.metadata.resourceVersion = String(++this.rv);
      this.objects.set(key, marked);
      this.emit('MODIFIED', resource, marked);
      return clone(marked);
    }
    this.objects.delete(key);
    this.applied.delete(key);
    this.applied.delete(`${key}/status`);
    existing.metadata.resourceVersion = String(++this.rv);
    this.emit('DELETED', resource, existing);
    this.collectGarbage(existing.metadata.uid);
    return undefined;
  }

  /** Background garbage collection: dependents whose owners are all gone are deleted. */
  private collectGarbage(uid: string): void {
    const live = new Set([...this.objects.values()].map((o) => o.metadata.uid));
    for (const o of [...this.objects.values()]) {
      const owners = o.metadata.ownerReferences ?? [];
      if (owners.some((ref) => ref.uid === uid) && owners.every((ref) => !live.has(ref.uid))) {
        this.deleteObject(this.resourceByKind(String(o['kind'])), o.metadata.namespace, o.metadata.name);
      }
    }
  }

  /** The StatefulSet controller and kubelet, reduced to: pods 0..replicas-1 exist and are ready. */
  private afterChange(resource: ResourceType, obj: StoredObject): void {
    if (!this.options.simulateStatefulSets || resource.kind !== 'StatefulSet') return;
    const spec = obj['spec'] as { replicas?: number; template: { metadata?: { labels?: Record<string, string> } } };
    const replicas = spec.replicas ?? 1;
    const podResource = this.resourceByKind('Pod');
    const ns = obj.metadata.namespace;
    for (let i = 0; i < replicas; i++) {
      const podName = `${obj.metadata.name}-${i}`;
      if (this.objects.has(keyOf(podResource, ns, podName))) continue;
      this.create(podResource, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: podName,
          namespace: ns ?? null,
          labels: { ...(spec.template.metadata?.labels ?? {}), 'statefulset.kubernetes.io/pod-name': podName },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: obj.metadata.name, uid: obj.metadata.uid, controller: true }],
        } as unknown as Json,
        spec: spec.template as unknown as Json,
        status: { phase: 'Running', podIP: `10.1.0.${i + 10}`, hostIP: '192.168.0.2', conditions: [{ type: 'Ready', status: 'True' }] },
      });
    }
    for (const pod of this.list('Pod', ns)) {
      const owner = pod.metadata.ownerReferences?.find((r) => r.uid === obj.metadata.uid);
      const ordinal = Number(pod.metadata.name.slice(obj.metadata.name.length + 1));
      if (owner && ordinal >= replicas) this.deleteObject(podResource, ns, pod.metadata.name);
    }
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendError(_req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', String(err instanceof Error ? err.stack : err));
    if (res.headersSent) {
      res.end();
      return;
    }
    this.sendJson(res, e.code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const text = await readBody(req);
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new HttpError(400, 'BadRequest', 'body is not JSON');
  }
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: Json, patch: Json): Json {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Obj = typeof target === 'object' && target !== null && !Array.isArray(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}
