// The coturn configuration file, as text: what it confines, and what it refuses to write.
import test from 'ava';
import { coturnConfig, type CoturnConfigInput, NONCE_LIFETIME_S, USER_QUOTA } from '../../src/turn/coturn-config.js';

const base: CoturnConfigInput = {
  listenIp: '10.1.2.3',
  port: 3478,
  relayIp: '10.1.2.3',
  externalIp: undefined,
  relayMinPort: 51000,
  relayMaxPort: 51999,
  allowedPeerIps: ['10.1.2.3'],
  secret: 's3cr3t-value',
  workdir: '/tmp/fishjam-turn-abc',
};

function lines(input: Partial<CoturnConfigInput> = {}): string[] {
  return coturnConfig({ ...base, ...input }).trimEnd().split('\n');
}

test('UDP relays only, to the WebRTC addresses only', (t) => {
  const l = lines({ allowedPeerIps: ['10.1.2.3', '203.0.113.7'] });
  for (const line of ['no-tcp-relay', 'no-multicast-peers', 'denied-peer-ip=0.0.0.0-255.255.255.255', 'denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'allowed-peer-ip=10.1.2.3', 'allowed-peer-ip=203.0.113.7']) {
    t.true(l.includes(line), line);
  }
  t.is(l.filter((x) => x.startsWith('allowed-peer-ip=')).length, 2);
  t.false(l.includes('allow-loopback-peers'));
  t.false(l.some((x) => x.startsWith('server-relay')));
});

test('loopback peers are allowed only when a WebRTC address is a loopback one', (t) => {
  t.true(lines({ listenIp: '127.0.0.1', relayIp: '127.0.0.1', allowedPeerIps: ['127.0.0.1'] }).includes('allow-loopback-peers'));
  t.false(lines().includes('allow-loopback-peers'));
});

test('credentials, quotas and the rest of the hardening', (t) => {
  const l = lines();
  for (const line of ['use-auth-secret', 'static-auth-secret=s3cr3t-value', 'realm=fishjam', `stale-nonce=${NONCE_LIFETIME_S}`, `user-quota=${USER_QUOTA}`, 'no-cli', 'no-tls', 'no-dtls', 'no-tlsv1', 'no-tlsv1_1', 'no-rfc5780', 'no-stun-backward-compatibility', 'response-origin-only-with-rfc5780', 'no-software-attribute', 'fingerprint']) {
    t.true(l.includes(line), line);
  }
  // the user database must stay read for peer lists and realms (see coturn-config.ts)
  t.false(l.includes('no-dynamic-ip-list'));
  t.false(l.includes('no-dynamic-realms'));
});

test('listener, relay ports and files', (t) => {
  const l = lines({ externalIp: '198.51.100.1/10.1.2.3' });
  for (const line of ['listening-ip=10.1.2.3', 'listening-port=3478', 'relay-ip=10.1.2.3', 'external-ip=198.51.100.1/10.1.2.3', 'min-port=51000', 'max-port=51999', 'userdb=/tmp/fishjam-turn-abc/turndb', 'pidfile=/tmp/fishjam-turn-abc/turn.pid', 'log-file=stdout']) {
    t.true(l.includes(line), line);
  }
  t.false(lines().some((x) => x.startsWith('external-ip')));
});

const refused: Array<[string, Partial<CoturnConfigInput>, RegExp]> = [
  ['no allowed peer', { allowedPeerIps: [] }, /at least one allowed peer/],
  ['a host name as peer', { allowedPeerIps: ['media.example.com'] }, /not an IP address/],
  ['a range smuggled in as peer', { allowedPeerIps: ['0.0.0.0-255.255.255.255'] }, /not an IP address/],
  ['a line break in the secret', { secret: 'x\nallowed-peer-ip=0.0.0.0-255.255.255.255' }, /line break/],
  ['a line break in the directory', { workdir: '/tmp/x\nserver-relay' }, /line break/],
  ['a bad listen address', { listenIp: '10.1.2.3\nno-auth' }, /not an IP address/],
];
for (const [name, input, error] of refused) {
  test(`refuses ${name}`, (t) => {
    t.throws(() => coturnConfig({ ...base, ...input }), { message: error });
  });
}

test('behind a cluster-wide TURN entry: the pod network ranges are allowed after everything is denied', (t) => {
  const text = coturnConfig({ ...base, allowedPeerRanges: ['10.244.0.0-10.244.255.255'] });
  const lines = text.split('\n');
  const deny = lines.indexOf('denied-peer-ip=0.0.0.0-255.255.255.255');
  t.true(deny >= 0);
  t.true(lines.indexOf('allowed-peer-ip=10.244.0.0-10.244.255.255') > deny);
  t.true(lines.includes('allowed-peer-ip=10.1.2.3'), 'its own address stays allowed');
  t.throws(() => coturnConfig({ ...base, allowedPeerRanges: ['10.244.0.0/16'] }), { message: /not an IPv4 range/ });
  t.throws(() => coturnConfig({ ...base, allowedPeerRanges: ['10.0.0.1-x\nallowed-peer-ip=0.0.0.0'] }), { message: /not an IPv4 range/ });
});
