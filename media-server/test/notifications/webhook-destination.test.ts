// Which webhook destinations are public, the guarded DNS lookup (every resolved address checked, the checked one
// used), and how URLs are shown in logs.
import test from 'ava';
import type { LookupAddress } from 'node:dns';
import { displayUrl, guardedLookup, isPublicAddress, literalAddressOf, RefusedDestinationError, type Resolver } from '../../src/notifications/webhook-destination.js';

const NOT_PUBLIC = [
  '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.254', '127.0.0.1', '127.1.2.3',
  '169.254.169.254', '172.16.0.1', '172.31.255.255', '192.0.0.8', '192.0.2.1', '192.168.1.1', '198.18.0.1',
  '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.251', '239.255.255.250', '240.0.0.1', '255.255.255.255',
  '::', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:10.0.0.1', '64:ff9b::10.1.2.3',
  '64:ff9b::a9fe:a9fe', '2002:c0a8:0101::1', '2002:7f00:1::', 'fc00::1', 'fd12:3456:789a::1', 'fe80::1', 'fe80::1%eth0',
  'febf::1', 'fec0::1', 'ff02::1', '::127.0.0.1', '2001:db8::1', '2001::1', '2001:0:4136:e378::1', '3fff::1', '100::1',
  'not an address', 'localhost', '',
];
const PUBLIC = [
  '1.1.1.1', '8.8.8.8', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '126.255.255.255', '128.0.0.1',
  '169.253.255.255', '172.15.255.255', '172.32.0.0', '192.167.255.255', '192.169.0.0', '198.17.255.255', '198.20.0.0',
  '223.255.255.255', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '2001:4860:4860::8888',
  '::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::8.8.8.8', '2002:0808:0808::1', '3fff:1000::1',
];

for (const address of NOT_PUBLIC) {
  test(`${JSON.stringify(address)} is not public`, (t) => t.false(isPublicAddress(address)));
}
for (const address of PUBLIC) {
  test(`${address} is public`, (t) => t.true(isPublicAddress(address)));
}

test('literal hosts of URLs, as the URL parser normalizes them', (t) => {
  t.is(literalAddressOf(new URL('http://127.0.0.1:8080/x')), '127.0.0.1');
  t.is(literalAddressOf(new URL('http://[::1]:8080/x')), '::1');
  t.is(literalAddressOf(new URL('http://[::ffff:127.0.0.1]/x')), '::ffff:7f00:1');
  t.is(literalAddressOf(new URL('http://2130706433/x')), '127.0.0.1'); // decimal
  t.is(literalAddressOf(new URL('http://0x7f.1/x')), '127.0.0.1'); // hex, short form
  t.is(literalAddressOf(new URL('http://0251.0376.0251.0376/x')), '169.254.169.254'); // octal
  t.is(literalAddressOf(new URL('http://example.com/x')), undefined);
  t.is(literalAddressOf(new URL('http://localhost/x')), undefined);
});

function fakeResolver(answers: Record<string, string[]>): Resolver {
  return (hostname, _options, callback) => {
    const addresses = answers[hostname];
    if (!addresses) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
}

function lookupOnce(resolver: Resolver, hostname: string, all: boolean): Promise<{ err: Error | null; result: unknown }> {
  const lookup = guardedLookup(resolver);
  return new Promise((resolve) => {
    lookup(hostname, { all } as never, ((err: Error | null, address: unknown, family: unknown) =>
      resolve({ err, result: all ? address : [address, family] })) as never);
  });
}

const dns = fakeResolver({
  'public.test': ['93.184.216.34', '2606:2800:220:1::1'],
  'mixed.test': ['93.184.216.34', '127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'ula.test': ['2606:2800:220:1::1', 'fd00::1'],
});

test('a name resolving only to public addresses is connected to the first of them (or all, when asked)', async (t) => {
  t.deepEqual(await lookupOnce(dns, 'public.test', false), { err: null, result: ['93.184.216.34', 4] });
  const all = await lookupOnce(dns, 'public.test', true);
  t.is(all.err, null);
  t.deepEqual(all.result, [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::1', family: 6 }]);
});

test('a name with any non-public address is refused, naming the address', async (t) => {
  for (const [name, bad] of [['mixed.test', '127.0.0.1'], ['metadata.test', '169.254.169.254'], ['ula.test', 'fd00::1']] as const) {
    for (const all of [false, true]) {
      const { err, result } = await lookupOnce(dns, name, all);
      t.true(err instanceof RefusedDestinationError, `${name} all=${all}`);
      t.is((err as RefusedDestinationError).address, bad);
      t.true(err!.message.includes('FJ_WEBHOOK_ALLOW_PRIVATE'));
      t.deepEqual(result, all ? undefined : [undefined, undefined]);
    }
  }
});

test('resolution errors pass through', async (t) => {
  const { err } = await lookupOnce(dns, 'nowhere.test', false);
  t.is((err as NodeJS.ErrnoException).code, 'ENOTFOUND');
});

test('URLs are shown without user info and query string', (t) => {
  t.is(displayUrl('https://user:pa55@hooks.example.com:8443/fishjam/events?token=s3cret#frag'), 'https://hooks.example.com:8443/fishjam/events');
  t.is(displayUrl('http://example.com'), 'http://example.com/');
  t.is(displayUrl('not a url?token=s3cret'), '<invalid URL>');
});
