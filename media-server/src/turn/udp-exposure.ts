// Which UDP sockets a TURN user could send to besides the media ports. coturn limits relay peers by IP only (see
// coturn-config.ts), so every unconnected UDP socket of this network namespace bound to an allowed peer address, or
// to the wildcard address, is reachable through the relay. Pure: parses the text of /proc/net/udp and udp6.
import os from 'node:os';

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export interface UdpSocket {
  readonly ip: string;
  readonly port: number;
}

/**
 * The unconnected UDP sockets reachable through the relay whose port is in none of `expected` (the media ports,
 * coturn's own). Connected sockets (DNS clients, say) take datagrams from their peer only and are left out.
 */
export function exposedUdpSockets(procNetUdp: string, allowedPeerIps: readonly string[], expected: readonly PortRange[], littleEndian = os.endianness() === 'LE'): UdpSocket[] {
  const reachable = new Set([...allowedPeerIps, '0.0.0.0']);
  const found = new Map<string, UdpSocket>();
  for (const line of procNetUdp.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // "sl local_address rem_address st ...": the header line and blank lines do not match
    if (fields.length < 4 || !/^\d+:$/.test(fields[0]!)) continue;
    const [address, portHex] = fields[1]!.split(':');
    const state = fields[3];
    if (state !== '07' || !address || !portHex) continue; // 07: unconnected (TCP_CLOSE in the kernel's terms)
    const ip = decodeAddress(address, littleEndian);
    const port = parseInt(portHex, 16);
    if (ip === undefined || !reachable.has(ip)) continue;
    if (expected.some((r) => port >= r.min && port <= r.max)) continue;
    found.set(`${ip}:${port}`, { ip, port });
  }
  return [...found.values()].sort((a, b) => a.port - b.port || a.ip.localeCompare(b.ip));
}

/** An IPv4 address from /proc/net/udp (8 hex digits) or udp6 (32); IPv6 wildcard and v4-mapped give IPv4 forms. */
function decodeAddress(hex: string, littleEndian: boolean): string | undefined {
  const words: number[][] = [];
  for (let i = 0; i < hex.length; i += 8) {
    const bytes = [0, 2, 4, 6].map((j) => parseInt(hex.slice(i + j, i + j + 2), 16));
    words.push(littleEndian ? bytes.reverse() : bytes);
  }
  const bytes = words.flat();
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length !== 16) return undefined;
  if (bytes.every((b) => b === 0)) return '0.0.0.0'; // [::] takes IPv4 too unless IPV6_V6ONLY
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12).join('.') : undefined; // other IPv6 addresses: IPv6 peers are all denied
}
