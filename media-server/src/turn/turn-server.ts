// The node's integrated TURN server. Fishjam's web SDK only uses relay candidates (iceTransportPolicy "relay") from
// the TURN servers the server names in offerData, so every node runs one: coturn (Debian package `coturn`) as a
// child process with a random shared secret, relaying only to this node's own WebRTC addresses (never an open relay).
// It is restarted if it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';

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
  readonly logger: Logger;
}

export interface TurnServer {
  readonly secret: string;
  readonly port: number;
  readonly announcedIp: string;
  stop(): Promise<void>;
}

export async function startTurnServer(options: TurnServerOptions): Promise<TurnServer> {
  const secret = randomBytes(24).toString('base64url');
  const port = await firstFreePort(options.listenIp, options.port, options.port + 200);
  const workdir = mkdtempSync(path.join(os.tmpdir(), 'fishjam-turn-'));
  const args = [
    '-n', '--no-cli', '--no-tls', '--no-dtls', '--no-software-attribute', '--fingerprint',
    `--listening-ip=${options.listenIp}`, `--listening-port=${port}`,
    `--relay-ip=${relayIpFor(options.listenIp)}`,
    `--min-port=${options.relayMinPort}`, `--max-port=${options.relayMaxPort}`,
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=fishjam',
    '--denied-peer-ip=0.0.0.0-255.255.255.255',
    ...options.allowedPeerIps.map((ip) => `--allowed-peer-ip=${ip}`),
    ...(options.allowedPeerIps.some((ip) => ip.startsWith('127.')) ? ['--allow-loopback-peers'] : []),
    `--userdb=${path.join(workdir, 'turndb')}`, `--pidfile=${path.join(workdir, 'turn.pid')}`,
    '--log-file=stdout', '--simple-log',
  ];
  if (options.announcedIp !== options.listenIp && net.isIP(options.announcedIp) && options.listenIp !== '0.0.0.0') {
    args.push(`--external-ip=${options.announcedIp}/${options.listenIp}`);
  }

  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  // coturn dies with this process even when it is SIGKILLed (setpriv from util-linux sets the parent-death signal).
  const [command, commandArgs] = existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', options.binary, ...args]]
    : [options.binary, args];
  const launch = (): ChildProcess => {
    const proc = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
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
  options.logger.info({ port, relay: `${options.relayMinPort}-${options.relayMaxPort}`, announced: options.announcedIp }, 'TURN server ready');
  return {
    secret,
    port,
    announcedIp: options.announcedIp,
    stop: async () => {
      stopping = true;
      const proc = child;
      if (proc && proc.exitCode === null) {
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
