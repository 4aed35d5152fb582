// Network namespaces standing in for Kubernetes pods, for pod-spec-netns.test.ts. One bridge, living in its own
// namespace, joins one namespace per pod, one for dnsmasq (the cluster DNS) and one for the operator/kubelet side.
// Nothing is created or addressed in the host namespace: veth pairs are made inside the bridge's namespace with the
// other end moved straight into its pod, and every request to an address on the subnet is made by a process started
// with `ip netns exec` (the agent, the status script, the media servers themselves).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const operatorDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const repoRoot = path.resolve(operatorDir, '..');

export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { timeout: 10_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms))),
  ]);
}

/** Polls `check` (async) until it returns a value other than undefined, at most `timeoutMs`. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, intervalMs: number, what: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() + intervalMs > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await sleep(intervalMs);
  }
}

export async function namespacesWithPrefix(prefix: string): Promise<string[]> {
  const list = await ip('netns', 'list').catch(() => '');
  return list.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(prefix));
}

/** Deletes every namespace named `<prefix>…` (and its /etc/netns folder), killing the processes inside first. */
export async function removeNamespaces(prefix: string): Promise<void> {
  const names = await namespacesWithPrefix(prefix);
  for (const ns of names) {
    const pids = (await ip('netns', 'pids', ns).catch(() => '')).split(/\s+/).filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  for (const ns of names) {
    for (let i = 0; i < 30; i++) {
      if (await ip('netns', 'del', ns).then(() => true, () => false)) break;
      await sleep(100);
    }
    rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
}

export interface Lan {
  bridgeNs: string;
  /** member name -> namespace and address */
  members: Map<string, { ns: string; ip: string }>;
}

/** A bridge in `<prefix>br` and one namespace `<prefix><name>` per member, eth0 = `<subnet>.<octet>/24`. */
export async function createLan(prefix: string, subnet: string, members: Record<string, number>, dnsIp: string): Promise<Lan> {
  const bridgeNs = `${prefix}br`;
  await ip('netns', 'add', bridgeNs);
  await ip('-n', bridgeNs, 'link', 'set', 'lo', 'up');
  await ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', bridgeNs, 'link', 'set', 'br0', 'up');
  const out = new Map<string, { ns: string; ip: string }>();
  for (const [name, octet] of Object.entries(members)) {
    const ns = `${prefix}${name}`;
    const address = `${subnet}.${octet}`;
    // `ip netns exec` bind-mounts this over /etc/resolv.conf: the pod's cluster DNS.
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, `nameserver ${dnsIp}\noptions timeout:1 attempts:2\n`);
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', bridgeNs, 'link', 'add', `v-${name}`.slice(0, 15), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('-n', bridgeNs, 'link', 'set', `v-${name}`.slice(0, 15), 'master', 'br0', 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    out.set(name, { ns, ip: address });
  }
  return { bridgeNs, members: out };
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  exited(): boolean;
}

/** Starts `command` inside namespace `ns` with exactly `env` (nothing inherited). */
export function spawnIn(ns: string, command: string[], env: Record<string, string>, cwd = operatorDir): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, ...command], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-40_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (e) => (out += `\nspawn error: ${e.message}`));
  return { child, output: () => out, exited: () => child.exitCode !== null || child.signalCode !== null };
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await withTimeout(exited, graceMs + 2000, () => `pid ${child.pid} did not exit`).catch(() => undefined);
  clearTimeout(timer);
}

/** dnsmasq in `ns`, answering A records of `name` from a hosts file and nothing else. */
export async function startDnsmasq(ns: string, listenIp: string, name: string, ips: string[]): Promise<{ proc: Proc; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fjop-dns-'));
  chmodSync(dir, 0o755);
  const hostsFile = path.join(dir, 'hosts');
  writeFileSync(hostsFile, ips.map((a) => `${a} ${name}\n`).join(''), { mode: 0o644 });
  const proc = spawnIn(
    ns,
    ['/usr/sbin/dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', `--addn-hosts=${hostsFile}`,
      `--listen-address=${listenIp}`, '--bind-interfaces', '--port=53', '--local-ttl=0',
      `--pid-file=${path.join(dir, 'pid')}`, '--user=root', '--log-facility=-'],
    { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  );
  await pollUntil(async () => (proc.output().includes(`read ${hostsFile}`) || proc.exited() ? true : undefined), 5000, 20, () => 'dnsmasq to start');
  if (proc.exited()) throw new Error(`dnsmasq exited: ${proc.output()}`);
  return {
    proc,
    async stop() {
      await stopChild(proc.child, 'SIGTERM', 2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The request agent (agent.ts) inside a namespace: one JSON request per line, answered by id. */
export interface Agent {
  call<T>(request: Record<string, unknown>, timeoutMs: number): Promise<T>;
  stop(): Promise<void>;
}

export async function startAgent(ns: string): Promise<Agent> {
  const proc = spawnIn(ns, [process.execPath, '--import', 'tsx', path.join(operatorDir, 'test/netns/agent.ts')], {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  readline.createInterface({ input: proc.child.stdout! }).on('line', (line) => {
    let m: { id?: number; ready?: boolean; ok?: boolean; result?: unknown; error?: string };
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    if (m.ready) return markReady();
    const w = waiting.get(m.id!);
    if (!w) return;
    waiting.delete(m.id!);
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(m.error));
  });
  proc.child.on('exit', () => {
    for (const w of waiting.values()) w.reject(new Error(`agent exited: ${proc.output()}`));
    waiting.clear();
  });
  await withTimeout(ready, 20_000, () => `agent in ${ns} did not start: ${proc.output()}`);
  let next = 1;
  return {
    call<T>(request: Record<string, unknown>, timeoutMs: number): Promise<T> {
      const id = next++;
      const answer = new Promise<T>((resolve, reject) => waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
      proc.child.stdin!.write(JSON.stringify({ id, ...request }) + '\n');
      return withTimeout(answer, timeoutMs, () => `agent request ${String(request['op'])} timed out after ${timeoutMs} ms`);
    },
    async stop() {
      proc.child.stdin!.end();
      await stopChild(proc.child, 'SIGTERM', 2000);
    },
  };
}

/** Runs `node --import tsx <script> <arg>` inside `ns` once and returns its stdout (bounded by timeoutMs). */
export async function runScriptIn(ns: string, script: string, arg: string, timeoutMs: number): Promise<string> {
  const proc = spawnIn(ns, [process.execPath, '--import', 'tsx', script, arg], { PATH: process.env['PATH'] ?? '/usr/bin:/bin' });
  let stdout = '';
  proc.child.stdout!.on('data', (d) => (stdout += d));
  const code = await withTimeout(
    new Promise<number | null>((r) => proc.child.once('exit', (c) => r(c))),
    timeoutMs,
    () => `${path.basename(script)} in ${ns} did not finish in ${timeoutMs} ms: ${proc.output()}`,
  ).catch(async (e: Error) => {
    await stopChild(proc.child, 'SIGKILL', 500);
    throw e;
  });
  if (code !== 0) throw new Error(`${path.basename(script)} in ${ns} exited ${code}: ${proc.output()}`);
  return stdout;
}
