// `npm run load -- --url … --token … --rooms N --publishers M --subscribers K --duration 60`: a load test against any
// deployment, like `lk load-test`. Exit code 0 when every peer joined and every subscriber received media, 1 when
// not, 2 for bad options.
import { parseLoadOptions, USAGE } from './load-options.js';
import { formatReport } from './load-report.js';
import { runLoadTest } from './load-test.js';

const parsed = parseLoadOptions(process.argv.slice(2), process.env);
if (parsed.ok === 'help') {
  console.log(USAGE);
  process.exit(0);
}
if (!parsed.ok) {
  for (const e of parsed.errors) console.error(`error: ${e}`);
  console.error('');
  console.error(USAGE);
  process.exit(2);
}
const options = parsed.options;
const tty = process.stderr.isTTY === true;
let lastPrinted = 0;
let pending = false;
const abort = new AbortController();
process.once('SIGINT', () => {
  process.stderr.write('\nSIGINT: stopping early, closing peers and deleting rooms\n');
  abort.abort();
});

try {
  const result = await runLoadTest(options, {
    signal: abort.signal,
    progress: (line) => {
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 200) - 1)}`);
        pending = true;
      } else if (Date.now() - lastPrinted >= 5000) {
        lastPrinted = Date.now();
        process.stderr.write(`${line}\n`);
      }
    },
    log: (line) => {
      if (pending) process.stderr.write('\n');
      pending = false;
      process.stderr.write(`${line}\n`);
    },
  });
  if (pending) process.stderr.write('\n');
  for (const line of formatReport(result)) console.log(line);
  const subs = result.peers.filter((p) => p.role === 'subscriber');
  const ok = result.peers.every((p) => p.joined) && subs.every((p) => p.received > 0);
  process.exit(ok ? 0 : 1);
} catch (error) {
  if (pending) process.stderr.write('\n');
  console.error(`error: ${(error as Error).message}`);
  process.exit(1);
}
