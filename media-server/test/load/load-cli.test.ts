// `npm run load` end to end: the CLI, as a user runs it, against a whole node in-process (1 room x 1 publisher x 2
// subscribers for 20 s): the numbers it prints must be real (joins timed, packets received, the worker's load read).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { freePort } from '../support/free-port.js';
import { startTestNode, TOKEN, type TestNode } from '../support/test-node.js';

const cli = fileURLToPath(new URL('../../src/load/load-cli.ts', import.meta.url));

function run(args: string[], timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load CLI did not stop within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let node: TestNode | undefined;
test.after.always(async () => {
  await node?.stop();
});

test('1 room x 1 publisher x 2 subscribers for 20 s: join latencies, packets per subscriber and the worker load are printed', async (t) => {
  // peer_websocket_url carries FJ_HOST: the node listens where it says it does
  const port = await freePort();
  node = await startTestNode({ FJ_WEBRTC_LISTEN_IP: '127.0.0.1', FJ_HOST: `127.0.0.1:${port}` }, { port });
  const started = Date.now();
  const { code, stdout, stderr } = await run([
    '--url', node.base, '--token', TOKEN, '--rooms', '1', '--publishers', '1', '--subscribers', '2', '--duration', '20',
    '--metrics', `http://127.0.0.1:${node.node.metricsPort}/metrics`,
  ]);
  t.log(stdout);
  t.is(code, 0, stderr);
  t.true(Date.now() - started < 60_000, 'it stops by itself after its duration');
  t.regex(stdout, /joined: publishers 1\/1, subscribers 2\/2/);
  // a latency row: name, n, p50, p90, p99, max, all numbers
  const row = (name: string) => new RegExp(`${name}\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`).exec(stdout);
  t.is(row('publisher connected')?.[1], '1');
  t.is(row('subscriber connected')?.[1], '2');
  const media = row('subscriber first media');
  t.is(media?.[1], '2');
  t.true(Number(media?.[2]) > 0);
  const subscribers = [...stdout.matchAll(/(r0-sub\d)\s+streams (\d+)\s+received\s+(\d+)\s+lost\s+(\d+)/g)];
  t.is(subscribers.length, 2);
  for (const [, label, streams, received] of subscribers) {
    t.is(streams, '2', `${label} gets the video and the audio track`);
    t.true(Number(received) > 300, `${label} received ${received} packets`);
  }
  t.regex(stdout, /t=\s*\d+s\s+127\.0\.0\.1:\d+ w0 \d+%\/\d+c/, 'the worker load over time');
  t.regex(stderr, /joined \d+\/3/, 'a progress line');
  // the rooms it made are gone
  t.deepEqual((await node.api('/room')).body.data, []);
});

test('bad options: every problem at once, exit code 2, nothing run', async (t) => {
  const { code, stderr } = await run(['--url', 'localhost:5002', '--rooms', '0', '--duration', 'soon', '--bogus']);
  t.is(code, 2);
  t.regex(stderr, /--url must use http or https|--url must be an http\(s\) URL/);
  t.regex(stderr, /--token is required/);
  t.regex(stderr, /--rooms must be a whole number from 1/);
  t.regex(stderr, /--duration must be seconds/);
  t.regex(stderr, /unknown option --bogus/);
});
