import test from 'ava';
import { parseConfig, type HostFacts } from '../../src/config/config.js';

const host: HostFacts = { hostname: 'box', cpuCount: 4, randomSecret: () => 'r'.repeat(64) };
const parse = (env: Record<string, string>) => parseConfig(env, host);
const errorsOf = (env: Record<string, string>) => {
  const r = parse(env);
  return r.ok ? [] : r.errors;
};

test('development mode has working local defaults and warns about the dev token', (t) => {
  const r = parse({ FJ_MODE: 'development' });
  if (!r.ok) return t.fail(r.errors.join());
  t.is(r.config.serverApiToken, 'development');
  t.is(r.config.port, 5002);
  t.is(r.config.ip, '127.0.0.1');
  t.is(r.config.host, 'localhost:5002');
  t.is(r.config.metricsPort, 9568);
  t.is(r.config.metricsIp, '127.0.0.1');
  t.is(r.config.workers, 4);
  t.is(r.config.secretKeyBase, 'r'.repeat(64));
  t.is(r.config.drainTimeoutMs, 30_000);
  t.false(r.config.dist.enabled);
  t.true(r.warnings.some((w) => w.includes('FJ_SERVER_API_TOKEN')));
  t.true(Object.isFrozen(r.config) && Object.isFrozen(r.config.dist));
});

test('production mode (the default) refuses to start without a server token', (t) => {
  t.deepEqual(errorsOf({}), ['FJ_SERVER_API_TOKEN is required in production mode (set FJ_MODE=development for local use)']);
  const r = parse({ FJ_SERVER_API_TOKEN: 'secret' });
  if (!r.ok) return t.fail(r.errors.join());
  t.is(r.config.port, 8080);
  t.is(r.config.host, '0.0.0.0:8080');
});

test('FJ_HOST defaults to FJ_IP:FJ_PORT in production and follows FJ_PORT in development', (t) => {
  const prod = parse({ FJ_SERVER_API_TOKEN: 's', FJ_IP: '10.0.0.5', FJ_PORT: '4000' });
  t.true(prod.ok && prod.config.host === '10.0.0.5:4000');
  const dev = parse({ FJ_MODE: 'development', FJ_PORT: '4002' });
  t.true(dev.ok && dev.config.host === 'localhost:4002');
  const explicit = parse({ FJ_MODE: 'development', FJ_HOST: 'media.example.com:443' });
  t.true(explicit.ok && explicit.config.host === 'media.example.com:443');
});

const TURN_SECRET = 'a-shared-turn-secret-0123456789';

const invalid: Array<[Record<string, string>, string]> = [
  [{ FJ_PORT: 'abc' }, 'FJ_PORT must be an integer between 1 and 65535, got: abc'],
  [{ FJ_PORT: '70000' }, 'FJ_PORT must be an integer between 1 and 65535, got: 70000'],
  [{ FJ_METRICS_PORT: '-1' }, 'FJ_METRICS_PORT must be an integer between 1 and 65535, got: -1'],
  [{ FJ_IP: 'localhost' }, 'FJ_IP must be an IPv4 or IPv6 address (e.g. 0.0.0.0), got: localhost'],
  [{ FJ_METRICS_IP: '1.2.3' }, 'FJ_METRICS_IP must be an IPv4 or IPv6 address (e.g. 0.0.0.0), got: 1.2.3'],
  [{ FJ_LOG_LEVEL: 'verbose' }, 'FJ_LOG_LEVEL must be one of info, debug, warning, error, got: verbose'],
  [{ FJ_STRUCTURED_LOGGING: 'yes' }, 'FJ_STRUCTURED_LOGGING must be "true" or "false", got: yes'],
  [{ FJ_DIST_ENABLED: 'maybe' }, 'FJ_DIST_ENABLED must be "true" or "false", got: maybe'],
  [{ FJ_WEBRTC_USED: 'nope' }, 'FJ_WEBRTC_USED must be "true" or "false", got: nope'],
  [{ FJ_CHECK_ORIGIN: '2' }, 'FJ_CHECK_ORIGIN must be "true" or "false", got: 2'],
  [{ FJ_WORKERS: '0' }, 'FJ_WORKERS must be an integer between 1 and 256, got: 0'],
  [{ FJ_DRAIN_TIMEOUT: '1.5' }, 'FJ_DRAIN_TIMEOUT must be an integer between 0 and 86400, got: 1.5'],
  [{ FJ_SECRET_KEY_BASE: 'short' }, 'FJ_SECRET_KEY_BASE must be at least 32 characters long, got 5'],
  [{ FJ_SSL_KEY_PATH: '/k.pem' }, 'FJ_SSL_KEY_PATH and FJ_SSL_CERT_PATH must be set together (paths to a PEM key and certificate)'],
  [{ FJ_COMPONENTS_USED: 'hls teleport' }, 'Invalid value in FJ_COMPONENTS_USED. Expected a lowercase component name, got: teleport'],
  [{ FJ_COMPONENTS_USED: 'sip' }, 'SIP components are allowed, but incorrect IP address was provided as `FJ_SIP_IP`'],
  [{ FJ_COMPONENTS_USED: 'hls sip', FJ_SIP_IP: 'sip.example.com' }, 'SIP components are allowed, but incorrect IP address was provided as `FJ_SIP_IP`'],
  [{ FJ_WEBRTC_MIN_PORT: '6000', FJ_WEBRTC_MAX_PORT: '5000' }, 'FJ_WEBRTC_MIN_PORT (6000) must not be greater than FJ_WEBRTC_MAX_PORT (5000)'],
  [{ FJ_WEBRTC_MIN_PORT: '6000', FJ_WEBRTC_MAX_PORT: '6001', FJ_WORKERS: '3' }, 'FJ_WEBRTC_MIN_PORT..FJ_WEBRTC_MAX_PORT holds 2 ports but FJ_WORKERS is 3: each worker needs one'],
  [{ FJ_DIST_ENABLED: 'true', FJ_DIST_NODE_NAME: 'nohost' }, 'FJ_DIST_NODE_NAME has to be in form of <nodename>@<hostname>. Got: nohost'],
  [{ FJ_DIST_ENABLED: 'true', FJ_DIST_NODE_NAME: 'a@b@c' }, 'FJ_DIST_NODE_NAME has to be in form of <nodename>@<hostname>. Got: a@b@c'],
  [{ FJ_DIST_ENABLED: 'true', FJ_DIST_NODES: 'f1@x bad' }, 'FJ_DIST_NODES: "bad" is not in form of <nodename>@<hostname>'],
  [{ FJ_DIST_ENABLED: 'true', FJ_DIST_STRATEGY_NAME: 'DNS', FJ_DIST_MODE: 'name' }, 'FJ_DIST_QUERY is required by DNS strategy'],
  [{ FJ_DIST_STRATEGY_NAME: 'GOSSIP' }, 'FJ_DIST_STRATEGY_NAME must be one of NODES_LIST, DNS, got: GOSSIP'],
  [{ FJ_DIST_MODE: 'long' }, 'FJ_DIST_MODE must be one of sname, name, got: long'],
  [{ FJ_DIST_POLLING_INTERVAL: '0' }, 'FJ_DIST_POLLING_INTERVAL must be an integer >= 1, got: 0'],
  [{ FJ_DIST_MIN_PORT: '9000' }, 'FJ_DIST_MIN_PORT and FJ_DIST_MAX_PORT must be set together (a port range, e.g. 9000 and 9000)'],
  [{ FJ_DIST_MIN_PORT: '9001', FJ_DIST_MAX_PORT: '9000' }, 'FJ_DIST_MIN_PORT (9001) must not be greater than FJ_DIST_MAX_PORT (9000)'],
  [{ FJ_DIST_TLS_CERT_PATH: '/c.pem' }, 'FJ_DIST_TLS_CERT_PATH and FJ_DIST_TLS_KEY_PATH must be set together (PEM certificate and key paths)'],
  [{ FJ_MODE: 'staging' }, 'FJ_MODE must be one of development, production, got: staging'],
  [{ FJ_WEBRTC_TURN_SECRET: 'short' }, 'FJ_WEBRTC_TURN_SECRET must be at least 16 characters without spaces or "#", got 5 characters'],
  [{ FJ_WEBRTC_TURN_SECRET: 'long enough but spaced' }, 'FJ_WEBRTC_TURN_SECRET must be at least 16 characters without spaces or "#", got 22 characters'],
  [{ FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: '10.244.0.0/16' }, 'FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS lets this TURN server relay to other nodes, which only works behind one TURN entry with FJ_WEBRTC_TURN_SECRET shared by every node; set it (the same value on all nodes)'],
  [{ FJ_WEBRTC_TURN_SECRET: TURN_SECRET, FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: '10.244.0.0' }, 'FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: "10.244.0.0" is not an IPv4 CIDR like 10.244.0.0/16'],
  [{ FJ_WEBRTC_TURN_SECRET: TURN_SECRET, FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: '10.244.0.0/16,300.1.0.0/16' }, 'FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: "300.1.0.0/16" is not an IPv4 CIDR like 10.244.0.0/16'],
  [{ FJ_WEBRTC_TURN_SECRET: TURN_SECRET, FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: '0.0.0.0/0' }, 'FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: "0.0.0.0/0" is wider than a /8: give the cluster\'s pod network, not the whole address space'],
  [{ FJ_WEBRTC_TURN_SECRET: TURN_SECRET, FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: '10.244.1.0/16' }, 'FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: "10.244.1.0/16" has host bits set (did you mean 10.244.0.0/16?)'],
  [{ FJ_WEBRTC_TURN_SECRET: TURN_SECRET, FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: '127.0.0.0/8' }, 'FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: "127.0.0.0/8" is loopback: the relay must never reach the pod\'s own loopback services'],
  [{ FJ_WEBRTC_TURN_SECRET: TURN_SECRET, FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: '10.244.0.0/16, 10.96.0.0/12', FJ_WEBRTC_ANNOUNCED_IP: '10.245.0.7' }, 'FJ_WEBRTC_ANNOUNCED_IP 10.245.0.7 is outside FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS (10.244.0.0/16, 10.96.0.0/12): the other nodes\' TURN servers could not relay to this node; give the pod network this address belongs to'],
  [{ FJ_WEBRTC_TURN_SECRET: TURN_SECRET, FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: '169.0.0.0/8' }, 'FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: "169.0.0.0/8" covers link-local 169.254.0.0/16 (cloud metadata services)'],
];

for (const [env, message] of invalid) {
  test(`invalid ${Object.keys(env).join('+')}=${Object.values(env).join('+')} names the variable`, (t) => {
    t.deepEqual(errorsOf({ FJ_SERVER_API_TOKEN: 't', ...env }), [message]);
  });
}

test('every problem is reported at once, not only the first', (t) => {
  const errors = errorsOf({ FJ_PORT: 'x', FJ_IP: 'y', FJ_LOG_LEVEL: 'z' });
  t.is(errors.length, 4); // the three above plus the missing production token
});

test('DNS strategy needs mode name (the original message)', (t) => {
  t.deepEqual(errorsOf({ FJ_SERVER_API_TOKEN: 't', FJ_DIST_ENABLED: 'true', FJ_DIST_STRATEGY_NAME: 'DNS', FJ_DIST_QUERY: 'app.local' }), [
    'DNS strategy requires `FJ_DIST_MODE` to be `name`',
  ]);
});

test('distribution defaults follow Fishjam: NODES_LIST, sname, default cookie with a warning, fishjam@<hostname>', (t) => {
  const r = parse({ FJ_SERVER_API_TOKEN: 't', FJ_DIST_ENABLED: 'true' });
  if (!r.ok) return t.fail(r.errors.join());
  t.is(r.config.dist.strategy, 'NODES_LIST');
  t.is(r.config.dist.mode, 'sname');
  t.is(r.config.dist.nodeName, 'fishjam@box');
  t.is(r.config.dist.cookie, 'fishjam_cookie');
  t.true(r.config.dist.cookieIsDefault);
  t.is(r.config.dist.pollingIntervalMs, 5000);
  t.true(r.warnings.some((w) => w.includes('FJ_DIST_COOKIE')));
  t.true(r.warnings.some((w) => w.includes('FJ_DIST_NODES is empty')));
});

test("the seed's NODES_LIST example parses", (t) => {
  const r = parse({ FJ_MODE: 'development', FJ_DIST_ENABLED: 'true', FJ_DIST_NODE_NAME: 'f2@localhost', FJ_DIST_NODES: 'f1@localhost', FJ_PORT: '4002', FJ_METRICS_PORT: '9468' });
  if (!r.ok) return t.fail(r.errors.join());
  t.deepEqual(r.config.dist.nodes, ['f1@localhost']);
  t.is(r.config.port, 4002);
  t.is(r.config.metricsPort, 9468);
});

test('legacy JF_* names still work, with a deprecation warning', (t) => {
  const r = parse({ JF_SERVER_API_TOKEN: 'legacy', JF_PORT: '6000' });
  if (!r.ok) return t.fail(r.errors.join());
  t.is(r.config.serverApiToken, 'legacy');
  t.is(r.config.port, 6000);
  t.true(r.warnings.includes('JF_PORT is deprecated, use FJ_PORT'));
});

test('empty values count as unset (docker-compose writes them)', (t) => {
  const r = parse({ FJ_MODE: 'development', FJ_PORT: '', FJ_HOST: '' });
  t.true(r.ok && r.config.port === 5002 && r.config.host === 'localhost:5002');
});

test('a TURN entry shared by the cluster: one secret and the pod networks the relay may reach', (t) => {
  const r = parse({ FJ_SERVER_API_TOKEN: 't', FJ_WEBRTC_TURN_SECRET: TURN_SECRET, FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS: '10.244.0.0/16, 10.96.0.0/12 192.168.7.0/24', FJ_WEBRTC_TURN_IP: 'turn.example.com', FJ_WEBRTC_ANNOUNCED_IP: '10.97.3.4' });
  if (!r.ok) return t.fail(r.errors.join('; '));
  t.is(r.config.webrtc.turn.secret, TURN_SECRET);
  t.deepEqual(r.config.webrtc.turn.allowedPeerCidrs, ['10.244.0.0/16', '10.96.0.0/12', '192.168.7.0/24']);
  t.is(r.config.webrtc.turn.announcedIp, 'turn.example.com');
  const alone = parse({ FJ_SERVER_API_TOKEN: 't' });
  if (!alone.ok) return t.fail();
  t.is(alone.config.webrtc.turn.secret, undefined, 'without it each node makes its own');
  t.deepEqual(alone.config.webrtc.turn.allowedPeerCidrs, []);
});
