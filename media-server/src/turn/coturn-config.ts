// The turnserver.conf of a node's coturn. Pure: the same input gives the same file.
//
// coturn 4.6 (Debian 12) restricts relay peers by IP only: allowed-peer-ip / denied-peer-ip take addresses and
// ranges, and no option takes ports. So the relay is confined like this:
// - peers: every IPv4 and IPv6 address is denied, then only the node's WebRTC addresses are allowed (coturn checks
//   the allow list first), plus, behind a cluster-wide TURN entry, the cluster's pod network (FJ_WEBRTC_TURN_
//   ALLOWED_PEER_CIDRS: what reaches the other nodes' WebRTC ports, and every other UDP socket in those pods); loopback is allowed only when a WebRTC address is a loopback one; multicast never;
// - no TCP relays (RFC 6062): a TURN user cannot open a TCP connection anywhere, so every TCP service on the WebRTC
//   address (REST API, metrics, the cluster's dist listener and port mapper) is out of reach;
// - what stays reachable is UDP on the WebRTC addresses: mediasoup's ports (the purpose); coturn's own listener and
//   relay ports when it relays from the WebRTC address (the default: then one allocation can send datagrams into
//   another whose client has a permission for that address; a TURN listen address apart from the WebRTC one closes
//   this); and any other process's UDP socket bound there or on the wildcard address (udp-exposure.ts finds these;
//   the TURN server warns about them at start when it is told the media ports).
// The rest hardens what a TURN user can do with a valid credential and what an anonymous sender gets back.
import { isIP } from 'node:net';

export interface CoturnConfigInput {
  readonly listenIp: string;
  readonly port: number;
  /** where relay sockets are bound */
  readonly relayIp: string;
  /** "public/private" mapping for --external-ip, when clients reach the node through NAT */
  readonly externalIp: string | undefined;
  readonly relayMinPort: number;
  readonly relayMaxPort: number;
  /** the only peers the relay may send to: this node's WebRTC addresses */
  readonly allowedPeerIps: readonly string[];
  /** and these "first-last" IPv4 ranges (the cluster's pod network, see peer-cidr.ts) */
  readonly allowedPeerRanges?: readonly string[];
  readonly secret: string;
  /** files coturn writes (SQLite user database, pid file) go here */
  readonly workdir: string;
}

/**
 * Concurrent allocations per peer: coturn counts them by the name after the timestamp, i.e. per peer id across
 * reconnections. A browser makes one per TURN URL (two) and local interface, and after an abrupt disconnection the
 * old ones live until they expire (10 minutes): room for several reconnections, not for exhausting the relay ports.
 */
export const USER_QUOTA = 32;
/** Seconds a nonce stays valid; clients then get 438 Stale Nonce and retry with the new one. */
export const NONCE_LIFETIME_S = 600;

export function coturnConfig(input: CoturnConfigInput): string {
  if (input.allowedPeerIps.length === 0) throw new Error('the TURN relay needs at least one allowed peer IP');
  for (const ip of [input.listenIp, input.relayIp, ...input.allowedPeerIps]) {
    if (isIP(ip) === 0) throw new Error(`not an IP address for the TURN server: ${JSON.stringify(ip)}`);
  }
  const ranges = input.allowedPeerRanges ?? [];
  for (const range of ranges) {
    const ends = range.split('-');
    if (ends.length !== 2 || ends.some((ip) => isIP(ip) !== 4)) throw new Error(`not an IPv4 range for the TURN server: ${JSON.stringify(range)}`);
  }
  const lines: string[] = [
    '# A fishjam-ts node\'s coturn. Written with mode 0600 in a private directory, removed when the node stops.',
    `listening-ip=${input.listenIp}`,
    `listening-port=${input.port}`,
    `relay-ip=${input.relayIp}`,
    ...(input.externalIp ? [`external-ip=${input.externalIp}`] : []),
    `min-port=${input.relayMinPort}`,
    `max-port=${input.relayMaxPort}`,
    // credentials: the TURN REST API form (see turn-credentials.ts), time-limited, per peer
    'use-auth-secret',
    `static-auth-secret=${input.secret}`,
    'realm=fishjam',
    `stale-nonce=${NONCE_LIFETIME_S}`,
    `user-quota=${USER_QUOTA}`,
    // relays: UDP only, to this node's WebRTC addresses only
    'no-tcp-relay',
    'no-multicast-peers',
    'denied-peer-ip=0.0.0.0-255.255.255.255',
    'denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    // coturn: an address matching an allowed rule is allowed whatever the denied rules say; otherwise a matching
    // denied rule refuses it (README.turnserver, --allowed-peer-ip). So: everything denied above, then these allowed.
    ...input.allowedPeerIps.map((ip) => `allowed-peer-ip=${ip}`),
    ...ranges.map((range) => `allowed-peer-ip=${range}`),
    ...(input.allowedPeerIps.some(isLoopback) ? ['allow-loopback-peers'] : []),
    // no admin interface. (The private, empty user database below stays read for peer lists and realms: only then
    // does coturn 4.6 create its tables before it serves; otherwise its auth threads race to create them, and the
    // first clients get 401 because a failed database query fails authentication even with a static secret.)
    'no-cli',
    // plain UDP and TCP listeners only; should TLS ever be turned on, never its old versions
    'no-tls',
    'no-dtls',
    'no-tlsv1',
    'no-tlsv1_1',
    // smaller answers to anonymous STUN binding requests (less use as a reflector)
    'no-rfc5780',
    'no-stun-backward-compatibility',
    'response-origin-only-with-rfc5780',
    'no-software-attribute',
    'fingerprint',
    `userdb=${input.workdir}/turndb`,
    `pidfile=${input.workdir}/turn.pid`,
    'log-file=stdout',
    'simple-log',
  ];
  for (const line of lines) {
    if (/[\r\n]/.test(line)) throw new Error('a TURN configuration value contains a line break');
  }
  return lines.join('\n') + '\n';
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}
