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
import { waitFor } from './controller-harness.js';
import { FakeApiServer } from './fake-kube/fake-api-server.js';

const operatorDir = join(dirname(fileURLToPath(import.meta.url)), '..');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test('main: elects itself, reconciles, serves metrics, releases the lease on SIGTERM', async (t) => {
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

  await waitFor('lease held', () => (server.get('Lease', 'fishjam-system', 'fishjam-operator-leader')?.['spec'] as any)?.holderIdentity === 'operator-0', 20_000);
  server.put({ apiVersion: 'fishjam-ts.dev/v1alpha1', kind: 'FishjamCluster', metadata: { name: 'media', namespace: 'live' }, spec: { replicas: 2 } } as never);
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
