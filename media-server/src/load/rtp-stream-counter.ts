// Packets received and lost per RTP stream, read from the clear-text RTP header of SRTP packets (RFC 3711 encrypts
// only the payload), so a load client counts media without decrypting it: hundreds of receivers fit in one process.
// Loss is RFC 3550's: expected (highest extended sequence number - first + 1) minus received, never below 0.

export interface StreamCount {
  ssrc: number;
  kind: string;
  received: number;
  expected: number;
  lost: number;
  firstAt: number | undefined;
}

interface StreamState {
  kind: string;
  received: number;
  firstSeq: number | undefined;
  /** highest sequence number seen, extended with the wrap-around count */
  highest: number;
  firstAt: number | undefined;
}

/** Is this datagram RTP (not RTCP, STUN or DTLS)? RFC 7983 demultiplexing, RFC 5761 for RTP vs RTCP. */
export function isRtp(packet: Uint8Array): boolean {
  if (packet.length < 12) return false;
  const first = packet[0]!;
  if (first < 128 || first > 191) return false;
  const pt = packet[1]! & 0x7f;
  return pt < 64 || pt > 95; // 64-95 (with the marker bit: 192-223) are RTCP packet types
}

/**
 * Is this datagram an RTCP PLI or FIR (a key frame request)? SRTCP leaves the first RTCP header in clear text, and
 * mediasoup sends its key frame requests as single (not compound) packets, so this works without decrypting.
 */
export function isKeyFrameRequest(packet: Uint8Array): boolean {
  if (packet.length < 12) return false;
  const first = packet[0]!;
  if (first < 128 || first > 191) return false;
  const fmt = first & 0x1f;
  return packet[1] === 206 && (fmt === 1 || fmt === 4);
}

export class RtpStreamCounter {
  private readonly streams = new Map<number, StreamState>();
  /** RTP packets of SSRCs nobody announced (mediasoup's bandwidth probation stream, RTX) */
  unknownPackets = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Streams to count, with their kind (from the SSRCs of the remote description). Others go to unknownPackets. */
  expect(ssrc: number, kind: string): void {
    if (!this.streams.has(ssrc)) this.streams.set(ssrc, { kind, received: 0, firstSeq: undefined, highest: 0, firstAt: undefined });
  }

  /** One datagram as it came off the socket. */
  feed(packet: Uint8Array): void {
    if (!isRtp(packet)) return;
    const ssrc = ((packet[8]! << 24) | (packet[9]! << 16) | (packet[10]! << 8) | packet[11]!) >>> 0;
    const stream = this.streams.get(ssrc);
    if (!stream) {
      this.unknownPackets++;
      return;
    }
    const seq = (packet[2]! << 8) | packet[3]!;
    stream.received++;
    if (stream.firstSeq === undefined) {
      stream.firstSeq = seq;
      stream.highest = seq;
      stream.firstAt = this.now();
      return;
    }
    // the sequence number nearest to the highest so far, in extended form
    const cycle = stream.highest - (stream.highest & 0xffff);
    let extended = cycle + seq;
    if (extended < stream.highest - 0x8000) extended += 0x10000;
    else if (extended > stream.highest + 0x8000) extended -= 0x10000;
    if (extended > stream.highest) stream.highest = extended;
  }

  counts(): StreamCount[] {
    return [...this.streams.entries()].map(([ssrc, s]) => {
      const expected = s.firstSeq === undefined ? 0 : s.highest - s.firstSeq + 1;
      return { ssrc, kind: s.kind, received: s.received, expected, lost: Math.max(0, expected - s.received), firstAt: s.firstAt };
    });
  }

  /** Totals over every counted stream. */
  totals(): { received: number; expected: number; lost: number } {
    let received = 0;
    let expected = 0;
    let lost = 0;
    for (const c of this.counts()) {
      received += c.received;
      expected += c.expected;
      lost += c.lost;
    }
    return { received, expected, lost };
  }

  /** When every announced stream had its first packet (undefined while one still waits). */
  allStartedAt(): number | undefined {
    let last = 0;
    for (const s of this.streams.values()) {
      if (s.firstAt === undefined) return undefined;
      last = Math.max(last, s.firstAt);
    }
    return this.streams.size > 0 ? last : undefined;
  }
}

/** a=ssrc:<n> lines of an SDP, with the kind of their m-section (the streams a receiver is about to get). */
export function ssrcsOf(sdp: string): { ssrc: number; kind: string }[] {
  const found: { ssrc: number; kind: string }[] = [];
  const repairs = new Set<number>(); // RTX streams (second SSRC of an FID group) carry no media of their own
  let kind = '';
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) kind = line.slice(2).split(' ')[0] ?? '';
    const fid = /^a=ssrc-group:FID \d+ (\d+)/.exec(line);
    if (fid) repairs.add(Number(fid[1]));
    const m = /^a=ssrc:(\d+) /.exec(line);
    if (m && !found.some((f) => f.ssrc === Number(m[1]))) found.push({ ssrc: Number(m[1]), kind });
  }
  return found.filter((f) => !repairs.has(f.ssrc));
}
