// Where a webhook may go. By default only public unicast addresses: loopback, private (RFC 1918, ULA), link-local
// (cloud metadata services live at 169.254.169.254), CGNAT, unspecified, multicast, documentation and other special
// ranges are refused, both as literal hosts and as what a host name resolves to at send time. The check happens in
// the connection's own DNS lookup, so the socket connects to an address that was checked (no DNS rebinding window).
// FJ_WEBHOOK_ALLOW_PRIVATE=true lifts the check (webhook receivers inside the cluster, local development, tests).
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

/** The error a refused destination fails the request with. */
export class RefusedDestinationError extends Error {
  readonly code = 'EWEBHOOKREFUSED';
  constructor(readonly address: string) {
    super(`${address} is not a public address (set FJ_WEBHOOK_ALLOW_PRIVATE=true to allow it)`);
  }
}

// [first address, prefix length] of IPv4 ranges that are not public unicast (IANA special-purpose registry).
const V4_BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGNAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (metadata services)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

function v4ToInt(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

const V4_RANGES = V4_BLOCKED.map(([first, bits]) => {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { net: (v4ToInt(first)! & mask) >>> 0, mask };
});

function isPublicV4(n: number): boolean {
  return !V4_RANGES.some(({ net, mask }) => ((n & mask) >>> 0) === net);
}

/** Eight 16-bit groups of an IPv6 address (zone id dropped, embedded dotted quad accepted), or undefined. */
function v6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = v4ToInt(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
    return groups.some(Number.isNaN) ? undefined : groups;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  return [...head, ...new Array<number>(8 - given).fill(0), ...rest];
}

function isPublicV6(g: number[]): boolean {
  const v4At = (i: number): number => ((g[i]! << 16) | g[i + 1]!) >>> 0;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  // IPv4-mapped ::ffff:a.b.c.d and NAT64 64:ff9b::a.b.c.d carry an IPv4 address: judge that one
  if (zeros(0, 5) && g[5] === 0xffff) return isPublicV4(v4At(6));
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return isPublicV4(v4At(6));
  // 6to4 2002:a.b.c.d::/48 reaches the embedded IPv4 address
  if (g[0] === 0x2002) return isPublicV4(v4At(1));
  // only global unicast 2000::/3 is public, minus its special-purpose blocks
  if ((g[0]! & 0xe000) !== 0x2000) return false; // ::, ::1, IPv4-compatible, fc00::/7, fe80::/10, ff00::/8, ...
  if (g[0] === 0x2001 && g[1]! < 0x0200) return false; // 2001::/23 IETF protocol assignments (Teredo, ORCHID, ...)
  if (g[0] === 0x2001 && g[1] === 0x0db8) return false; // documentation
  if (g[0] === 0x3fff && g[1]! < 0x1000) return false; // documentation (3fff::/20)
  return true;
}

/** Whether an IP address (v4 or v6 text) is a public unicast address; anything unparsable is not. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address.split('%')[0]!);
  if (family === 4) return isPublicV4(v4ToInt(address)!);
  if (family === 6) {
    const groups = v6Groups(address);
    return groups !== undefined && isPublicV6(groups);
  }
  return false;
}

/** The URL's host as an IP address when it is a literal (brackets of IPv6 removed), else undefined. */
export function literalAddressOf(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) ? host : undefined;
}

export type Resolver = (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

const systemResolver: Resolver = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * A `lookup` for http.request / net.connect: resolves every address of the name and fails with
 * RefusedDestinationError if any of them is not public, so the connection only ever uses checked addresses.
 */
export function guardedLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    const cb = callback as (err: Error | null, address?: string | dns.LookupAddress[], family?: number) => void;
    resolve(hostname, { all: true, family: options.family, hints: options.hints }, (err, addresses) => {
      if (err) return cb(err);
      const refused = addresses.find((a) => !isPublicAddress(a.address));
      if (refused) return cb(new RefusedDestinationError(refused.address));
      if (addresses.length === 0) return cb(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }));
      if (options.all) return cb(null, addresses);
      return cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** A URL as it may be logged: origin and path, without user info (credentials) or query string (often a secret). */
export function displayUrl(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}
