// The port mapper (EPMD's role): lookups and registrations work; a line without end, a silent connection and an
// address other than the dist listener's get nothing.
import net from 'node:net';
import test from 'ava';
import { pino } from 'pino';
import { IDLE_MS, MAX_LINE, lookupPort, registerWithPortMapper } from '../../src/cluster/port-mapper.js';
import { freePort } from '../support/free-port.js';

const logger = pino({ level: 'silent' });

function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

const closedWithin = (s: net.Socket, ms: number) =>
  new Promise<number>((resolve, reject) => {
    const start = Date.now();
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
  });

test('registrations and lookups; a line past the limit closes the connection at once', async (t) => {
  const mapperPort = await freePort();
  const first = await registerWithPortMapper({ name: 'a', port: 9101, mapperPort, bindIp: '127.0.0.1', logger });
  const second = await registerWithPortMapper({ name: 'b', port: 9102, mapperPort, bindIp: '127.0.0.1', logger });
  try {
    t.true(first.serving);
    t.false(second.serving);
    t.is(await lookupPort('127.0.0.1', 'a', mapperPort), 9101);
    t.is(await lookupPort('127.0.0.1', 'b', mapperPort), 9102);
    await t.throwsAsync(lookupPort('127.0.0.1', 'nobody', mapperPort), { message: /not registered/ });

    const flood = await connect(mapperPort);
    const closed = closedWithin(flood, 2000);
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    // 256 MiB would be sent if the mapper kept reading; it closes after MAX_LINE bytes
    for (; sent < 256 * 1024 * 1024 && !flood.destroyed && flood.writable; sent += chunk.length) {
      if (!flood.write(chunk)) await new Promise((r) => setTimeout(r, 5));
      if (sent > 64 * 1024 * 1024) break;
    }
    t.true((await closed) < 2000);
    t.true(sent < 64 * 1024 * 1024, `closed after ${sent} bytes were written (limit ${MAX_LINE})`);
    t.is(await lookupPort('127.0.0.1', 'a', mapperPort), 9101, 'the mapper still serves');
  } finally {
    second.close();
    first.close();
  }
});

test('a connection that does not register is closed after the idle time', async (t) => {
  const mapperPort = await freePort();
  const handle = await registerWithPortMapper({ name: 'a', port: 9101, mapperPort, bindIp: '127.0.0.1', logger });
  try {
    const idle = await connect(mapperPort);
    const ms = await closedWithin(idle, IDLE_MS + 2000);
    t.true(ms >= IDLE_MS - 100, `closed after ${ms} ms`);
  } finally {
    handle.close();
  }
});

test('the mapper binds only the dist listener\'s address', async (t) => {
  const mapperPort = await freePort();
  const handle = await registerWithPortMapper({ name: 'a', port: 9101, mapperPort, bindIp: '127.0.0.1', logger });
  try {
    t.is(await lookupPort('127.0.0.1', 'a', mapperPort), 9101);
    await t.throwsAsync(connect(mapperPort, '127.0.0.2'), { code: 'ECONNREFUSED' });
  } finally {
    handle.close();
  }
});
