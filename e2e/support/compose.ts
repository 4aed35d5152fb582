// Helpers for the container e2e test: a container engine CLI (podman, or docker when podman is absent), docker-compose
// against the engine's Docker API, bounded waits, and HTTP to ports published on localhost.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const composeDir = path.join(repoRoot, 'examples/docker-compose');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command with a hard time limit (the child is killed at the limit; code is then -1). Never throws. */
export function run(cmd: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<RunResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env, cwd: opts.cwd ?? repoRoot },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - start });
      },
    );
  });
}

export async function must(cmd: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} -> ${r.code === -1 ? `killed after ${opts.timeoutMs} ms` : `exit ${r.code}`}\n${tail(r.stderr || r.stdout, 3000)}`);
  }
  return r;
}

export function tail(text: string, chars: number): string {
  return text.length > chars ? '…' + text.slice(-chars) : text;
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(path.join(d, bin)));
}

export const SOCKET =
  process.env.FJ_E2E_DOCKER_HOST ??
  process.env.DOCKER_HOST ??
  (existsSync('/run/podman/podman.sock') ? 'unix:///run/podman/podman.sock' : 'unix:///var/run/docker.sock');

/** What the test needs: an engine CLI and docker-compose. undefined + reason when absent. */
export function engine(): { cli: string; compose: string } | { missing: string } {
  const cli = onPath('podman') ? 'podman' : onPath('docker') ? 'docker' : undefined;
  if (!cli) return { missing: 'neither podman nor docker is installed (bash scripts/podman-setup.sh)' };
  if (!onPath('docker-compose')) return { missing: 'docker-compose is not installed (bash scripts/podman-setup.sh)' };
  return { cli, compose: 'docker-compose' };
}

export const composeEnv: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: SOCKET, COMPOSE_INTERACTIVE_NO_CLI: '1' };

/** docker-compose with a project name, against the engine's Docker API. */
export function compose(project: string, file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return run('docker-compose', ['-p', project, '-f', file, ...args], { timeoutMs, env: composeEnv });
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value other than undefined, at most `timeoutMs`; throws with `what` otherwise. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(everyMs);
  }
}

export interface ApiResult {
  status: number;
  body: any;
}

/** HTTP to a port published on localhost; every request has a 5 s limit. */
export async function api(port: number, route: string, init: { method?: string; json?: unknown; token?: string } = {}): Promise<ApiResult> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }), 'content-type': 'application/json' },
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

/** Resolves when GET /readyz answers 200 on the port. */
export function waitReady(port: number, timeoutMs: number): Promise<true> {
  return waitFor(`/readyz on localhost:${port}`, timeoutMs, async () => ((await api(port, '/readyz')).status === 200 ? true : undefined));
}

/** Containers (any state) of a compose project, by the labels docker-compose puts on them. */
export async function projectContainers(cli: string, project: string): Promise<string[]> {
  const r = await run(cli, ['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}'], { timeoutMs: 30_000 });
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

export async function projectNetworks(cli: string, project: string): Promise<string[]> {
  const r = await run(cli, ['network', 'ls', '--format', '{{.Name}}'], { timeoutMs: 30_000 });
  return r.stdout.split('\n').map((s) => s.trim()).filter((n) => n === `${project}_default` || n.startsWith(`${project}_`));
}

/**
 * Removes everything a compose project may have left: `docker-compose down`, then any container labelled with the
 * project and its networks. Only this test's projects are touched (never `podman rm -af`: the machine is shared).
 */
export async function cleanProject(cli: string, project: string, file: string): Promise<void> {
  await compose(project, file, ['down', '--remove-orphans', '-t', '3'], 90_000);
  for (const c of await projectContainers(cli, project)) await run(cli, ['rm', '-f', '-t', '0', c], { timeoutMs: 30_000 });
  for (const n of await projectNetworks(cli, project)) await run(cli, ['network', 'rm', '-f', n], { timeoutMs: 30_000 });
}

/** The container name docker-compose 1.x gives a service's first replica. */
export function containerName(project: string, service: string): string {
  return `${project}_${service}_1`;
}

export async function inspect(cli: string, name: string, format: string): Promise<string> {
  return (await must(cli, ['inspect', '-f', format, name], { timeoutMs: 30_000 })).stdout.trim();
}
