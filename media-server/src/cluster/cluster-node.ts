// This node's place in the cluster: the dist listener and port mapper registration, links to the other nodes
// (found by the NODES_LIST or DNS strategy, and transitively through the members each node reports), load reports
// pushed about every second, request/response calls over the links, and which node holds which room.
import { EventEmitter } from 'node:events';
import dns from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import type { DistConfig } from '../config/config.js';
import { DistLink, HandshakeInbox, acceptHandshake, initiateHandshake, type DistMessage } from './dist-link.js';
import { parseNodeName, withHost, type NodeName } from './node-name.js';
import type { LoadReport, NodeState } from './placement.js';
import { lookupPort, registerWithPortMapper, type PortMapperHandle } from './port-mapper.js';

export interface LocalLoad {
  state: NodeState;
  rooms: number;
  peers: number;
  forwardedTracks: number;
  cpu: number;
  roomIds: string[];
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
}

export type RpcHandler = (params: unknown, from: string) => Promise<unknown>;

export class RpcError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Known {
  report: LoadReport | undefined;
  roomIds: Set<string>;
  /** last time the node was linked or reported */
  seenAt: number;
}

export class ClusterNode extends EventEmitter<{ message: [DistMessage, string]; linkUp: [string]; linkDown: [string] }> {
  self!: NodeName;
  distPort = 0;
  private readonly links = new Map<string, DistLink>();
  private readonly known = new Map<string, Known>();
  /** nodes this node keeps trying to reach: listed, found in DNS, or reported by others */
  private readonly wanted = new Set<string>();
  private readonly dialing = new Set<string>();
  /** DNS strategy: the nodes the last DNS answer named; nobody else is let in, dialed or learnt from others */
  private dnsFound: Set<string> | undefined;
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
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
    for (const n of dist.nodes) if (n !== self.full) this.wanted.add(n);
    logger.info({ node: self.full, distPort: this.distPort, strategy: dist.strategy, tls: Boolean(dist.tls) }, 'distribution started');
    this.every(this.options.reportIntervalMs, () => this.broadcastLoad());
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

  /** Calls `method` on `node`; rejects if the link is down, on timeout, or with the remote RpcError. */
  request(node: string, method: string, params: unknown, timeoutMs = 5000): Promise<unknown> {
    const link = this.links.get(node);
    if (!link?.open) return Promise.reject(new Error(`no link to ${node}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} on ${node} timed out`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      link.send({ t: 'req', id, method, params });
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

  linkedNodes(): string[] {
    return [...this.links.entries()].filter(([, l]) => l.open).map(([n]) => n);
  }

  isLinked(node: string): boolean {
    return this.links.get(node)?.open ?? false;
  }

  /** Known and not (yet) considered gone: its rooms answer 503 while unreachable. */
  isKnown(node: string): boolean {
    return node === this.self.full || this.known.has(node) || this.wanted.has(node);
  }

  reports(): LoadReport[] {
    const out: LoadReport[] = [];
    for (const [node, k] of this.known) if (k.report && this.isLinked(node)) out.push(k.report);
    return out;
  }

  /** The node that reported holding a room with this id (for ids chosen by clients). */
  holderOf(roomId: string): string | undefined {
    for (const [node, k] of this.known) if (k.roomIds.has(roomId)) return node;
    return undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const link of this.links.values()) link.close();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('cluster stopped'));
    }
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
    this.wss = new WebSocketServer({ server, maxPayload: 16 * 1024 * 1024 });
    this.wss.on('connection', (socket) => {
      acceptHandshake(socket, this.self.full, dist.cookie).then(
        (peer) => this.adopt(new DistLink(peer, socket, false)),
        (error: Error) => {
          this.options.logger.warn({ err: error.message }, 'refused a node connection');
          socket.terminate();
        },
      );
    });
  }

  private dialWanted(): void {
    if (this.stopped) return;
    for (const node of this.wanted) {
      if (node === this.self.full || this.isLinked(node) || this.dialing.has(node)) continue;
      this.dialing.add(node);
      void this.dial(node).finally(() => this.dialing.delete(node));
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
      const peer = await initiateHandshake(socket, inbox, this.self.full, this.options.dist.cookie);
      if (peer !== node) {
        // Known from now on under the name it gave (e.g. a host name that resolved to its IP).
        this.options.logger.info({ dialed: node, answered: peer }, 'node answered under another name');
        if (!this.options.dist.nodes.includes(node)) this.wanted.delete(node);
      }
      this.adopt(new DistLink(peer, socket, true));
    } catch (error) {
      this.options.logger.debug({ node, err: (error as Error).message }, 'cannot reach node yet');
    }
  }

  /** One link per pair of nodes: when both dialed at once, the link dialed by the smaller name stays. */
  private adopt(link: DistLink): void {
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
    this.wanted.add(link.peer);
    link.on('message', (message) => this.onMessage(link.peer, message));
    link.on('close', () => {
      if (this.links.get(link.peer) !== link) return;
      this.links.delete(link.peer);
      this.options.logger.warn({ node: link.peer }, 'node link closed');
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`link to ${link.peer} closed`));
        this.pending.delete(id);
      }
      this.emit('linkDown', link.peer);
    });
    this.options.logger.info({ node: link.peer }, 'node connected');
    this.emit('linkUp', link.peer);
    link.send(this.loadMessage());
  }

  // --- messages -----------------------------------------------------------------------------------------------

  private onMessage(from: string, message: DistMessage): void {
    if (message.t === 'load') return this.onLoad(from, message);
    if (message.t === 'req') return void this.onRpc(from, message);
    if (message.t === 'res') {
      const p = this.pending.get(message.id as number);
      if (!p) return;
      this.pending.delete(message.id as number);
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
    const reply = (body: Record<string, unknown>): void => void this.send(from, { t: 'res', id: message.id, ...body });
    if (!handler) return reply({ ok: false, error: { status: 501, message: `unknown method ${String(message.method)}` } });
    try {
      reply({ ok: true, result: await handler(message.params, from) });
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      reply({ ok: false, error: { status, message: (error as Error).message } });
    }
  }

  private onLoad(from: string, message: DistMessage): void {
    const r = message.report as Omit<LoadReport, 'receivedAt' | 'node'>;
    const known = this.touch(from);
    known.report = { ...r, node: from, receivedAt: Date.now() };
    known.roomIds = new Set(message.roomIds as string[]);
    this.emit('message', message, from);
    // Membership is transitive: every node another node is linked to is wanted here too.
    for (const member of (message.members as string[]) ?? []) {
      if (member === this.self.full || this.wanted.has(member) || !parseNodeName(member)) continue;
      if (this.dnsFound && !this.dnsFound.has(member)) continue;
      this.wanted.add(member);
    }
  }

  private loadMessage(): DistMessage {
    const load = this.options.localLoad();
    return {
      t: 'load',
      report: { host: this.options.publicHost, state: load.state, rooms: load.rooms, peers: load.peers, forwardedTracks: load.forwardedTracks, cpu: load.cpu },
      roomIds: load.roomIds,
      members: this.linkedNodes(),
    };
  }

  /** Sends this node's load now (also called when its state changes, so placement sees it at once). */
  broadcastLoad(): void {
    if (this.links.size > 0) this.broadcast(this.loadMessage());
  }

  private touch(node: string): Known {
    let k = this.known.get(node);
    if (!k) this.known.set(node, (k = { report: undefined, roomIds: new Set(), seenAt: Date.now() }));
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
    for (const node of found) if (!this.wanted.has(node)) this.wanted.add(node);
    // Nodes gone from DNS are dropped (the original's DNS strategy prunes them too).
    for (const node of [...this.wanted]) {
      if (found.has(node)) continue;
      this.wanted.delete(node);
      this.known.delete(node);
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
