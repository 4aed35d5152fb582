import test from 'ava';
import { defaultMetricsUrl, parseDuration, parseLoadOptions } from '../../src/load/load-options.js';

const base = ['--url', 'http://localhost:5002', '--token', 't'];

test('defaults and every option', (t) => {
  const d = parseLoadOptions(base);
  t.true(d.ok === true && d.options.rooms === 1 && d.options.publishers === 1 && d.options.subscribers === 2 && d.options.durationS === 30 && d.options.video && d.options.audio);
  const all = parseLoadOptions([...base, '--rooms=10', '--publishers', '2', '--subscribers', '10', '--duration', '2m', '--no-audio', '--video-kbps', '500', '--metrics', 'http://a:1/metrics,http://b:2/metrics', '--verbose']);
  t.deepEqual(all, {
    ok: true,
    options: { url: 'http://localhost:5002', token: 't', rooms: 10, publishers: 2, subscribers: 10, durationS: 120, video: true, audio: false, videoKbps: 500, metrics: ['http://a:1/metrics', 'http://b:2/metrics'], concurrency: 10, verbose: true },
  });
  t.deepEqual(parseLoadOptions(['--help']), { ok: 'help' });
  const fromEnv = parseLoadOptions(['--url', 'https://fj.example.com/'], { FJ_SERVER_API_TOKEN: 'env' });
  t.true(fromEnv.ok === true && fromEnv.options.token === 'env' && fromEnv.options.url === 'https://fj.example.com');
});

const bad: [string[], RegExp][] = [
  [['--token', 't'], /--url is required/],
  [['--url', 'ftp://x', '--token', 't'], /--url must use http or https/],
  [[...base, '--rooms', '0'], /--rooms must be a whole number from 1 to 1000, got "0"/],
  [[...base, '--subscribers', '-1'], /--subscribers needs a value|--subscribers must be a whole number/],
  [[...base, '--publishers', '2.5'], /--publishers must be a whole number/],
  [[...base, '--duration', 'soon'], /--duration must be seconds/],
  [[...base, '--video=maybe'], /--video must be true or false/],
  [[...base, '--no-video', '--no-audio'], /publishers need a track/],
  [[...base, '--rooms'], /--rooms needs a value/],
  [[...base, '--frobnicate'], /unknown option --frobnicate/],
  [[...base, 'stray'], /unexpected argument "stray"/],
  [[...base, '--rooms', '100', '--subscribers', '100'], /more than one load process can hold/],
];
for (const [argv, error] of bad) {
  test(`refused: ${argv.slice(4).join(' ') || argv.join(' ')}`, (t) => {
    const r = parseLoadOptions(argv);
    t.false(r.ok);
    if (r.ok === false) t.regex(r.errors.join('\n'), error);
  });
}

test('all problems at once', (t) => {
  const r = parseLoadOptions(['--rooms', 'x', '--duration', '0']);
  t.true(r.ok === false && r.errors.length === 4, JSON.stringify(r));
});

test('durations and the default metrics endpoint', (t) => {
  t.is(parseDuration('45'), 45);
  t.is(parseDuration('45s'), 45);
  t.is(parseDuration('2m'), 120);
  t.is(parseDuration('1h'), 3600);
  t.is(parseDuration('1d'), undefined);
  t.is(defaultMetricsUrl('https://fj.example.com:8443'), 'http://fj.example.com:9568/metrics');
});
