import test from 'ava';
import { backoffDelay, WorkQueue } from '../src/controller/work-queue.js';

const opts = { baseDelayMs: 10, maxDelayMs: 100 };

test('backoff doubles per failure up to the maximum', (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts)), [10, 20, 40, 80, 100, 100]);
});

test('a key is queued once, and a key added while processing runs again afterwards', async (t) => {
  const q = new WorkQueue(opts);
  q.add('a');
  q.add('a');
  q.add('b');
  t.is(q.depth, 2);
  const first = await q.get();
  t.is(first, 'a');
  q.add('a'); // while processing: deferred, not handed to a second worker
  t.is(await q.get(), 'b');
  t.is(q.depth, 0);
  q.done('a');
  t.is(await q.get(), 'a');
  q.stop();
  t.is(await q.get(), undefined);
});

test('rate-limited adds wait longer after each failure; forget resets', async (t) => {
  const q = new WorkQueue(opts);
  t.teardown(() => q.stop());
  t.is(q.addRateLimited('k'), 10);
  t.is(await q.get(), 'k');
  q.done('k');
  t.is(q.addRateLimited('k'), 20);
  const start = Date.now();
  t.is(await q.get(), 'k');
  t.true(Date.now() - start >= 15);
  q.done('k');
  q.forget('k');
  t.is(q.addRateLimited('k'), 10);
});
