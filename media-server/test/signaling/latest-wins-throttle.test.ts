// The coalescing of room-wide state updates: the first runs at once, a burst collapses into its last value, keys are
// independent, and a forgotten key never runs what was pending.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LatestWinsThrottle } from '../../src/signaling/latest-wins-throttle.js';

test('the first update runs at once; a burst within the interval runs only its last value, after the interval', async (t) => {
  const runs: number[] = [];
  const throttle = new LatestWinsThrottle(() => 50);
  throttle.schedule('a', () => runs.push(0));
  t.deepEqual(runs, [0]);
  for (let i = 1; i <= 1000; i++) throttle.schedule('a', () => runs.push(i));
  t.deepEqual(runs, [0], 'nothing more before the interval ends');
  t.is(throttle.pendingCount, 1, 'one pending update for the key, whatever the burst');
  await sleep(120);
  t.deepEqual(runs, [0, 1000]);
  t.is(throttle.pendingCount, 0);
});

test('keys are independent, and forgetting a prefix drops its pending updates without running them', async (t) => {
  const runs: string[] = [];
  const throttle = new LatestWinsThrottle(() => 40);
  throttle.schedule('p1\0endpoint', () => runs.push('p1 first'));
  throttle.schedule('p2\0endpoint', () => runs.push('p2 first'));
  throttle.schedule('p1\0endpoint', () => runs.push('p1 second'));
  throttle.schedule('p2\0endpoint', () => runs.push('p2 second'));
  throttle.forget('p1\0');
  await sleep(100);
  t.deepEqual(runs, ['p1 first', 'p2 first', 'p2 second']);
  // a forgotten key starts afresh: its next update runs at once
  throttle.schedule('p1\0endpoint', () => runs.push('p1 again'));
  t.is(runs.at(-1), 'p1 again');
});

test('the interval is asked at each update (it grows with the room)', async (t) => {
  let interval = 10;
  const runs: number[] = [];
  const throttle = new LatestWinsThrottle(() => interval);
  throttle.schedule('k', () => runs.push(1));
  await sleep(30);
  throttle.schedule('k', () => runs.push(2));
  t.deepEqual(runs, [1, 2], 'past a short interval: at once');
  interval = 1000;
  throttle.schedule('k', () => runs.push(3));
  await sleep(60);
  t.deepEqual(runs, [1, 2], 'a longer interval holds the update back');
  throttle.forget('k');
});
