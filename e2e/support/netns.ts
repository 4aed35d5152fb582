// Simulated hosts for cluster tests: Linux network namespaces joined by veth pairs to a bridge that lives in its own
// namespace. Nothing is created or addressed in the host namespace: the subnet exists only inside the namespaces, and
// the test talks to the nodes through an agent process running inside the "client" namespace (netns-agent.ts).
// Every namespace gets `lo` up and /etc/netns/<ns>/resolv.conf (which `ip netns exec` mounts as /etc/resolv.conf).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, mkdtempSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { timeout: 10_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Fails with a clear message when network namespaces cannot be made here (not root, no CAP_SYS_ADMIN, no iproute2). */
export async function assertNetnsPermitted(prefix: string): Promise<void> {
  const probe = `${prefix}probe`;
  try {
    await ip('netns', 'add', probe);
  } catch (error) {
    throw new Error(`this test needs network namespaces (root with CAP_SYS_ADMIN and CAP_NET_ADMIN, iproute2): ${(error as Error).message}`);
  }
  await ip('netns', 'del', probe);
}

/** pids of the processes whose network namespace is `ns` */
export async function netnsPids(ns: string): Promise<number[]> {
  const out = await ip('netns', 'pids', ns).catch(() => '');
  return out.split(/\s+/).filter(Boolean).map(Number);
}

/** Removes namespaces named with `prefix` (left by an earlier run that crashed): their processes first. */
export async function removeNamespaces(prefix: string): Promise<void> {
  const list = await ip('netns', 'list').catch(() => '');
  const names = list.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(prefix));
  for (const ns of names) {
    for (const pid of await netnsPids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const ns of names) {
    // a namespace whose processes are still exiting may refuse once
    for (let i = 0; i < 20; i++) {
      if (await ip('netns', 'del', ns).then(() => true, () => false)) break;
      await sleep(100);
    }
    rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
}

export interface Lan {
  readonly bridgeNs: string;
  /** host name -> { ns, ip } */
  readonly hosts: ReadonlyMap<string, { ns: string; ip: string }>;
}

/**
 * One bridge (in namespace `<prefix>br`) and one namespace per host, each with eth0 = `<subnet>.<octet>/24` on the bridge.
 * `dnsIp` goes into every namespace's resolv.conf.
 */
export async function createLan(prefix: string, subnet: string, hosts: Record<string, number>, dnsIp: string): Promise<Lan> {
  const bridgeNs = `${prefix}br`;
  await ip('netns', 'add', bridgeNs);
  await ip('-n', bridgeNs, 'link', 'set', 'lo', 'up');
  await ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', bridgeNs, 'link', 'set', 'br0', 'up');
  const out = new Map<string, { ns: string; ip: string }>();
  for (const [name, octet] of Object.entries(hosts)) {
    const ns = `${prefix}${name}`;
    const address = `${subnet}.${octet}`;
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, `nameserver ${dnsIp}\noptions timeout:1 attempts:1\n`);
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    // created inside the bridge's namespace, the other end moved straight into the host's: never in the host namespace
    await ip('-n', bridgeNs, 'link', 'add', `v-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('-n', bridgeNs, 'link', 'set', `v-${name}`, 'master', 'br0', 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    out.set(name, { ns, ip: address });
  }
  return { bridgeNs, hosts: out };
}

/** dnsmasq inside `ns` answering A records from a hosts file only; `setRecords` rewrites it and sends SIGHUP. */
export interface Dns {
  readonly child: ChildProcess;
  setRecords(name: string, ips: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** `extra`: more names with fixed addresses (e.g. a Service name standing in for a load balancer). */
export async function startDnsmasq(ns: string, listenIp: string, name: string, ips: string[], extra: Record<string, string[]> = {}): Promise<Dns> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fjc-dns-'));
  chmodSync(dir, 0o755);
  const hostsFile = path.join(dir, 'hosts');
  const fixed = Object.entries(extra).flatMap(([n, list]) => list.map((a) => `${a} ${n}\n`)).join('');
  const write = (list: string[]) => writeFileSync(hostsFile, list.map((a) => `${a} ${name}\n`).join('') + fixed, { mode: 0o644 });
  write(ips);
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, '/usr/sbin/dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', `--addn-hosts=${hostsFile}`,
      `--listen-address=${listenIp}`, '--bind-interfaces', '--port=53', '--no-dhcp-interface=eth0', '--local-ttl=0',
      `--pid-file=${path.join(dir, 'pid')}`, '--user=root', '--log-facility=-'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // dnsmasq logs "read <file> - N names" once it has loaded the hosts file
  await waitUntil(() => out.includes(`read ${hostsFile}`) || child.exitCode !== null, 5000, 'dnsmasq to start');
  if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${out}`);
  let reloads = 0;
  return {
    child,
    async setRecords(_name, list) {
      write(list);
      const before = out.split(`read ${hostsFile}`).length;
      child.kill('SIGHUP');
      reloads++;
      await waitUntil(() => out.split(`read ${hostsFile}`).length > before, 3000, `dnsmasq reload ${reloads}`);
    },
    async stop() {
      await stopChild(child, 'SIGTERM', 3000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The agent (netns-agent.ts) inside `ns`: each call is one request answered by the agent. */
export interface Agent {
  call<T>(request: Record<string, unknown>, timeoutMs: number): Promise<T>;
  stop(): Promise<void>;
}

export async function startAgent(ns: string): Promise<Agent> {
  const script = path.join(root, 'e2e/support/netns-agent.ts');
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script], { cwd: path.join(root, 'e2e'), stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let ready: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { id?: number; ready?: boolean; ok?: boolean; result?: unknown; error?: string };
    if (m.ready) return ready();
    const w = waiting.get(m.id!);
    if (!w) return;
    waiting.delete(m.id!);
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(m.error));
  });
  child.on('exit', () => {
    for (const w of waiting.values()) w.reject(new Error(`agent exited: ${err}`));
    waiting.clear();
  });
  await withTimeout(isReady, 20_000, () => `agent in ${ns} did not start: ${err}`);
  let next = 1;
  return {
    call<T>(request: Record<string, unknown>, timeoutMs: number): Promise<T> {
      const id = next++;
      const answer = new Promise<T>((resolve, reject) => waiting.set(id, { resolve, reject }));
      child.stdin!.write(JSON.stringify({ id, ...request }) + '\n');
      return withTimeout(answer, timeoutMs, () => `agent request ${String(request.op)} timed out after ${timeoutMs} ms`);
    },
    async stop() {
      child.stdin!.end();
      await stopChild(child, 'SIGTERM', 3000);
    },
  };
}

/**
 * A media server process inside `ns`: media-server/dist/main.js, or with `fromSource` media-server/src/main.ts run
 * through tsx (the tree as it is, without a build). The child is the node itself (`ip netns exec` execs it), so
 * signals sent to it (SIGSTOP, SIGKILL) reach the node.
 */
export interface NsNode {
  readonly child: ChildProcess;
  readonly ns: string;
  output(): string;
  exited(): boolean;
}

/**
 * What a pod's securityContext promises, applied to a node process: another user (runAsUser/runAsGroup, no
 * supplementary groups), no new privileges (allowPrivilegeEscalation: false), no capabilities (drop ALL), and a
 * read-only root filesystem with tmpfs mounts only where the pod has its emptyDir volumes (`writable`, owned by the
 * user). Done in a mount namespace of the node's own, so nothing changes outside it. The code is bind-mounted
 * read-only at CONFINED_ROOT first (before any tmpfs: the repository may itself live under /tmp, which the pod's
 * emptyDir then covers), so the repository's parent folders need not be open to that user.
 */
export interface Confinement {
  readonly uid: number;
  readonly gid: number;
  /** absolute paths that get an empty tmpfs (the pod's emptyDir mounts) */
  readonly writable: readonly string[];
}

/** Where the repository is seen by a confined node (outside every writable mount, which would cover it). */
const CONFINED_ROOT = '/run/.fishjam-app';

/** The shell script that sets up a confined node's mount namespace and drops to its user (args: the node's argv). */
function confinedScript(c: Confinement): string {
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const lines = [
    'set -eu',
    // the code first: a tmpfs below could cover the repository (a clone under /tmp)
    `mkdir -p ${q(CONFINED_ROOT)}`,
    `mount --bind ${q(root)} ${q(CONFINED_ROOT)}`,
    `mount -o remount,bind,ro ${q(CONFINED_ROOT)}`,
  ];
  for (const dir of c.writable) {
    if (!path.isAbsolute(dir) || dir === '/') throw new Error(`not a mount path: ${dir}`);
    if (CONFINED_ROOT.startsWith(`${dir.replace(/\/$/, '')}/`)) throw new Error(`${dir} would cover the code at ${CONFINED_ROOT}`);
    lines.push(`mount -t tmpfs -o size=256m,mode=0755,uid=${c.uid},gid=${c.gid} tmpfs ${q(dir)}`);
    if (dir === '/tmp') lines.push('chmod 1777 /tmp');
  }
  lines.push(
    // read-only from here on for everything but the tmpfs mounts above (and /proc, /sys, /dev as in a container)
    'mount -o remount,bind,ro /',
    `cd ${q(CONFINED_ROOT)}/media-server`,
    `exec setpriv --reuid=${c.uid} --regid=${c.gid} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"`,
  );
  return lines.join('\n');
}

export function spawnNode(ns: string, env: Record<string, string>, options: { fromSource?: boolean; confined?: Confinement } = {}): NsNode {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FJ_') && !k.startsWith('JF_'))) as Record<string, string>;
  const base = options.confined ? CONFINED_ROOT : root;
  const entry = options.fromSource ? ['--import', 'tsx', path.join(base, 'media-server/src/main.ts')] : [path.join(base, 'media-server/dist/main.js')];
  if (options.confined) {
    // mount points must exist before the root turns read-only (the image has them; this host may not)
    for (const dir of options.confined.writable) mkdirSync(dir, { recursive: true });
  }
  const argv = options.confined
    ? ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', confinedScript(options.confined), 'confined-node', process.execPath, ...entry]
    : ['netns', 'exec', ns, process.execPath, ...entry];
  const child = spawn('ip', argv, {
    cwd: path.join(root, 'media-server'),
    // HOME: the user has none it could write (tools that look for one find the writable /tmp)
    env: { ...clean, ...(options.confined ? { HOME: '/tmp' } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, ns, output: () => out, exited: () => child.exitCode !== null || child.signalCode !== null };
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await withTimeout(exited, graceMs + 2000, () => `pid ${child.pid} did not exit`).catch(() => undefined);
  clearTimeout(timer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms))),
  ]);
}
