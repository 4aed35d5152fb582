import test from 'ava';
import { componentShare, loadRatio, type ComponentCpu } from '../../src/metrics/load-ratio.js';

const w = (cpuRatio: number, consumers: number) => ({ cpuRatio, consumers });

const table: [string, ReturnType<typeof w>[], number, number][] = [
  ['idle', [w(0, 0), w(0, 0)], 500, 0],
  ['CPU bound: mean of the workers', [w(0.9, 10), w(0.3, 10)], 500, 0.6],
  ['consumer bound: consumers over capacity', [w(0.1, 400), w(0.1, 350)], 500, 0.75],
  ['a worker above one core counts as one', [w(3, 0), w(0, 0)], 500, 0.5],
  ['over capacity is full, never above 1', [w(0.2, 2000)], 500, 1],
  ['no worker: full', [], 500, 1],
  ['garbage figures count as nothing', [w(Number.NaN, Number.NaN), w(-1, -5)], 500, 0],
  ['a zero capacity setting is read as one consumer per worker', [w(0, 1)], 0, 1],
];
for (const [name, workers, max, want] of table) test(`loadRatio: ${name}`, (t) => t.is(loadRatio(workers, max), want));

// With the component processes (ffmpeg): workers' and components' cores over the cores the node may use.
const machine: [string, ReturnType<typeof w>[], ComponentCpu, number][] = [
  ['ffmpeg takes the machine: 1.5 of 2 cores', [w(0.1, 0), w(0.1, 0)], { cores: 1.3, available: 2 }, 0.75],
  ['no components: as before', [w(0.9, 10), w(0.3, 10)], { cores: 0, available: 2 }, 0.6],
  ['a saturated worker stays full whatever the machine', [w(1, 0)], { cores: 0, available: 8 }, 1],
  ['more than the machine is full', [w(0.5, 0)], { cores: 4, available: 2 }, 1],
  ['garbage component figures count as nothing', [w(0.2, 0)], { cores: Number.NaN, available: 2 }, 0.2],
  ['an unknown core count leaves the machine out', [w(0.2, 0)], { cores: 5, available: -3 }, 0.2],
];
for (const [name, workers, components, want] of machine) {
  test(`loadRatio with components: ${name}`, (t) => t.is(Math.round(loadRatio(workers, 500, components) * 1000) / 1000, want));
}
test('componentShare: cores over available, 0..1', (t) => {
  t.is(componentShare({ cores: 0.5, available: 2 }), 0.25);
  t.is(componentShare({ cores: 9, available: 2 }), 1);
  t.is(componentShare(undefined), 0);
  t.is(componentShare({ cores: -1, available: 2 }), 0);
});
