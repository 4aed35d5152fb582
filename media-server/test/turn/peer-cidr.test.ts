// Pod networks for the TURN relay's allow list: CIDRs into coturn's ranges, and what is refused.
import test from 'ava';
import { cidrRange, inRange } from '../../src/turn/peer-cidr.js';

const ranges: Array<[string, string]> = [
  ['10.244.0.0/16', '10.244.0.0-10.244.255.255'],
  ['10.0.0.0/8', '10.0.0.0-10.255.255.255'],
  ['192.168.7.0/24', '192.168.7.0-192.168.7.255'],
  ['100.64.3.4/32', '100.64.3.4-100.64.3.4'],
  ['172.16.0.0/12', '172.16.0.0-172.31.255.255'],
];
for (const [cidr, range] of ranges) {
  test(`${cidr} -> ${range}`, (t) => t.deepEqual(cidrRange(cidr), { ok: true, range }));
}

const refused: Array<[string, RegExp]> = [
  ['', /not an IPv4 CIDR/],
  ['10.244.0.0', /not an IPv4 CIDR/],
  ['10.244.0.0/33', /not an IPv4 CIDR/],
  ['256.0.0.0/8', /not an IPv4 CIDR/],
  ['fd00::/8', /not an IPv4 CIDR/],
  ['10.244.0.0/16\nallowed-peer-ip=0.0.0.0', /not an IPv4 CIDR/],
  ['0.0.0.0/0', /wider than a \/8/],
  ['8.0.0.0/7', /wider than a \/8/],
  ['10.244.0.1/16', /host bits set \(did you mean 10\.244\.0\.0\/16\?\)/],
  ['127.0.0.0/8', /loopback/],
  ['169.254.0.0/16', /link-local/],
  ['169.254.169.254/32', /link-local/],
  ['224.0.0.0/8', /multicast/],
];
for (const [cidr, reason] of refused) {
  test(`refused: ${JSON.stringify(cidr)}`, (t) => {
    const r = cidrRange(cidr);
    t.false(r.ok);
    if (!r.ok) t.regex(r.reason, reason);
  });
}

test('inRange: an address in a range, at its ends, outside it, and garbage', (t) => {
  const range = '10.244.0.0-10.244.255.255';
  t.true(inRange('10.244.3.7', range));
  t.true(inRange('10.244.0.0', range));
  t.true(inRange('10.244.255.255', range));
  t.false(inRange('10.245.0.0', range));
  t.false(inRange('10.243.255.255', range));
  t.false(inRange('pod.example', range));
  t.false(inRange('10.244.0.1', 'nonsense'));
});
