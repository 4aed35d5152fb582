import test from 'ava';
import { kubeApi, type KubeApi } from '../src/controller/kube-api.js';
import { canAcquire, LeaderElector } from '../src/controller/leader-election.js';
import { kubeConfigFor, silentLog, sleep, waitFor } from './controller-harness.js';
import { FakeApiServer } from './fake-kube/fake-api-server.js';

const table: [string, Parameters<typeof canAcquire>, boolean][] = [
  ['no lease yet', [undefined, 'a', 0, 1000], true],
  ['released lease', [{ holder: undefined, renewTime: undefined, transitions: 1 }, 'a', 0, 1000], true],
  ['own lease', [{ holder: 'a', renewTime: 't', transitions: 0 }, 'a', 0, 1000], true],
  ['held by another, fresh', [{ holder: 'b', renewTime: 't', transitions: 0 }, 'a', 999, 1000], false],
  ['held by another, unchanged for a lease duration', [{ holder: 'b', renewTime: 't', transitions: 0 }, 'a', 1000, 1000], true],
];
for (const [name, args, want] of table) test(`canAcquire: ${name}`, (t) => t.is(canAcquire(...args), want));

/** A KubeApi whose lease calls can be cut, as if the process were partitioned from the API server. */
function cuttable(api: KubeApi): { api: KubeApi; cut: () => void } {
  let down = false;
  const guard = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => (...a: A) => (down ? Promise.reject(new Error('partitioned')) : fn(...a));
  return {
    api: { ...api, readLease: guard(api.readLease), createLease: guard(api.createLease), replaceLease: guard(api.replaceLease) },
    cut: () => (down = true),
  };
}

function candidate(api: KubeApi, identity: string) {
  const events: string[] = [];
  const elector = new LeaderElector(
    api,
    {
      namespace: 'fishjam-system',
      name: 'fishjam-operator-leader',
      identity,
      // A lease long enough that a handover "at once" and one that waited out the lease stay apart on a loaded machine.
      leaseDurationMs: 2500,
      renewDeadlineMs: 1500,
      retryPeriodMs: 100,
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => events.push('stopped'),
    },
    silentLog,
  );
  return { elector, events };
}

test('one leader at a time on a Lease; a silent leader is replaced after the lease duration, a stopping one at once', async (t) => {
  const server = new FakeApiServer();
  const url = await server.start();
  t.teardown(() => server.stop());
  const api = kubeApi(kubeConfigFor(url));
  const a = cuttable(api);
  const A = candidate(a.api, 'operator-a');
  const B = candidate(api, 'operator-b');
  t.teardown(() => Promise.all([A.elector.stop(), B.elector.stop()]).then(() => undefined));

  A.elector.start();
  await waitFor('A leads', () => A.elector.isLeader);
  B.elector.start();
  await sleep(1200);
  t.false(B.elector.isLeader, 'B waits while A renews');
  t.deepEqual(B.events, []);
  const lease = server.get('Lease', 'fishjam-system', 'fishjam-operator-leader')!;
  t.is((lease['spec'] as any).holderIdentity, 'operator-a');
  t.regex((lease['spec'] as any).renewTime, /\.\d{6}Z$/, 'renewTime is a MicroTime');

  // A is cut off from the API: it steps down after its renew deadline, B takes over after the lease duration.
  const cutAt = Date.now();
  a.cut();
  await waitFor('A steps down', () => A.events.includes('stopped'));
  await waitFor('B leads', () => B.elector.isLeader);
  t.true(Date.now() - cutAt >= 2400, 'B waited out the lease');
  t.false(A.elector.isLeader);
  const taken = server.get('Lease', 'fishjam-system', 'fishjam-operator-leader')!;
  t.is((taken['spec'] as any).holderIdentity, 'operator-b');
  t.is((taken['spec'] as any).leaseTransitions, 1);

  // B stops gracefully and releases; C takes over well within a lease duration.
  const C = candidate(api, 'operator-c');
  t.teardown(() => C.elector.stop());
  C.elector.start();
  await sleep(300);
  t.false(C.elector.isLeader);
  const releasedAt = Date.now();
  await B.elector.stop();
  t.deepEqual(B.events, ['started', 'stopped']);
  await waitFor('C leads', () => C.elector.isLeader);
  t.true(Date.now() - releasedAt < 1500, `took ${Date.now() - releasedAt} ms (a lease lasts 2500)`);
});

test('two candidates racing for a new lease: exactly one wins', async (t) => {
  const server = new FakeApiServer();
  const url = await server.start();
  t.teardown(() => server.stop());
  const api = kubeApi(kubeConfigFor(url));
  const X = candidate(api, 'x');
  const Y = candidate(api, 'y');
  t.teardown(() => Promise.all([X.elector.stop(), Y.elector.stop()]).then(() => undefined));
  X.elector.start();
  Y.elector.start();
  await waitFor('a leader', () => X.elector.isLeader || Y.elector.isLeader);
  await sleep(600);
  t.true(X.elector.isLeader !== Y.elector.isLeader);
});
