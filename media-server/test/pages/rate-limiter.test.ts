import test from 'ava';
import { clientKey } from '../../src/pages/page-routes.js';
import { RateLimiter } from '../../src/pages/rate-limiter.js';

const options = { perKey: { burst: 3, perSecond: 1 }, overall: { burst: 5, perSecond: 2 }, maxKeys: 4 };

test('a key gets its burst, then one token per refill period, with the wait to the next one', (t) => {
  const l = new RateLimiter(options, 0);
  t.deepEqual([1, 2, 3].map(() => l.take('a', 0).ok), [true, true, true]);
  t.deepEqual(l.take('a', 0), { ok: false, retryAfterSeconds: 1 });
  t.false(l.take('a', 500).ok);
  t.true(l.take('a', 1000).ok);
});

test('the shared bucket bounds all keys together', (t) => {
  const l = new RateLimiter(options, 0);
  const results = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => l.take(k, 0).ok);
  t.deepEqual(results, [true, true, true, true, true, false]);
  t.true(l.take('g', 500).ok, 'two shared tokens a second come back');
});

test('the key map stays bounded: idle keys go first, then all', (t) => {
  const l = new RateLimiter({ ...options, overall: { burst: 1000, perSecond: 1000 } }, 0);
  for (let i = 0; i < 4; i++) l.take(`k${i}`, 0);
  t.is(l.size, 4);
  l.take('k4', 10_000); // every earlier key is full again by now: dropped
  t.is(l.size, 1);
  for (let i = 5; i < 8; i++) l.take(`k${i}`, 10_000);
  l.take('k9', 10_000); // nobody is idle: the map is cleared rather than grown
  t.true(l.size <= 4);
});

test('the demo limit keys an IPv6 client by its /64 (a host picks any address of it), IPv4 as it is', (t) => {
  t.is(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.is(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:fffe'), '2001:db8:1:2::/64');
  t.is(clientKey('2001:db8::5'), '2001:db8:0:0::/64');
  t.is(clientKey('::1'), '0:0:0:0::/64');
  t.is(clientKey('::ffff:10.1.2.3'), '10.1.2.3');
  t.is(clientKey('192.0.2.7'), '192.0.2.7');
  t.is(clientKey(undefined), 'unknown');
});
