// The node's integrated TURN server. Fishjam's web SDK only uses relay candidates (iceTransportPolicy "relay") from
// the TURN servers the server names in offerData, so every node runs one: coturn (Debian package `coturn`) as a
// child process with a random shared secret, relaying only to this node's own WebRTC addresses (never an open relay,
// and UDP only: see coturn-config.ts for what it can and cannot restrict). It is restarted if it dies.
// Behind one cluster-wide TURN entry (Kubernetes PodNetwork mode: a Service in front of every node's TURN port) the
// nodes share one secret (FJ_WEBRTC_TURN_SECRET) and each relays to the cluster's pod network too, so a client whose
// allocation lands on any node reaches the node that holds its room.
//
// The secret never appears on a command line (any local user reads those with `ps`) nor in coturn's environment:
// coturn reads it from a configuration file with mode 0600 in a private directory (mkdtemp, 0700), which is removed
// when the TURN server stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { coturnConfig } from './coturn-config.js';
import { cidrRange } from './peer-cidr.js';
import { exposedUdpSockets, type PortRange } from './udp-exposure.js';

export interface TurnServerOptions {
  readonly binary: string;
  readonly listenIp: string;
  /** what clients are told (the address they reach the TURN server at) */
  readonly announcedIp: string;
  /** first port tried for the TURN listener (UDP and TCP); the next free one is taken */
  readonly port: number;
  readonly relayMinPort: number;
  readonly relayMaxPort: number;
  /** the only peers the relay may send to: this node's WebRTC addresses */
  readonly allowedPeerIps: readonly string[];
  /**
   * Networks the relay may also send to: the cluster's media pods when one TURN entry (a Service) serves every node,
   * so a client whose allocation lands on this node reaches a room on another. IPv4 CIDRs, validated by the config.
   */
  readonly allowedPeerCidrs?: readonly string[];
  /** The secret shared by every node behind one TURN entry; undefined: a random one of this node's own. */
  readonly secret?: string | undefined;
  /** this node's WebRTC (mediasoup) ports; with them, other UDP sockets reachable through the relay are warned about */
  readonly mediaPorts?: PortRange;
  readonly logger: Logger;
}

export interface TurnServer {
  readonly secret: string;
  readonly port: number;
  readonly announcedIp: string;
  /** coturn's configuration file (it holds the secret; mode 0600; gone once stopped) */
  readonly configFile: string;
  /** the running coturn's process id, if one runs */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export async function startTurnServer(options: TurnServerOptions): Promise<TurnServer> {
  const secret = options.secret ?? randomBytes(24).toString('base64url');
  const allowedPeerRanges = (options.allowedPeerCidrs ?? []).map((cidr) => {
    const parsed = cidrRange(cidr);
    if (!parsed.ok) throw new Error(`TURN allowed peer network: ${parsed.reason}`);
    return parsed.range;
  });
  const port = await firstFreePort(options.listenIp, options.port, options.port + 200);
  const workdir = mkdtempSync(path.join(os.tmpdir(), 'fishjam-turn-'));
  chmodSync(workdir, 0o700); // mkdtemp's default already; said out loud because the secret lives here
  const configFile = path.join(workdir, 'turnserver.conf');
  const relayIp = relayIpFor(options.listenIp);
  try {
    const externalIp =
      options.announcedIp !== options.listenIp && net.isIP(options.announcedIp) && options.listenIp !== '0.0.0.0'
        ? `${options.announcedIp}/${options.listenIp}`
        : undefined;
    const text = coturnConfig({ ...options, port, relayIp, externalIp, secret, workdir, allowedPeerRanges });
    writeFileSync(configFile, text, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    rmSync(workdir, { recursive: true, force: true });
    throw error;
  }
  // Only the file on the command line; and no inherited environment (the node's own secrets live there).
  const args = ['-c', configFile];
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };

  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  // coturn dies with this process even when it is SIGKILLed (setpriv from util-linux sets the parent-death signal).
  const [command, commandArgs] = existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', options.binary, ...args]]
    : [options.binary, args];
  const launch = (): ChildProcess => {
    const proc = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let tail = '';
    const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-2000));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.on('error', (error) => options.logger.error({ err: error.message }, 'TURN server could not start'));
    proc.on('exit', (code, signal) => {
      if (stopping) return;
      restarts++;
      options.logger.error({ code, signal, restarts, output: tail.split('\n').slice(-5).join(' | ') }, 'TURN server exited; restarting');
      setTimeout(() => {
        if (!stopping) child = launch();
      }, Math.min(10_000, 200 * 2 ** Math.min(restarts, 6))).unref();
    });
    return proc;
  };
  child = launch();
  try {
    await waitForStun(probeAddress(options.listenIp), port, 10_000);
  } catch (error) {
    stopping = true;
    child.kill('SIGKILL');
    rmSync(workdir, { recursive: true, force: true });
    throw new Error(`TURN server (${options.binary}) did not answer on ${options.listenIp}:${port}: ${(error as Error).message}. ` +
      'Install Debian package coturn, or set FJ_WEBRTC_TURN_BIN to its turnserver binary.');
  }
  options.logger.info(
    { port, relay: `${options.relayMinPort}-${options.relayMaxPort}`, announced: options.announcedIp, peers: [...options.allowedPeerIps, ...(options.allowedPeerCidrs ?? [])], sharedSecret: options.secret !== undefined },
    'TURN server ready',
  );
  if (options.mediaPorts) warnAboutExposedUdp(options, port, options.mediaPorts);
  return {
    secret,
    port,
    announcedIp: options.announcedIp,
    configFile,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    stop: async () => {
      stopping = true;
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}

/** Logs the UDP sockets besides the media ports and coturn's own that a TURN user can reach (see udp-exposure.ts). */
function warnAboutExposedUdp(options: TurnServerOptions, port: number, mediaPorts: PortRange): void {
  let table = '';
  try {
    table = ['/proc/net/udp', '/proc/net/udp6'].filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')).join('\n');
  } catch {
    return; // not Linux, or no procfs: nothing to tell
  }
  const expected = [mediaPorts, { min: port, max: port }, { min: options.relayMinPort, max: options.relayMaxPort }];
  const exposed = exposedUdpSockets(table, options.allowedPeerIps, expected);
  if (exposed.length === 0) return;
  options.logger.warn(
    { sockets: exposed.slice(0, 20).map((s) => `${s.ip}:${s.port}`), count: exposed.length, peers: options.allowedPeerIps },
    'UDP sockets outside the media ports are bound on the WebRTC address (or on 0.0.0.0): TURN users can send datagrams to them; bind those services elsewhere',
  );
}

function relayIpFor(listenIp: string): string {
  return listenIp === '0.0.0.0' ? firstExternalIpv4() ?? '127.0.0.1' : listenIp;
}

function probeAddress(listenIp: string): string {
  return listenIp === '0.0.0.0' ? '127.0.0.1' : listenIp;
}

function firstExternalIpv4(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/** The first port in [from, to] free for both UDP and TCP on ip. */
async function firstFreePort(ip: string, from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    if ((await canBind('udp', ip, port)) && (await canBind('tcp', ip, port))) return port;
  }
  throw new Error(`no free TURN port in ${from}..${to}`);
}

function canBind(protocol: 'udp' | 'tcp', ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, ip, () => s.close(() => resolve(true)));
    } else {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, ip, () => s.close(() => resolve(true)));
    }
  });
}

/** Sends STUN binding requests until the server answers (it is then ready for allocations). */
async function waitForStun(ip: string, port: number, timeoutMs: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no STUN answer within ${timeoutMs} ms`)), timeoutMs);
      socket.on('message', () => {
        clearTimeout(deadline);
        clearInterval(ticker);
        resolve();
      });
      socket.on('error', () => undefined);
      const request = Buffer.alloc(20);
      request.writeUInt16BE(0x0001, 0); // Binding Request
      request.writeUInt32BE(0x2112a442, 4); // magic cookie
      randomBytes(12).copy(request, 8);
      const ticker = setInterval(() => socket.send(request, port, ip), 100);
    });
  } finally {
    socket.close();
  }
}
