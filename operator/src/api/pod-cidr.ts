// The pod network CIDRs of PodNetwork mode, checked with the media server's rules (media-server/src/turn/
// peer-cidr.ts, FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS) so a spec the operator accepts never stops the pods at start-up.
// Pure.

/** Why `cidr` is not usable as a pod network for the TURN relay, or undefined when it is. */
export function podCidrProblem(cidr: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return 'is not an IPv4 CIDR like 10.244.0.0/16';
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return 'is not an IPv4 CIDR like 10.244.0.0/16';
  if (prefix < 8) return 'is wider than a /8: give the cluster\'s pod network, not the whole address space';
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  if (first !== address) return `has host bits set (did you mean ${[24, 16, 8, 0].map((s) => Math.floor(first / 2 ** s) % 256).join('.')}/${prefix}?)`;
  if (octets[0] === 127) return 'is loopback';
  if (octets[0]! >= 224) return 'is multicast or reserved';
  const linkLocal = 169 * 2 ** 24 + 254 * 2 ** 16;
  if (first <= linkLocal + 2 ** 16 - 1 && first + size - 1 >= linkLocal) return 'covers link-local 169.254.0.0/16 (cloud metadata services)';
  return undefined;
}
