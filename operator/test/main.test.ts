// The operator process as shipped (src/main.ts): kubeconfig from KUBECONFIG, leader election on a Lease,
// reconciling, /metrics and health endpoints, and a SIGTERM that releases the lease and exits 0.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { waitFor, withPodNetwork } from './controller-harness.js';
import { FakeApiServer } from './fake-kube/fake-api-server.js';

const operatorDir = join(dirname(fileURLToPath(import.meta.url)), '..');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function kubeconfigFor(url: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fishjam-operator-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
    clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'u' } }],
  }));
  return kubeconfig;
}

/** src/main.ts as a child process with short lease timings; resolves its exit code. */
async function startOperator(t: { teardown: (fn: () => void) => void }, url: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: operatorDir,
    env: {
      ...process.env, KUBECONFIG: kubeconfigFor(url), METRICS_PORT: String(port), OPERATOR_NAMESPACE: 'fishjam-system', POD_NAME: 'operator-0',
      LOG_LEVEL: 'silent', LEASE_DURATION_MS: '3000', LEASE_RENEW_DEADLINE_MS: '1500', LEASE_RETRY_PERIOD_MS: '300', ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, exited, port };
}

const holder = (server: FakeApiServer) => (server.get('Lease', 'fishjam-system', 'fishjam-operator-leader')?.['spec'] as any)?.holderIdentity;

test.serial('main: the API server stops answering lease calls -> the leader steps down and exits within seconds', async (t) => {
  const server = new FakeApiServer({ simulateStatefulSets: true });
  const url = await server.start();
  t.teardown(() => server.stop());
  const op = await startOperator(t, url);
  await waitFor('lease held', () => holder(server) === 'operator-0', 30_000);
  const hungAt = Date.now();
  server.delayNext({ method: 'GET', path: /\/leases\//, ms: Infinity, times: 1000 });
  server.delayNext({ method: 'PUT', path: /\/leases\//, ms: Infinity, times: 1000 });
  const result = await Promise.race([op.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
  t.not(result, 'timeout', 'the operator kept running as leader with a hung API server');
  if (result === 'timeout') return;
  t.is(result.code, 1, 'leadership lost is an exit with failure (the Deployment restarts it as a candidate)');
  // Renew deadline 1.5 s (+ one retry period of 0.3 s before the hang), then exit at once.
  t.true(result.at - hungAt < 3500, `exited ${result.at - hungAt} ms after the API hung`);
});

test.serial('main: SIGTERM while every API call hangs still exits within seconds', async (t) => {
  const server = new FakeApiServer({ simulateStatefulSets: true });
  const url = await server.start();
  t.teardown(() => server.stop());
  // A long renew deadline: the exit must come from the bounded shutdown, not from losing the lease.
  const op = await startOperator(t, url, { LEASE_DURATION_MS: '60000', LEASE_RENEW_DEADLINE_MS: '40000', LEASE_RETRY_PERIOD_MS: '300', SHUTDOWN_TIMEOUT_MS: '3000' });
  await waitFor('lease held', () => holder(server) === 'operator-0', 30_000);
  server.put({ apiVersion: 'fishjam-ts.dev/v1alpha1', kind: 'FishjamCluster', metadata: { name: 'media', namespace: 'live' }, spec: withPodNetwork({ replicas: 1 }) } as never);
  await waitFor('StatefulSet', () => server.get('StatefulSet', 'live', 'media'), 10_000);
  for (const method of ['GET', 'PUT', 'PATCH', 'POST', 'DELETE']) server.delayNext({ method, path: /./, ms: Infinity, times: 100_000 });
  await new Promise((r) => setTimeout(r, 700)); // a renewal is now in flight and hung
  const termAt = Date.now();
  op.child.kill('SIGTERM');
  const result = await Promise.race([op.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
  t.not(result, 'timeout', 'SIGTERM hung');
  if (result === 'timeout') return;
  t.is(result.code, 0);
  // SHUTDOWN_TIMEOUT_MS is 3 s; a loaded machine adds timer and exit latency (seen: 4.6 s).
  t.true(result.at - termAt < 7000, `exited ${result.at - termAt} ms after SIGTERM`);
});

test.serial('main: elects itself, reconciles, serves metrics, releases the lease on SIGTERM', async (t) => {
  const server = new FakeApiServer({ simulateStatefulSets: true });
  const url = await server.start();
  t.teardown(() => server.stop());
  const dir = mkdtempSync(join(tmpdir(), 'fishjam-operator-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
    clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'u' } }],
  }));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: operatorDir,
    env: { ...process.env, KUBECONFIG: kubeconfig, METRICS_PORT: String(port), OPERATOR_NAMESPACE: 'fishjam-system', POD_NAME: 'operator-0', LOG_LEVEL: 'warn', STATUS_INTERVAL_MS: '1000' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  await waitFor('lease held', () => holder(server) === 'operator-0', 30_000);
  server.put({ apiVersion: 'fishjam-ts.dev/v1alpha1', kind: 'FishjamCluster', metadata: { name: 'media', namespace: 'live' }, spec: withPodNetwork({ replicas: 2 }) } as never);
  await waitFor('StatefulSet', () => server.get('StatefulSet', 'live', 'media'), 10_000);
  const metrics = await waitFor('metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return /fishjam_operator_reconcile_total\{result="success"\} [1-9]/.test(text) ? text : undefined;
  });
  t.regex(metrics, /fishjam_operator_leader 1/);
  t.is((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);

  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
  t.is(code, 0);
  t.falsy((server.get('Lease', 'fishjam-system', 'fishjam-operator-leader')!['spec'] as any).holderIdentity, 'lease released');
});
