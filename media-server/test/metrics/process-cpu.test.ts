// The component processes' CPU from /proc/<pid>/stat, measured on real child processes: one burning CPU reads what
// the scheduler says it used (/proc/<pid>/schedstat), one sleeping reads about nothing, a process that exits is
// dropped, a reused pid never gives a negative figure, and one sample reads at most MAX_PROCESSES files.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableCores, MAX_PROCESSES, parseProcStat, ProcessCpu } from '../../src/metrics/process-cpu.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(script: string): ChildProcess {
  return spawn('sh', ['-c', script], { stdio: 'ignore' });
}

test('parseProcStat: real lines, names with spaces and parentheses, garbage', (t) => {
  const self = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  t.truthy(self);
  t.true(self!.cpuTicks >= 0 && self!.startTicks > 0);
  const odd = '42 (a) b (c)) S 1 1 1 0 -1 4194304 0 0 0 0 7 5 0 0 20 0 1 0 999 0 0';
  t.deepEqual(parseProcStat(odd), { cpuTicks: 12, startTicks: 999 });
  for (const bad of ['', 'garbage', '1 (x) S 1 2', '1 (x) S 1 1 1 0 -1 0 0 0 0 0 a b 0 0 20 0 1 0 9']) t.is(parseProcStat(bad), undefined, bad);
});

/** CPU time of a process from another source than the sampler's: /proc/<pid>/schedstat (nanoseconds on a CPU). */
const onCpuSeconds = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;

test('a process burning CPU reads what the scheduler says it used; a sleeping one about none; an exited one is dropped', async (t) => {
  const burner = start('while :; do :; done');
  const sleeper = start('sleep 60');
  t.teardown(() => {
    burner.kill('SIGKILL');
    sleeper.kill('SIGKILL');
  });
  const cpu = new ProcessCpu();
  const pids = [burner.pid!, sleeper.pid!];
  t.is(cpu.sample(pids), 0, 'the first sample only learns the processes');
  const per = new ProcessCpu();
  const sleeping = new ProcessCpu();
  const wallStart = performance.now();
  per.sample([burner.pid!], wallStart);
  const scheduledStart = onCpuSeconds(burner.pid!);
  sleeping.sample([sleeper.pid!]);
  await sleep(2000);
  const wallEnd = performance.now();
  const burnt = per.sample([burner.pid!], wallEnd);
  const scheduled = (onCpuSeconds(burner.pid!) - scheduledStart) / ((wallEnd - wallStart) / 1000);
  const both = cpu.sample(pids);
  const slept = sleeping.sample([sleeper.pid!]);
  t.log(`burner ${burnt.toFixed(3)} cores (scheduler: ${scheduled.toFixed(3)}), sleeper ${slept.toFixed(3)}, both ${both.toFixed(3)}`);
  // On an idle machine the burner takes a whole core; on a loaded one it may get much less: what is checked is that
  // the sample agrees with the scheduler's own account (clock ticks are 10 ms: 0.01 over 2 s, plus the reads' gap).
  t.true(scheduled > 0.005, `the burner ran (${scheduled})`);
  t.true(Math.abs(burnt - scheduled) < 0.05 + scheduled * 0.1, `${burnt} vs ${scheduled}`);
  t.true(burnt <= 1.05, String(burnt));
  t.true(slept < 0.02, String(slept));
  burner.kill('SIGKILL');
  await new Promise((r) => burner.once('exit', r));
  await sleep(300);
  t.true(cpu.sample(pids) < 0.02, 'the exited burner counts no more');
});

test('bounded work per sample; a reused pid (another start time) starts over; bad pids are skipped', (t) => {
  let reads = 0;
  let start = 100;
  let ticks = 0;
  const cpu = new ProcessCpu((pid) => {
    reads++;
    return `${pid} (ffmpeg) R 1 1 1 0 -1 0 0 0 0 0 ${ticks} 0 0 0 20 0 1 0 ${start}`;
  });
  t.is(cpu.sample(Array.from({ length: 10_000 }, (_, i) => i + 1), 0), 0);
  t.is(reads, MAX_PROCESSES);
  ticks = 50;
  t.is(cpu.sample([7], 1000), 0.5, '50 ticks in one second: half a core');
  ticks = 10;
  start = 200; // the pid now names another process: its lower time is not a negative delta
  t.is(cpu.sample([7], 2000), 0);
  reads = 0;
  t.is(cpu.sample([-1, 0, 1.5, Number.NaN, 7, 7], 3000), 0);
  t.is(reads, 1);
});

test('availableCores: the CPU count, lowered by a cgroup quota', (t) => {
  const cpus = availableCores(() => undefined);
  t.true(cpus >= 1);
  t.is(availableCores(() => 'max 100000\n'), cpus);
  t.is(availableCores(() => '50000 100000\n'), Math.min(cpus, 0.5));
  t.is(availableCores(() => `${cpus * 400000} 100000`), cpus, 'a quota above the CPU count changes nothing');
  t.is(availableCores(() => 'garbage'), cpus);
});
