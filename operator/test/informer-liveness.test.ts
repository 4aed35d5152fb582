// Watches ask for bookmarks and are restarted when silent past their limit (src/controller/informer.ts), against
// the stand-in: a quiet but healthy watch (bookmarks flowing) is left alone; a half-dead one (connection open,
// nothing arriving) or one whose request is never answered is restarted from its last resourceVersion.
import test from 'ava';
import { API_VERSION, KIND } from '../src/api/types.js';
import { counterValue, sleep, startHarness, waitFor, withPodNetwork } from './controller-harness.js';

const SILENCE_MS = 800;
const putCluster = (h: Awaited<ReturnType<typeof startHarness>>, name: string) =>
  h.server.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: 'live' }, spec: withPodNetwork({ replicas: 1 }) } as never);
const silentRestarts = (h: Awaited<ReturnType<typeof startHarness>>) =>
  h.controller.clusters.silentRestarts + h.controller.statefulSets.silentRestarts + h.controller.pods.silentRestarts;

test('watches ask for bookmarks and a server-side timeout; a quiet watch kept alive by bookmarks is not restarted', async (t) => {
  const h = await startHarness({ simulateStatefulSets: true, bookmarkIntervalMs: 150 }, { watchSilenceMs: SILENCE_MS });
  t.teardown(() => h.close());
  await sleep(SILENCE_MS * 3);
  t.is(silentRestarts(h), 0);
  const watches = h.server.requests.filter((r) => r.query.get('watch') === 'true');
  t.is(watches.length, 3, 'one watch per resource, never reopened');
  for (const w of watches) {
    t.is(w.query.get('allowWatchBookmarks'), 'true');
    const timeout = Number(w.query.get('timeoutSeconds'));
    t.true(timeout >= 300 && timeout < 600, `timeoutSeconds ${timeout}`);
  }
});

test('a watch that goes silent (connection open, nothing arriving) is restarted after its limit and misses nothing', async (t) => {
  const h = await startHarness({ simulateStatefulSets: true, bookmarkIntervalMs: 150 }, { watchSilenceMs: SILENCE_MS });
  t.teardown(() => h.close());
  await sleep(300);
  const listsBefore = h.controller.clusters.lists;
  t.is(h.server.silenceWatches(), 3);
  const silencedAt = Date.now();
  putCluster(h, 'made-while-silent');
  await waitFor('the silent watches restarted', () => silentRestarts(h) >= 3, 5000);
  const restartedAfter = Date.now() - silencedAt;
  // The last bookmark came up to one bookmark interval (150 ms) before the silence began.
  t.true(restartedAfter >= SILENCE_MS - 250 && restartedAfter < SILENCE_MS + 2500, `restarted after ${restartedAfter} ms`);
  // Resumed from the last resourceVersion: the change made during the silence arrives without a relist.
  await waitFor('StatefulSet of the cluster made while silent', () => h.server.get('StatefulSet', 'live', 'made-while-silent'), 5000);
  t.is(h.controller.clusters.lists, listsBefore, 'no relist needed');
  t.true((await counterValue(h.metrics, 'fishjam_operator_watch_restarts_total', { resource: 'fishjamclusters' })) >= 1);
  // The old silent connections were closed, not leaked: exactly one open watch per resource.
  await waitFor('one watch per resource', () => h.server.activeWatches() === 3, 3000);
});

test('a watch request the API server never answers counts as silence and is replaced', async (t) => {
  const h = await startHarness({ simulateStatefulSets: true, bookmarkIntervalMs: 150 }, { watchSilenceMs: SILENCE_MS });
  t.teardown(() => h.close());
  await sleep(300);
  h.server.delayNext({ method: 'GET', path: /\/fishjamclusters$/, ms: Infinity });
  h.server.dropWatches();
  await sleep(100);
  putCluster(h, 'after-the-hang');
  await waitFor('StatefulSet once the hung watch was replaced', () => h.server.get('StatefulSet', 'live', 'after-the-hang'), 6000);
  t.true(h.controller.clusters.silentRestarts >= 1);
});

test('stopping the controller closes every watch, silenced ones included', async (t) => {
  const h = await startHarness({ simulateStatefulSets: true, bookmarkIntervalMs: 150 }, { watchSilenceMs: SILENCE_MS });
  h.server.silenceWatches();
  await h.controller.stop();
  await waitFor('no open watch', () => h.server.activeWatches() === 0, 3000);
  await sleep(SILENCE_MS + 200);
  t.is(silentRestarts(h), 0, 'no restart after stop');
  await h.server.stop();
});
