// The downlink floor's decisions, sample by sample (the real thing, against Chromium on a shaped link, is
// e2e/test/downlink-adaptation.test.ts).
import test from 'ava';
import { DownlinkFloor, DOWNLINK_FLOOR_DEFAULTS, type DownlinkSample } from '../../src/sfu/downlink-floor.js';

const short = (now: number, loss?: number): DownlinkSample => ({ now, available: 150_000, desired: 900_000, belowTarget: true, loss });

/** Feeds a sample each second from `from` to `to` (inclusive) and returns the floors it changed to. */
function feed(floor: DownlinkFloor, from: number, to: number, sample: (now: number) => DownlinkSample): Array<[number, number, string]> {
  const changes: Array<[number, number, string]> = [];
  for (let now = from; now <= to; now += 1000) {
    const f = floor.onSample(sample(now));
    if (f !== undefined) changes.push([now, f, floor.lastEvent!]);
  }
  return changes;
}

test('a quiet shortfall that lasts starts a trial one step up; a reached layer keeps the floor until a long healthy spell', (t) => {
  const o = DOWNLINK_FLOOR_DEFAULTS;
  const floor = new DownlinkFloor();
  t.deepEqual(feed(floor, 0, 1000, (now) => short(now, 0)), [], 'no trial before the shortfall has lasted settleMs');
  const [trial] = feed(floor, 2000, 2000, (now) => short(now, 0));
  t.deepEqual(trial, [2000, 375_000, 'trial']);
  t.is(floor.floor, 375_000);
  // the consumers reach their layers: watched for holdMs, then kept
  const reached = (now: number) => ({ ...short(now, 0.01), available: 375_000, belowTarget: false });
  t.deepEqual(feed(floor, 3000, 4000, reached), [], 'watched for holdMs after the layers were reached (at 3 s)');
  t.deepEqual(feed(floor, 5000, 5000, reached), [[5000, 375_000, 'succeeded']]);
  t.true(floor.wantsLoss, 'a kept floor is watched for loss');
  const released = feed(floor, 6000, 6000 + o.releaseAfterMs, reached);
  t.deepEqual(released, [[6000 + o.releaseAfterMs, 0, 'released']], 'released after releaseAfterMs at the target');
  t.false(floor.wantsLoss);
});

test('loss while a kept floor is in force drops it', (t) => {
  const floor = new DownlinkFloor();
  feed(floor, 0, 2000, (now) => short(now, 0));
  feed(floor, 3000, 6000, (now) => ({ ...short(now, 0), belowTarget: false }));
  t.is(floor.lastEvent, 'succeeded');
  t.deepEqual(feed(floor, 7000, 9000, (now) => ({ ...short(now, now === 9000 ? 0.2 : 0.05), belowTarget: false })), [[9000, 0, 'failed']]);
});

test('a trial steps up from the estimate, never past what the consumers want', (t) => {
  const o = DOWNLINK_FLOOR_DEFAULTS;
  const stepped = new DownlinkFloor();
  feed(stepped, 0, 2000, (now) => short(now, 0));
  t.is(stepped.floor, 150_000 * o.stepFactor, 'one step: the estimate times stepFactor');
  const capped = new DownlinkFloor();
  feed(capped, 0, 2000, (now) => ({ ...short(now, 0), available: 500_000, desired: 600_000 }));
  t.is(capped.floor, 630_000, 'what is wanted, plus the margin');
  const collapsed = new DownlinkFloor();
  feed(collapsed, 0, 2000, (now) => ({ ...short(now, 0), available: 20_000 }));
  t.is(collapsed.floor, 100_000 * o.stepFactor, 'from a collapsed estimate the step starts at 100 kbit/s');
  const frameRate = new DownlinkFloor();
  feed(frameRate, 0, 2000, (now) => ({ ...short(now, 0), temporalOnly: true }));
  t.is(frameRate.floor, 150_000 * o.temporalStepFactor, 'short of frame rate only: the smaller step');
});

test('loss during a trial removes the floor at once, and trials back off exponentially up to the cap', (t) => {
  const o = DOWNLINK_FLOOR_DEFAULTS;
  const floor = new DownlinkFloor();
  const trials: number[] = [];
  let now = 0;
  for (let i = 0; i < 6; i++) {
    // wait for the next trial (a lossy sample each time it starts)
    while (floor.floor === 0) {
      floor.onSample(short(now, 0));
      if (floor.floor > 0) trials.push(now);
      now += 1000;
      if (now > 1_000_000) return t.fail('no trial');
    }
    t.is(floor.onSample(short(now, 0.3)), 0, 'loss above failLoss ends the trial');
    t.is(floor.lastEvent, 'failed');
    now += 1000;
  }
  const gaps = trials.slice(1).map((at, i) => at - trials[i]!);
  // each gap: the failing sample (1 s) + the backoff, until the shortfall's settle time is over too
  t.deepEqual(gaps, [o.baseBackoffMs, 2 * o.baseBackoffMs, o.maxBackoffMs, o.maxBackoffMs, o.maxBackoffMs].map((b) => b + 1000), `gaps ${gaps.join(', ')}`);
});

test('no trial on a lossy link, without a loss figure, or when nothing is below its target', (t) => {
  const floor = new DownlinkFloor();
  t.deepEqual(feed(floor, 0, 30_000, (now) => short(now, 0.05)), [], 'loss above quietLoss: the link is already struggling');
  t.deepEqual(feed(floor, 31_000, 60_000, (now) => short(now)), [], 'no measured loss: no trial');
  t.deepEqual(feed(floor, 61_000, 90_000, (now) => ({ ...short(now, 0), belowTarget: false })), [], 'every consumer at its target');
  t.deepEqual(feed(floor, 91_000, 120_000, (now) => ({ ...short(now, 0), desired: 155_000 })), [], 'what is wanted fits the estimate');
  t.false(floor.wantsLoss, 'no stats requests while nothing is short');
});

test('a shortfall that comes and goes does not add up to a trial', (t) => {
  const floor = new DownlinkFloor();
  const changes = feed(floor, 0, 20_000, (now) => ((now / 1000) % 2 === 0 ? short(now, 0) : { ...short(now, 0), belowTarget: false }));
  t.deepEqual(changes, []);
});

test('a trial that switches nothing gives up after trialMs without counting as a failure', (t) => {
  const o = DOWNLINK_FLOOR_DEFAULTS;
  const floor = new DownlinkFloor();
  const changes = feed(floor, 0, 2000 + o.trialMs, (now) => short(now, 0));
  t.deepEqual(changes, [
    [2000, 375_000, 'trial'],
    [2000 + o.trialMs, 0, 'no-gain'],
  ], 'back to the floor before the trial (none)');
  // next trial after the base wait (not a doubled one), plus the settle time of the new shortfall
  const next = feed(floor, 3000 + o.trialMs, 3000 + o.trialMs + o.baseBackoffMs + o.settleMs, (now) => short(now, 0));
  t.is(next.length, 1);
  t.is(next[0]![2], 'trial');
  t.true(next[0]![0] >= 2000 + o.trialMs + o.baseBackoffMs, `next trial at ${next[0]![0]}`);
});

test('a trial that lifts the consumers a step without loss counts as a gain, even short of their target', (t) => {
  const floor = new DownlinkFloor();
  feed(floor, 0, 2000, (now) => ({ ...short(now, 0), level: 32 }));
  t.is(floor.lastEvent, 'trial');
  t.deepEqual(feed(floor, 3000, 3000, (now) => ({ ...short(now, 0), level: 33 })), [], 'one temporal step up: held');
  const [kept] = feed(floor, 4000, 5000, (now) => ({ ...short(now, 0), level: 33 }));
  t.deepEqual(kept, [5000, 375_000, 'succeeded']);
  // still short: the next trial comes at once (a climb on a kept floor), stepping up from the kept floor
  const [next] = feed(floor, 6000, 20_000, (now) => ({ ...short(now, 0), level: 33 }));
  t.deepEqual(next, [6000, 375_000 * DOWNLINK_FLOOR_DEFAULTS.stepFactor, 'trial']);
});

test('loss while the floor is held after a success ends it as a failure', (t) => {
  const floor = new DownlinkFloor();
  feed(floor, 0, 2000, (now) => short(now, 0));
  t.true(floor.floor > 0);
  floor.onSample({ ...short(3000, 0), belowTarget: false });
  t.is(floor.onSample({ ...short(4000, 0.5), belowTarget: false }), 0);
  t.is(floor.lastEvent, 'failed');
});
