// Deadlines of API calls (src/controller/deadline.ts) and of the lease: a hung API server makes the leader step down
// inside its renew deadline, and every KubeApi call gives up at its deadline.
import test from 'ava';
import { DeadlineError, withDeadline, withDeadlines } from '../src/controller/deadline.js';
import { errorCode } from '../src/controller/api-errors.js';
import { kubeApi } from '../src/controller/kube-api.js';
import { LeaderElector } from '../src/controller/leader-election.js';
import { readOperatorConfig } from '../src/operator-config.js';
import { kubeConfigFor, silentLog, sleep, waitFor } from './controller-harness.js';
import { FakeApiServer } from './fake-kube/fake-api-server.js';

const never = () => new Promise<never>(() => undefined);

test('withDeadline: a faster answer wins, a hung call fails at the deadline with code 504', async (t) => {
  t.is(await withDeadline(Promise.resolve(7), 50, 'x'), 7);
  const started = Date.now();
  const err = await t.throwsAsync(withDeadline(never(), 80, 'readLease'), { instanceOf: DeadlineError });
  t.true(Date.now() - started >= 70);
  t.is(errorCode(err), 504);
  t.regex(err!.message, /readLease: no answer within 80 ms/);
});

test('withDeadline: garbage deadlines mean no time, never "forever"; a late rejection is not unhandled', async (t) => {
  await t.throwsAsync(withDeadline(never(), Number.NaN, 'x'), { instanceOf: DeadlineError });
  await t.throwsAsync(withDeadline(never(), -5, 'x'), { instanceOf: DeadlineError });
  const late = new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 30));
  await t.throwsAsync(withDeadline(late, 5, 'x'), { instanceOf: DeadlineError });
  await sleep(60); // an unhandled rejection would fail the run here
});

test('withDeadlines bounds every method of an object and keeps `this`', async (t) => {
  const api = withDeadlines({ n: 3, fast() { return Promise.resolve(this.n); }, hung: () => never() }, 50);
  t.is(await api.fast(), 3);
  await t.throwsAsync(api.hung(), { message: /hung: no answer within 50 ms/ });
});

test('kubeApi: a call the stand-in never answers fails at the API deadline', async (t) => {
  const server = new FakeApiServer();
  const url = await server.start();
  t.teardown(() => server.stop());
  const api = kubeApi(kubeConfigFor(url), 300);
  server.delayNext({ method: 'GET', path: /\/pods$/, ms: Infinity });
  const started = Date.now();
  await t.throwsAsync(api.listPods('live', 'a=b'), { message: /listPods: no answer within 300 ms/ });
  t.true(Date.now() - started < 2000);
  t.deepEqual((await api.listPods('live', 'a=b')).items, [], 'the next call goes through');
});

test('lease timings are validated: retry < renew deadline < lease duration', (t) => {
  t.deepEqual(readOperatorConfig({}).lease, { durationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  t.throws(() => readOperatorConfig({ LEASE_RENEW_DEADLINE_MS: '20000' }), { message: /must hold/ });
  t.throws(() => readOperatorConfig({ LEASE_RETRY_PERIOD_MS: '10000' }), { message: /must hold/ });
  t.throws(() => readOperatorConfig({ API_TIMEOUT_MS: 'soon' }), { message: /API_TIMEOUT_MS/ });
});

for (const [what, ms] of [['past the deadline', 4000], ['never', Infinity]] as const) {
  test(`a leader whose lease calls the API server answers ${what} steps down within its renew deadline`, async (t) => {
    const server = new FakeApiServer();
    const url = await server.start();
    t.teardown(() => server.stop());
    const events: [string, number][] = [];
    const elector = new LeaderElector(
      kubeApi(kubeConfigFor(url), 10_000),
      {
        namespace: 'ops',
        name: 'lead',
        identity: 'a',
        leaseDurationMs: 3000,
        renewDeadlineMs: 1000,
        retryPeriodMs: 200,
        onStartedLeading: () => events.push(['started', Date.now()]),
        onStoppedLeading: () => events.push(['stopped', Date.now()]),
      },
      silentLog,
    );
    t.teardown(() => elector.stop());
    elector.start();
    await waitFor('leading', () => elector.isLeader);
    // Every lease call from now on is held (the API deadline of 10 s alone would be far too late).
    const hungAt = Date.now();
    server.delayNext({ method: 'GET', path: /\/leases\/lead$/, ms, times: 1000 });
    server.delayNext({ method: 'PUT', path: /\/leases\/lead$/, ms, times: 1000 });
    await waitFor('stepped down', () => events.some(([e]) => e === 'stopped'), 5000);
    const steppedDownAfter = events.find(([e]) => e === 'stopped')![1] - hungAt;
    // Last renewal at most one retry period before the hang; step-down at most one renew deadline after it.
    t.true(steppedDownAfter <= 1000 + 200 + 400, `stepped down ${steppedDownAfter} ms after the API hung`);
    t.false(elector.isLeader);
    // Stopping does not wait for the hung calls either.
    const stopAt = Date.now();
    await elector.stop();
    t.true(Date.now() - stopAt < 2500, `stop took ${Date.now() - stopAt} ms`);
  });
}
