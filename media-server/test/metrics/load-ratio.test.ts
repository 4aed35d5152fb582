import test from 'ava';
import { loadRatio } from '../../src/metrics/load-ratio.js';

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
