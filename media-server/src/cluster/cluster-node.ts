// This node's place in the cluster: the dist listener and port mapper registration, links to the other nodes
// (found by the NODES_LIST or DNS strategy, and transitively through the members each node reports), load reports,
// and request/response calls over the links.
// Membership: a node is a member exactly while its link is open and alive (heartbeats, dist-link.ts) and its load is
// known (the first report rides in the handshake). Members are what /health counts and what placement may use.
// Load reports are O(1) in rooms (a few numbers), sent when they change (checked every report interval) and at least
// every REFRESH_MS; the members list goes out only when it changed, at most once per MEMBERS_BATCH_MS.
// Dialing is paced so that forming or healing a large cluster cannot collapse under its own retries: at most
// MAX_DIALS dials at once, a node that cannot be reached is retried with backoff, and a node first heard of through
// another member's list is dialed only by the smaller name of the pair (the other waits FIRST_CONTACT_GRACE_MS), so
// a pair opens one link, not two of which one is thrown away.
import { EventEmitter } from 'node:events';
import dns from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import type { DistConfig } from '../config/config.js';
import { DIST_MAX_PAYLOAD, DistLink, HandshakeInbox, PayloadTooLargeError, acceptHandshake, initiateHandshake, type DistMessage, type LinkTimings } from './dist-link.js';
import { parseNodeName, withHost, type NodeName } from './node-name.js';
import type { LoadReport, NodeState } from './placement.js';
import { lookupPort, registerWithPortMapper, type PortMapperHandle } from './port-mapper.js';

export interface LocalLoad {
  state: NodeState;
  rooms: number;
  peers: number;
  forwardedTracks: number;
  cpu: number;
  /** share of the node's cores its component processes use, 0..1 */
  componentCpu?: number;
  /** forwarded tracks its workers can take */
  capacity?: number;
  /** not sent: reports stay O(1) in rooms */
  roomIds?: string[];
}

export interface ClusterNodeOptions {
  readonly dist: DistConfig;
  readonly bindIp: string;
  readonly publicHost: string;
  readonly portMapperPort: number;
  readonly reportIntervalMs: number;
  /** a node that sent nothing for this long is out of placement */
  readonly staleAfterMs: number;
  /** a node unreachable for this long has left (its rooms are then 404, not 503) */
  readonly leftAfterMs: number;
  readonly localLoad: () => LocalLoad;
  readonly logger: Logger;
  /** heartbeats of the links (default DEFAULT_LINK_TIMINGS: silent for 2 s = gone) */
  readonly linkTimings?: LinkTimings;
  /** whether this node has server-notification subscribers: others send it their notifications only then */
  readonly wantsNotifications?: () => boolean;
}

/** A full report goes out at least this often even when nothing changed. */
const REFRESH_MS = 10_000;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * `replyable()` tells whether the answer can still reach the caller (the link it came on is still up); `cancelled` is
 * aborted when the caller gave up (it sent `cancel`: its client hung up) or the link closed.
 */
export type RpcHandler = (params: unknown, from: string, replyable: () => boolean, cancelled: AbortSignal) => Promise<unknown>;

/** A call the other node did not answer within its deadline. */
export class RpcTimeoutError extends Error {}

export class RpcError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Known {
  report: Omit<LoadReport, 'receivedAt'> | undefined;
  /** it has server-notification subscribers */
  subscribed: boolean;
  /** last time the node was linked or reported */
  seenAt: number;
}

/** Membership changes within this long go out as one members list (a join links to every node within moments). */
const MEMBERS_BATCH_MS = 50;
/** Dials in flight at most: a node learning of 99 members does not open 99 connections (and port mapper lookups) at once. */
const MAX_DIALS = 16;
/** A node first heard of from another member's list, whose name is smaller than ours, dials us; we dial it only
 *  when no link came within this long. */
const FIRST_CONTACT_GRACE_MS = 2000;
/** Retry delay after the n-th failed dial in a row: 1 s, 2 s, 4 s, then this at most (± 25 %, so retries spread). */
const MAX_DIAL_BACKOFF_MS = 5000;
/** Nodes learned from other members' lists, kept at most (a cluster is designed for hundreds of nodes; a member list
 *  from a confused or hostile peer must not grow the dial set, and the dials, without bound). */
const MAX_GOSSIPED_WANTED = 1024;

interface Wanted {
  /** not dialed before this time (backoff, or first-contact grace) */
  notBefore: number;
  /** failed dials in a row */
  failures: number;
  /** learned only from another member's list (not listed, not found in DNS, never linked): since when */
  gossipedSince?: number;
}

export function dialBackoffMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DIAL_BACKOFF_MS, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

export class ClusterNode extends EventEmitter<{ message: [DistMessage, string]; linkUp: [string]; linkDown: [string]; load: [string]; left: [string] }> {
  self!: NodeName;
  distPort = 0;
  private readonly links = new Map<string, DistLink>();
  private readonly known = new Map<string, Known>();
  /** nodes this node keeps trying to reach: listed, found in DNS, or reported by others */
  private readonly wanted = new Map<string, Wanted>();
  private readonly dialing = new Set<string>();
  /** dials started so far (for the simulation and tests: how much work forming the cluster took) */
  dialsStarted = 0;
  private gossipWarnedAt = 0;
  private membersTimer: NodeJS.Timeout | undefined;
  /** DNS strategy: the nodes the last DNS answer named; nobody else is let in, dialed or learnt from others */
  private dnsFound: Set<string> | undefined;
  private readonly handlers = new Map<string, RpcHandler>();
  /** calls in flight, per node: a link that closes fails only its own */
  private readonly pending = new Map<string, Map<number, Pending>>();
  /** calls being served here, per calling node: a `cancel` from it, or its link closing, aborts them */
  private readonly serving = new Map<string, Map<unknown, AbortController>>();
  private nextId = 1;
  private lastSent: { key: string; members: string; at: number } = { key: '', members: '', at: 0 };
  /** the members each linked node last said it is linked to */
  private readonly memberLists = new Map<string, Set<string>>();
  /** bytes sent and received on links that have closed (open links count their own) */
  private closedBytes = { in: 0, out: 0 };
  private timers: NodeJS.Timeout[] = [];
  private server: http.Server | https.Server | undefined;
  private wss: WebSocketServer | undefined;
  private mapper: PortMapperHandle | undefined;
  private stopped = false;

  constructor(private readonly options: ClusterNodeOptions) {
    super();
  }

  async start(): Promise<void> {
    const { dist, logger } = this.options;
    let self = parseNodeName(dist.nodeName);
    if (!self) throw new Error(`FJ_DIST_NODE_NAME has to be in form of <nodename>@<hostname>. Got: ${dist.nodeName}`);
    if (dist.strategy === 'DNS') self = withHost(self, await resolveIp(self.host));
    this.self = self;
    await this.listen();
    this.mapper = await registerWithPortMapper({ name: self.name, port: this.distPort, mapperPort: this.options.portMapperPort, bindIp: this.options.bindIp, logger });
    for (const n of dist.nodes) if (n !== self.full) this.want(n);
    logger.info({ node: self.full, distPort: this.distPort, strategy: dist.strategy, tls: Boolean(dist.tls) }, 'distribution started');
    this.every(this.options.reportIntervalMs, () => this.broadcastLoad(false));
    this.every(1000, () => this.dialWanted());
    this.every(1000, () => this.forgetLeft());
    if (dist.strategy === 'DNS') {
      await this.pollDns();
      this.every(dist.pollingIntervalMs, () => void this.pollDns());
    }
    this.dialWanted();
  }

  onRequest(method: string, handler: RpcHandler): void {
    this.handlers.set(method, handler);
  }

  /**
   * Calls `method` on `node`; rejects if the link is down or closes, on timeout (RpcTimeoutError), or with the remote
   * RpcError. `signal` gives up early (its reason is the rejection) and tells the other node to stop serving the call.
   */
  request(node: string, method: string, params: unknown, timeoutMs = 5000, signal?: AbortSignal): Promise<unknown> {
    const link = this.links.get(node);
    if (!link?.open) return Promise.reject(new Error(`no link to ${node}`));
    if (signal?.aborted) return Promise.reject(new Error(`${method} on ${node} given up`));
    const id = this.nextId++;
    let calls = this.pending.get(node);
    if (!calls) this.pending.set(node, (calls = new Map()));
    const inFlight = calls;
    return new Promise((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        inFlight.delete(id);
      };
      const onAbort = () => {
        settle();
        if (link.open) link.send({ t: 'cancel', id });
        reject(new Error(`${method} on ${node} given up`));
      };
      const timer = setTimeout(() => {
        settle();
        if (link.open) link.send({ t: 'cancel', id });
        reject(new RpcTimeoutError(`${method} on ${node} timed out`));
      }, timeoutMs);
      inFlight.set(id, {
        resolve: (v) => (settle(), resolve(v)),
        reject: (e) => (settle(), reject(e)),
        timer,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        link.send({ t: 'req', id, method, params });
      } catch (error) {
        settle();
        reject(error as Error);
      }
    });
  }

  send(node: string, message: DistMessage): boolean {
    const link = this.links.get(node);
    if (!link?.open) return false;
    link.send(message);
    return true;
  }

  broadcast(message: DistMessage): void {
    for (const link of this.links.values()) link.send(message);
  }

  /** Sends to the members that have server-notification subscribers (and to nobody else). */
  sendToSubscribers(message: DistMessage): void {
    for (const [node, link] of this.links) if (this.known.get(node)?.subscribed) link.send(message);
  }

  /** The members: linked, alive and with known load. What /health counts and what placement may use. */
  linkedNodes(): string[] {
    return [...this.links.entries()].filter(([n, l]) => l.open && this.known.get(n)?.report !== undefined).map(([n]) => n);
  }

  isLinked(node: string): boolean {
    return this.links.get(node)?.open ?? false;
  }

  /**
   * Whether a member this node is linked to says it is linked to `node`: then `node` is alive and a link to it is
   * about to come up here (membership is transitive), as right after it (re)joined through another node.
   */
  linkedElsewhere(node: string): boolean {
    for (const [member, list] of this.memberLists) if (this.isLinked(member) && list.has(node)) return true;
    return false;
  }

  /**
   * Resolves true once a link to `node` is up (at once if it is); false as soon as no member reports it any more (it
   * died or froze: no reason to wait), or after `timeoutMs`.
   */
  async waitForLink(node: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isLinked(node)) {
      if (Date.now() >= deadline || !this.linkedElsewhere(node)) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }

  /** Bytes of dist messages sent and received so far (JSON text and heartbeat frames, without TCP/TLS overhead). */
  traffic(): { in: number; out: number } {
    let [i, o] = [this.closedBytes.in, this.closedBytes.out];
    for (const l of this.links.values()) [i, o] = [i + l.bytesIn, o + l.bytesOut];
    return { in: i, out: o };
  }

  /** Known and not (yet) considered gone: its rooms answer 503 while unreachable. */
  isKnown(node: string): boolean {
    return node === this.self.full || this.known.has(node) || this.wanted.has(node);
  }

  /** The members' load (reports are sent on change, so the last one holds while the link lives). */
  reports(): LoadReport[] {
    const out: LoadReport[] = [];
    for (const [node, link] of this.links) {
      const report = this.known.get(node)?.report;
      // an open link is an alive one (silent links are closed): the report is current, as membership says
      if (report && link.open) out.push({ ...report, receivedAt: Date.now() });
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.membersTimer);
    for (const link of this.links.values()) link.close();
    for (const calls of this.pending.values()) {
      for (const p of calls.values()) {
        clearTimeout(p.timer);
        p.reject(new Error('cluster stopped'));
      }
    }
    this.pending.clear();
    this.mapper?.close();
    for (const client of this.wss?.clients ?? []) client.terminate();
    this.wss?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // --- links ------------------------------------------------------------------------------------------------

  private async listen(): Promise<void> {
    const { dist, bindIp } = this.options;
    const tls = dist.tls;
    const server = tls
      ? https.createServer({ cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath), ...(tls.caPath ? { ca: readFileSync(tls.caPath) } : {}) })
      : http.createServer();
    server.on('request', (_req, res) => res.writeHead(426).end('distribution endpoint\n'));
    const ports = dist.minPort !== undefined && dist.maxPort !== undefined ? range(dist.minPort, dist.maxPort) : [0];
    for (const port of ports) {
      const ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, bindIp, () => resolve(true));
      });
      if (ok) break;
    }
    if (!server.listening) throw new Error(`no free distribution port in ${ports[0]}..${ports[ports.length - 1]}`);
    this.server = server;
    this.distPort = (server.address() as AddressInfo).port;
    this.wss = new WebSocketServer({ server, maxPayload: DIST_MAX_PAYLOAD });
    this.wss.on('connection', (socket) => {
      acceptHandshake(socket, this.self.full, dist.cookie, () => this.hello()).then(
        ({ peer, hello }) => this.adopt(new DistLink(peer, socket, false, this.options.linkTimings), hello),
        (error: Error) => {
          this.options.logger.warn({ err: error.message }, 'refused a node connection');
          socket.terminate();
        },
      );
    });
  }

  /** A listed or DNS-found node: wanted for good (also when first heard of through a member list). */
  private want(node: string, notBefore = 0): void {
    const w = this.wanted.get(node);
    if (w) delete w.gossipedSince;
    else this.wanted.set(node, { notBefore, failures: 0 });
  }

  /** A node only heard of through a member list: wanted unless too many such are wanted already. */
  private wantGossiped(node: string, notBefore: number): boolean {
    if (this.wanted.has(node)) return false;
    if (this.gossipedWanted() >= MAX_GOSSIPED_WANTED) {
      if (Date.now() - this.gossipWarnedAt > 60_000) {
        this.gossipWarnedAt = Date.now();
        this.options.logger.warn({ limit: MAX_GOSSIPED_WANTED }, 'too many nodes heard of only through member lists: ignoring more');
      }
      return false;
    }
    this.wanted.set(node, { notBefore, failures: 0, gossipedSince: Date.now() });
    return true;
  }

  /** Wanted nodes heard of only through member lists (bounded by MAX_GOSSIPED_WANTED). */
  gossipedWanted(): number {
    let n = 0;
    for (const w of this.wanted.values()) if (w.gossipedSince !== undefined) n++;
    return n;
  }

  private dialWanted(): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const [node, w] of this.wanted) {
      if (this.dialing.size >= MAX_DIALS) return;
      if (node === this.self.full || now < w.notBefore || this.isLinked(node) || this.dialing.has(node)) continue;
      this.dialing.add(node);
      this.dialsStarted++;
      void this.dial(node).then(() => {
        this.dialing.delete(node);
        const state = this.wanted.get(node);
        // Not linked under this name (unreachable, refused, or it answered under another name): back off, also so
        // that the dial started just below cannot be this one again at once.
        if (state && !this.isLinked(node)) {
          state.failures++;
          state.notBefore = Date.now() + dialBackoffMs(state.failures);
          // Heard of only through a member list and unreachable ever since, for as long as a node that left takes to
          // be forgotten: given up (a member that still lists it brings it back, to be tried again).
          if (state.gossipedSince !== undefined && Date.now() - state.gossipedSince > this.options.leftAfterMs) this.wanted.delete(node);
        }
        // a slot is free: the next waiting node need not wait for the next round
        this.dialWanted();
      });
    }
  }

  private async dial(node: string): Promise<void> {
    const name = parseNodeName(node);
    if (!name) return;
    try {
      const port = await lookupPort(name.host, name.name, this.options.portMapperPort);
      const scheme = this.options.dist.tls ? 'wss' : 'ws';
      const tls = this.options.dist.tls;
      const socket = new WebSocket(`${scheme}://${formatHost(name.host)}:${port}/dist`, {
        handshakeTimeout: 3000,
        maxPayload: DIST_MAX_PAYLOAD,
        // With FJ_DIST_TLS_CA_PATH the other node's certificate must chain to that CA (its name is not checked:
        // nodes are addressed by IP, and the cookie proves membership); without it TLS only encrypts.
        ...(tls
          ? {
              cert: readFileSync(tls.certPath),
              key: readFileSync(tls.keyPath),
              ...(tls.caPath ? { ca: readFileSync(tls.caPath) } : {}),
              rejectUnauthorized: Boolean(tls.caPath),
              checkServerIdentity: () => undefined,
            }
          : {}),
      } as WebSocket.ClientOptions);
      const inbox = new HandshakeInbox(socket);
      socket.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      const { peer, hello } = await initiateHandshake(socket, inbox, this.self.full, this.options.dist.cookie, () => this.hello());
      if (peer !== node) {
        // Known from now on under the name it gave (e.g. a host name that resolved to its IP).
        this.options.logger.info({ dialed: node, answered: peer }, 'node answered under another name');
        if (!this.options.dist.nodes.includes(node)) this.wanted.delete(node);
      }
      this.adopt(new DistLink(peer, socket, true, this.options.linkTimings), hello);
    } catch (error) {
      this.options.logger.debug({ node, err: (error as Error).message }, 'cannot reach node yet');
    }
  }

  /** One link per pair of nodes: when both dialed at once, the link dialed by the smaller name stays. */
  private adopt(link: DistLink, hello: unknown): void {
    // With DNS, DNS decides membership: a node gone from it must not come back by dialing us.
    if (this.dnsFound && !this.dnsFound.has(link.peer)) return link.close();
    const existing = this.links.get(link.peer);
    if (existing?.open) {
      const keepNew = (link.initiatedHere ? this.self.full : link.peer) < (existing.initiatedHere ? this.self.full : link.peer);
      if (!keepNew) return link.close();
      existing.removeAllListeners('close');
      existing.close();
    }
    this.links.set(link.peer, link);
    this.touch(link.peer);
    // Linked: redialed at once (no grace, no backoff) should the link drop.
    this.wanted.set(link.peer, { notBefore: 0, failures: 0 });
    // Its load came with the handshake: it is a member (and placement may use it) from this moment.
    if (hello && typeof hello === 'object') this.onLoad(link.peer, { t: 'load', ...(hello as Record<string, unknown>) });
    link.on('message', (message) => this.onMessage(link.peer, message));
    link.on('close', () => {
      this.closedBytes.in += link.bytesIn;
      this.closedBytes.out += link.bytesOut;
      if (this.links.get(link.peer) !== link) return;
      this.links.delete(link.peer);
      this.memberLists.delete(link.peer);
      this.options.logger.warn({ node: link.peer, reason: link.closeReason }, 'node link closed');
      const calls = this.pending.get(link.peer);
      this.pending.delete(link.peer);
      for (const p of calls?.values() ?? []) {
        clearTimeout(p.timer);
        p.reject(new Error(`link to ${link.peer} closed`));
      }
      // nobody is left to answer: what this node serves for it stops (a blocked wait, a file being read)
      const served = this.serving.get(link.peer);
      this.serving.delete(link.peer);
      for (const c of served?.values() ?? []) c.abort();
      this.emit('linkDown', link.peer);
      // The others learn within MEMBERS_BATCH_MS that this member is gone from here (they may be waiting for a link to it).
      this.membersChanged();
    });
    this.options.logger.info({ node: link.peer }, 'node connected');
    this.emit('linkUp', link.peer);
    // The others learn of the new member within MEMBERS_BATCH_MS (transitive membership).
    this.membersChanged();
  }

  // --- messages -----------------------------------------------------------------------------------------------

  private onMessage(from: string, message: DistMessage): void {
    if (message.t === 'load') return this.onLoad(from, message);
    if (message.t === 'req') return void this.onRpc(from, message);
    if (message.t === 'cancel') return this.serving.get(from)?.get(message.id)?.abort();
    if (message.t === 'res') {
      const calls = this.pending.get(from);
      const p = calls?.get(message.id as number);
      if (!p) return;
      calls!.delete(message.id as number);
      clearTimeout(p.timer);
      if (message.ok) p.resolve(message.result);
      else {
        const e = message.error as { status?: number; message?: string };
        p.reject(new RpcError(e.status ?? 500, e.message ?? 'remote error'));
      }
      return;
    }
    this.emit('message', message, from);
  }

  private async onRpc(from: string, message: DistMessage): Promise<void> {
    const handler = this.handlers.get(String(message.method));
    const reply = (body: Record<string, unknown>): void => {
      try {
        this.send(from, { t: 'res', id: message.id, ...body });
      } catch (error) {
        if (!(error instanceof PayloadTooLargeError)) throw error;
        this.send(from, { t: 'res', id: message.id, ok: false, error: { status: 500, message: `reply to ${String(message.method)} too large (${error.bytes} bytes)` } });
      }
    };
    if (!handler) return reply({ ok: false, error: { status: 501, message: `unknown method ${String(message.method)}` } });
    const link = this.links.get(from);
    const replyable = () => link !== undefined && link.open && this.links.get(from) === link;
    if (!replyable()) return;
    // Bounded by what the other node has in flight (its own deadlines); removed when the handler ends.
    let served = this.serving.get(from);
    if (!served) this.serving.set(from, (served = new Map()));
    const cancel = new AbortController();
    served.set(message.id, cancel);
    try {
      const result = await handler(message.params, from, replyable, cancel.signal);
      if (!cancel.signal.aborted) reply({ ok: true, result });
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      if (!cancel.signal.aborted) reply({ ok: false, error: { status, message: (error as Error).message } });
    } finally {
      if (served.get(message.id) === cancel) served.delete(message.id);
      if (served.size === 0 && this.serving.get(from) === served) this.serving.delete(from);
    }
  }

  private onLoad(from: string, message: DistMessage): void {
    const r = message.report as Omit<LoadReport, 'receivedAt' | 'node'> | undefined;
    if (!r || typeof r !== 'object') return;
    const known = this.touch(from);
    known.report = { host: String(r.host), state: r.state, rooms: num(r.rooms), peers: num(r.peers), forwardedTracks: num(r.forwardedTracks), cpu: num(r.cpu), componentCpu: num(r.componentCpu), capacity: num(r.capacity), node: from };
    known.subscribed = message.subs === true;
    this.emit('load', from);
    this.emit('message', message, from);
    if (Array.isArray(message.members)) {
      this.memberLists.set(from, new Set((message.members as unknown[]).filter((m): m is string => typeof m === 'string').slice(0, MAX_GOSSIPED_WANTED)));
    }
    // Membership is transitive: every node another node is linked to is wanted here too. It has heard of us as well
    // (from the same member): the smaller name of the pair dials, the other only if no link came within the grace.
    let dialNow = false;
    for (const member of Array.isArray(message.members) ? (message.members as unknown[]) : []) {
      if (typeof member !== 'string') continue;
      if (member === this.self.full || this.wanted.has(member) || !parseNodeName(member)) continue;
      if (this.dnsFound && !this.dnsFound.has(member)) continue;
      const waits = member < this.self.full;
      if (this.wantGossiped(member, waits ? Date.now() + FIRST_CONTACT_GRACE_MS : 0) && !waits) dialNow = true;
    }
    // new members to dial now: no need to wait for the next dial round
    if (dialNow) this.dialWanted();
  }

  /** Membership changed: the members list goes out once the changes of the next MEMBERS_BATCH_MS are in. */
  private membersChanged(): void {
    if (this.membersTimer !== undefined || this.stopped) return;
    this.membersTimer = setTimeout(() => {
      this.membersTimer = undefined;
      this.broadcastLoad(false);
    }, MEMBERS_BATCH_MS);
    this.membersTimer.unref();
  }

  private report(): { report: Record<string, unknown>; subs: boolean } {
    const load = this.options.localLoad();
    return {
      report: {
        host: this.options.publicHost,
        state: load.state,
        rooms: load.rooms,
        peers: load.peers,
        forwardedTracks: load.forwardedTracks,
        cpu: Math.round(load.cpu * 100) / 100,
        componentCpu: Math.round((load.componentCpu ?? 0) * 100) / 100,
        capacity: load.capacity ?? 0,
      },
      subs: this.options.wantsNotifications?.() ?? true,
    };
  }

  /** What this node sends in the handshake: its load and its members. */
  private hello(): Record<string, unknown> {
    return { ...this.report(), members: this.linkedNodes() };
  }

  /**
   * Sends this node's load to every member. `force` (the default: state changes, subscriptions) sends it now; the
   * periodic call sends only when something changed (CPU in steps of 0.05) or REFRESH_MS passed.
   */
  broadcastLoad(force = true): void {
    if (this.links.size === 0) return;
    const { report, subs } = this.report();
    const key = JSON.stringify([report.state, report.rooms, report.peers, report.forwardedTracks, Math.round(Number(report.cpu) * 20), Math.round(Number(report.componentCpu) * 20), report.capacity, subs]);
    const members = this.linkedNodes().sort().join(' ');
    const now = Date.now();
    const membersChanged = members !== this.lastSent.members;
    const refresh = now - this.lastSent.at >= REFRESH_MS;
    if (!force && key === this.lastSent.key && !membersChanged && !refresh) return;
    this.lastSent = { key, members, at: now };
    this.broadcast({ t: 'load', report, subs, ...(membersChanged || refresh ? { members: this.linkedNodes() } : {}) });
  }

  private touch(node: string): Known {
    let k = this.known.get(node);
    if (!k) this.known.set(node, (k = { report: undefined, subscribed: false, seenAt: Date.now() }));
    k.seenAt = Date.now();
    return k;
  }

  /** Nodes unreachable for longer than leftAfterMs have left: forgotten (listed nodes are still dialed). */
  private forgetLeft(): void {
    const now = Date.now();
    for (const [node, k] of this.known) {
      if (this.isLinked(node)) {
        k.seenAt = now;
        continue;
      }
      if (now - k.seenAt > this.options.leftAfterMs) {
        this.known.delete(node);
        if (!this.options.dist.nodes.includes(node) && this.options.dist.strategy !== 'DNS') this.wanted.delete(node);
        this.options.logger.info({ node }, 'node left the cluster');
        this.emit('left', node);
      }
    }
  }

  // --- DNS strategy -----------------------------------------------------------------------------------------

  private async pollDns(): Promise<void> {
    const query = this.options.dist.query!;
    let ips: string[];
    try {
      ips = await dns.resolve4(query);
    } catch (error) {
      this.options.logger.warn({ query, err: (error as Error).message }, 'DNS query for cluster nodes failed');
      return;
    }
    const found = new Set(ips.map((ip) => `${this.self.name}@${ip}`));
    found.delete(this.self.full);
    this.dnsFound = found;
    for (const node of found) this.want(node);
    // Nodes gone from DNS are dropped (the original's DNS strategy prunes them too).
    for (const node of [...this.wanted.keys()]) {
      if (found.has(node)) continue;
      this.wanted.delete(node);
      if (this.known.delete(node)) this.emit('left', node);
      const link = this.links.get(node);
      if (link) {
        this.options.logger.info({ node }, 'node gone from DNS: disconnecting');
        link.close();
      }
    }
    this.dialWanted();
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let p = from; p <= to; p++) out.push(p);
  return out;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function resolveIp(host: string): Promise<string> {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host;
  const { address } = await dns.lookup(host, { family: 4 });
  return address;
}
