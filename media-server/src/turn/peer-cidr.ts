// IPv4 CIDRs for the TURN relay's allow list. coturn 4.6 takes peer addresses as "IP" or "IP1-IP2" ranges, not
// CIDRs, so a pod network given as 10.244.0.0/16 becomes 10.244.0.0-10.244.255.255. Pure.

/** The widest pod network accepted: a /8. Anything wider would let a TURN user reach far more than the media pods. */
export const MIN_PREFIX = 8;

const LINK_LOCAL_FIRST = 169 * 2 ** 24 + 254 * 2 ** 16;
const LINK_LOCAL_LAST = LINK_LOCAL_FIRST + 2 ** 16 - 1;

export type CidrResult = { readonly ok: true; readonly range: string } | { readonly ok: false; readonly reason: string };

/** Parses "a.b.c.d/n" into coturn's "first-last" range, or says what is wrong with it. */
export function cidrRange(cidr: string): CidrResult {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return { ok: false, reason: `"${cidr}" is not an IPv4 CIDR like 10.244.0.0/16` };
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return { ok: false, reason: `"${cidr}" is not an IPv4 CIDR like 10.244.0.0/16` };
  if (prefix < MIN_PREFIX) return { ok: false, reason: `"${cidr}" is wider than a /${MIN_PREFIX}: give the cluster's pod network, not the whole address space` };
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  if (first !== address) return { ok: false, reason: `"${cidr}" has host bits set (did you mean ${ipv4(first)}/${prefix}?)` };
  if (octets[0] === 127) return { ok: false, reason: `"${cidr}" is loopback: the relay must never reach the pod's own loopback services` };
  if (octets[0]! >= 224) return { ok: false, reason: `"${cidr}" is multicast or reserved, not a pod network` };
  const last = first + size - 1;
  // cloud metadata endpoints (169.254.169.254) and other link-local services
  if (first <= LINK_LOCAL_LAST && last >= LINK_LOCAL_FIRST) return { ok: false, reason: `"${cidr}" covers link-local 169.254.0.0/16 (cloud metadata services)` };
  return { ok: true, range: `${ipv4(first)}-${ipv4(last)}` };
}

/** Whether the IPv4 address `ip` lies in a "first-last" range made by cidrRange. */
export function inRange(ip: string, range: string): boolean {
  const [first, last] = range.split('-').map(toNumber);
  const n = toNumber(ip);
  return n !== undefined && first !== undefined && last !== undefined && n >= first && n <= last;
}

function toNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  return m ? m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0) : undefined;
}

function ipv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
