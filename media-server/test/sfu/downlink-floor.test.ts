// The downlink floor's decisions, sample by sample (the real thing, against Chromium on a shaped link, is
// e2e/test/downlink-adaptation.test.ts).
import test from 'ava';
import { DownlinkFloor, DOWNLINK_FLOOR_DEFAULTS as O, type DownlinkSample } from '../../src/sfu/downlink-floor.js';

const short = (now: number, loss?: number): DownlinkSample => ({ now, available: 150_000, desired: 900_000, belowTarget: true, loss, rttMs: 40 });

/** Feeds a sample each second from `from` to `to` (inclusive) and returns the floors it changed to. */
function feed(floor: DownlinkFloor, from: number, to: number, sample: (now: number) => DownlinkSample): Array<[number, number, string]> {
  const changes: Array<[number, number, string]> = [];
  for (let now = from; now <= to; now += 1000) {
    const f = floor.onSample(sample(now));
    if (f !== undefined) changes.push([now, f, floor.lastEvent!]);
  }
  return changes;
}

/** A floor that ran one successful trial (started at 2 s, rose at 3 s, kept at 5 s). */
function keptFloor(): DownlinkFloor {
  const floor = new DownlinkFloor();
  feed(floor, 0, 2000, (now) => short(now, 0));
  feed(floor, 3000, 5000, (now) => ({ ...short(now, 0), rose: true }));
  return floor;
}

test('a quiet shortfall that lasts starts a trial one step up; a rise is watched, kept, then released after keptMs', (t) => {
  const floor = new DownlinkFloor();
  t.deepEqual(feed(floor, 0, 1000, (now) => short(now, 0)), [], 'no trial before the shortfall has lasted settleMs');
  t.deepEqual(feed(floor, 2000, 2000, (now) => short(now, 0)), [[2000, 150_000 * O.stepFactor, 'trial']]);
  t.true(floor.trialOn);
  const reached = (now: number) => ({ ...short(now, 0.01), available: 375_000, belowTarget: false, rose: true });
  t.deepEqual(feed(floor, 3000, 4000, reached), [], 'watched for holdMs after the consumers rose (at 3 s)');
  t.deepEqual(feed(floor, 5000, 5000, reached), [[5000, 375_000, 'succeeded']]);
  t.true(floor.wantsMeasurements, 'a kept floor is watched for loss and delay');
  const atTarget = (now: number) => ({ ...short(now, 0.01), available: 375_000, desired: 360_000, belowTarget: false });
  t.deepEqual(feed(floor, 6000, 5000 + O.keptMs, atTarget), [[5000 + O.keptMs, 0, 'released']]);
  t.false(floor.wantsMeasurements);
});

test('a trial steps up from the estimate or the kept floor, never past what the consumers want', (t) => {
  const capped = new DownlinkFloor();
  feed(capped, 0, 2000, (now) => ({ ...short(now, 0), available: 500_000, desired: 600_000 }));
  t.is(capped.floor, 630_000, 'what is wanted, plus the margin');
  const collapsed = new DownlinkFloor();
  feed(collapsed, 0, 2000, (now) => ({ ...short(now, 0), available: 20_000 }));
  t.is(collapsed.floor, 100_000 * O.stepFactor, 'from a collapsed estimate the step starts at 100 kbit/s');
  const frameRate = new DownlinkFloor();
  feed(frameRate, 0, 2000, (now) => ({ ...short(now, 0), temporalOnly: true }));
  t.is(frameRate.floor, 150_000 * O.temporalStepFactor, 'short of frame rate only: the smaller step');
  // a climb: still short after a kept step -> the next trial at once, from the kept floor
  const climbing = keptFloor();
  t.deepEqual(feed(climbing, 6000, 6000, (now) => short(now, 0)), [[6000, Math.min(945_000, 375_000 * O.stepFactor), 'trial']]);
});

test('loss or a growing round trip ends a trial, a watched rise or a kept floor at once', (t) => {
  const lossyTrial = new DownlinkFloor();
  feed(lossyTrial, 0, 2000, (now) => short(now, 0));
  t.deepEqual(feed(lossyTrial, 3000, 3000, (now) => short(now, 0.3)), [[3000, 0, 'failed']]);
  const lossyHold = new DownlinkFloor();
  feed(lossyHold, 0, 3000, (now) => ({ ...short(now, 0), rose: now === 3000 }));
  t.deepEqual(feed(lossyHold, 4000, 4000, (now) => short(now, 0.5)), [[4000, 0, 'failed']]);
  const lossyKept = keptFloor();
  t.deepEqual(feed(lossyKept, 6000, 8000, (now) => ({ ...short(now, now === 8000 ? 0.2 : 0.05), belowTarget: false })), [[8000, 0, 'failed']]);
  // a queue building without loss (deep buffers, a link that delays rather than drops)
  const queued = keptFloor();
  const rtt = (now: number) => (now < 8000 ? 40 : 40 + O.rttRiseMs + 10);
  t.deepEqual(feed(queued, 6000, 9000, (now) => ({ ...short(now, 0), belowTarget: false, rttMs: rtt(now) })), [[8000, 0, 'failed']]);
});

test('failures back off exponentially up to the cap; only a kept floor released clean resets the backoff', (t) => {
  const floor = new DownlinkFloor();
  const trials: number[] = [];
  let now = 0;
  const failOnce = () => {
    while (floor.floor === 0) {
      floor.onSample(short(now, 0));
      if (floor.floor > 0) trials.push(now);
      now += 1000;
      if (now > 10_000_000) throw new Error('no trial');
    }
    t.is(floor.onSample(short(now, 0.3)), 0);
    now += 1000;
  };
  for (let i = 0; i < 6; i++) failOnce();
  const gaps = trials.slice(1).map((at, i) => at - trials[i]!);
  // each gap: the failing sample (1 s) + the backoff
  const expected = [1, 2, 4, 8, 12].map((k) => Math.min(O.maxBackoffMs, k * O.baseBackoffMs) + 1000);
  t.deepEqual(gaps, expected, `gaps ${gaps.join(', ')}`);
  // a success alone does not reset it ...
  const waitAfter = (f: DownlinkFloor, from: number): number => {
    for (let at = from; at < from + 1_000_000; at += 1000) if (f.onSample(short(at, 0)) !== undefined && f.lastEvent === 'trial') return at - from;
    return Infinity;
  };
  while (floor.floor === 0) floor.onSample(short((now += 1000), 0));
  feed(floor, now + 1000, now + 3000, (at) => ({ ...short(at, 0), rose: true }));
  now += 3000;
  t.is(floor.lastEvent, 'succeeded');
  t.is(floor.onSample({ ...short((now += 1000), 0.3), belowTarget: false }), 0, 'loss on the kept floor');
  t.true(waitAfter(floor, now + 1000) >= O.maxBackoffMs - 1000, 'still at the capped wait');
});

test('a clean release resets the backoff', (t) => {
  const floor = new DownlinkFloor();
  feed(floor, 0, 2000, (now) => short(now, 0));
  feed(floor, 3000, 3000, (now) => short(now, 0.3)); // failed: next wait is baseBackoffMs, then doubled
  t.is(floor.lastEvent, 'failed');
  let now = 4000;
  while (floor.floor === 0) floor.onSample(short((now += 1000), 0));
  feed(floor, now + 1000, now + 3000, (at) => ({ ...short(at, 0), rose: true }));
  now += 3000;
  t.is(floor.lastEvent, 'succeeded');
  const released = feed(floor, now + 1000, now + O.keptMs, (at) => ({ ...short(at, 0), belowTarget: false }));
  t.is(released.at(-1)?.[2], 'released');
  now += O.keptMs;
  // short again: a trial after the settle time, no backoff
  const [next] = feed(floor, now + 1000, now + 1000 + O.settleMs, (at) => short(at, 0));
  t.deepEqual(next?.[2], 'trial');
});

test('no trial on a lossy link, without a loss figure, or when nothing is short', (t) => {
  const floor = new DownlinkFloor();
  t.deepEqual(feed(floor, 0, 30_000, (now) => short(now, 0.05)), [], 'loss above quietLoss: the link is already struggling');
  t.deepEqual(feed(floor, 31_000, 60_000, (now) => short(now)), [], 'no measured loss: no trial');
  t.deepEqual(feed(floor, 61_000, 90_000, (now) => ({ ...short(now, 0), belowTarget: false })), [], 'every consumer at its target');
  t.deepEqual(feed(floor, 91_000, 120_000, (now) => ({ ...short(now, 0), desired: 155_000 })), [], 'what is wanted fits the estimate');
  t.false(floor.wantsMeasurements, 'no stats requests while nothing is short');
  const flapping = new DownlinkFloor();
  t.deepEqual(feed(flapping, 0, 20_000, (now) => ({ ...short(now, 0), belowTarget: (now / 1000) % 2 === 0 })), [], 'a shortfall that comes and goes');
});

test('a trial that raises nothing gives up after trialMs; one whose need vanished is cancelled; neither is a failure', (t) => {
  const floor = new DownlinkFloor();
  t.deepEqual(feed(floor, 0, 2000 + O.trialMs, (now) => short(now, 0)), [
    [2000, 375_000, 'trial'],
    [2000 + O.trialMs, 0, 'no-gain'],
  ]);
  // the first no-gain is retried after the settle time; the next ones wait baseBackoffMs, then doubled
  const retry = feed(floor, 3000 + O.trialMs, 3000 + O.trialMs + O.settleMs, (now) => short(now, 0));
  t.deepEqual(retry.map((c) => c[2]), ['trial']);
  t.true(retry[0]![0] >= 2000 + O.trialMs + O.settleMs, `retried at ${retry[0]![0]}`);
  const second = retry[0]![0] + O.trialMs;
  t.deepEqual(feed(floor, retry[0]![0] + 1000, second, (now) => short(now, 0)).map((c) => c[2]), ['no-gain']);
  const third = feed(floor, second + 1000, second + O.baseBackoffMs + O.settleMs, (now) => short(now, 0));
  t.is(third.length, 1);
  t.true(third[0]![0] >= second + O.baseBackoffMs, `third trial at ${third[0]![0]}: after the base wait`);
  // the receiver asked for a lower layer meanwhile: not a success, the floor goes back
  const cancelled = new DownlinkFloor();
  feed(cancelled, 0, 2000, (now) => short(now, 0));
  t.deepEqual(feed(cancelled, 3000, 3000, (now) => ({ ...short(now, 0), belowTarget: false })), [[3000, 0, 'cancelled']]);
});

test('a frame-rate step that raised nothing is retried with the larger step', (t) => {
  const floor = new DownlinkFloor();
  const rate = (now: number) => ({ ...short(now, 0), temporalOnly: true });
  const changes = feed(floor, 0, 2000 + O.trialMs + 1000 + O.settleMs, rate);
  t.deepEqual(changes.map((c) => [c[1], c[2]]), [
    [150_000 * O.temporalStepFactor, 'trial'],
    [0, 'no-gain'],
    [150_000 * O.stepFactor, 'trial'],
  ]);
});

test('a kept floor follows what is wanted down, and a path change resets it', (t) => {
  const floor = keptFloor();
  t.is(floor.floor, 375_000);
  t.deepEqual(feed(floor, 6000, 6000, (now) => ({ ...short(now, 0), desired: 200_000, belowTarget: false })), [[6000, 210_000, 'lowered']]);
  t.deepEqual(feed(floor, 7000, 7000, (now) => ({ ...short(now, 0), desired: 0, belowTarget: false })), [[7000, 0, 'lowered']], 'nothing wanted: no floor');
  const moved = keptFloor();
  t.is(moved.reset(), 0);
  t.is(moved.lastEvent, 'reset');
  t.is(moved.floor, 0);
  t.is(new DownlinkFloor().reset(), undefined, 'nothing to reset');
});
