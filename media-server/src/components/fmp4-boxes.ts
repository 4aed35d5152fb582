// Just enough ISO BMFF (fragmented MP4) to cut ffmpeg's output into LL-HLS parts and segments: top-level boxes out
// of a byte stream (BoxSplitter), the tracks of the init segment (timescale, handler, trex defaults) and, per
// fragment (moof), its duration and whether it starts with a video keyframe. Pure; bounded (a box larger than
// MAX_BOX_BYTES is an error, not a buffer that grows without end).

export const MAX_BOX_BYTES = 64 * 1024 * 1024;

export interface Box {
  readonly type: string;
  /** the whole box, header included */
  readonly bytes: Buffer;
}

/** Collects stream chunks and hands out complete top-level boxes. */
export class BoxSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): Box[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const boxes: Box[] = [];
    for (;;) {
      if (this.pendingBytes < 8) break;
      const head = this.peek(16);
      let size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size === 1) {
        if (head.length < 16) break;
        const large = head.readBigUInt64BE(8);
        if (large > BigInt(MAX_BOX_BYTES)) throw new Error(`fMP4 box ${type} too large`);
        size = Number(large);
      }
      if (size < 8 || size > MAX_BOX_BYTES) throw new Error(`fMP4 box ${JSON.stringify(type)} has an invalid size ${size}`);
      if (this.pendingBytes < size) break;
      const all = Buffer.concat(this.pending, this.pendingBytes);
      boxes.push({ type, bytes: all.subarray(0, size) });
      const rest = all.subarray(size);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    return boxes;
  }

  private peek(n: number): Buffer {
    const first = this.pending[0]!;
    if (first.length >= n || this.pending.length === 1) return first.subarray(0, Math.min(n, first.length));
    return Buffer.concat(this.pending).subarray(0, n);
  }
}

/** The children of a container box's payload (from `start` to the end of `bytes`). */
export function childBoxes(bytes: Buffer, start = 8): Box[] {
  const out: Box[] = [];
  let at = start;
  while (at + 8 <= bytes.length) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (size < 8 || at + size > bytes.length) break;
    out.push({ type, bytes: bytes.subarray(at, at + size) });
    at += size;
  }
  return out;
}

function child(box: Box | undefined, type: string): Box | undefined {
  return box ? childBoxes(box.bytes).find((b) => b.type === type) : undefined;
}

export interface TrackInfo {
  readonly id: number;
  readonly kind: 'video' | 'audio' | 'other';
  readonly timescale: number;
  readonly defaultDuration: number;
  readonly defaultFlags: number;
}

/** The tracks of a moov box. */
export function tracksOfMoov(moov: Box): TrackInfo[] {
  const children = childBoxes(moov.bytes);
  const trex = new Map<number, { duration: number; flags: number }>();
  const mvex = children.find((b) => b.type === 'mvex');
  for (const b of mvex ? childBoxes(mvex.bytes) : []) {
    if (b.type !== 'trex' || b.bytes.length < 32) continue;
    trex.set(b.bytes.readUInt32BE(12), { duration: b.bytes.readUInt32BE(20), flags: b.bytes.readUInt32BE(28) });
  }
  const tracks: TrackInfo[] = [];
  for (const trak of children.filter((b) => b.type === 'trak')) {
    const tkhd = child(trak, 'tkhd');
    const mdia = child(trak, 'mdia');
    const mdhd = child(mdia, 'mdhd');
    const hdlr = child(mdia, 'hdlr');
    if (!tkhd || !mdhd || !hdlr) continue;
    const id = tkhd.bytes[8] === 1 ? tkhd.bytes.readUInt32BE(28) : tkhd.bytes.readUInt32BE(20);
    const timescale = mdhd.bytes[8] === 1 ? mdhd.bytes.readUInt32BE(28) : mdhd.bytes.readUInt32BE(20);
    const handler = hdlr.bytes.toString('latin1', 16, 20);
    const defaults = trex.get(id) ?? { duration: 0, flags: 0 };
    tracks.push({ id, kind: handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : 'other', timescale, defaultDuration: defaults.duration, defaultFlags: defaults.flags });
  }
  return tracks;
}

export interface FragmentInfo {
  /** seconds, of the video track if there is one, else of the first track */
  readonly duration: number;
  /** starts with a video keyframe (or has no video): a part a player can start decoding at */
  readonly independent: boolean;
}

/** Duration and independence of one moof, given the init segment's tracks. */
export function fragmentInfo(moof: Box, tracks: readonly TrackInfo[]): FragmentInfo {
  const trafs = childBoxes(moof.bytes).filter((b) => b.type === 'traf');
  const video = tracks.find((t) => t.kind === 'video');
  let result: FragmentInfo | undefined;
  for (const traf of trafs) {
    const parsed = parseTraf(traf, tracks);
    if (!parsed) continue;
    if (video ? parsed.track.id === video.id : result === undefined) {
      result = { duration: parsed.duration / parsed.track.timescale, independent: video ? parsed.firstIsSync : true };
    }
  }
  // a fragment without the video track (audio only while the picture waits): not a place to start decoding
  return result ?? { duration: 0, independent: video === undefined };
}

function parseTraf(traf: Box, tracks: readonly TrackInfo[]): { track: TrackInfo; duration: number; firstIsSync: boolean } | undefined {
  const kids = childBoxes(traf.bytes);
  const tfhd = kids.find((b) => b.type === 'tfhd');
  const trun = kids.find((b) => b.type === 'trun');
  if (!tfhd || !trun || tfhd.bytes.length < 16) return undefined;
  const tfhdFlags = tfhd.bytes.readUInt32BE(8) & 0xffffff;
  const track = tracks.find((t) => t.id === tfhd.bytes.readUInt32BE(12));
  if (!track || track.timescale === 0) return undefined;
  let at = 16;
  if (tfhdFlags & 0x1) at += 8;
  if (tfhdFlags & 0x2) at += 4;
  let defaultDuration = track.defaultDuration;
  let defaultFlags = track.defaultFlags;
  if (tfhdFlags & 0x8) {
    defaultDuration = tfhd.bytes.readUInt32BE(at);
    at += 4;
  }
  if (tfhdFlags & 0x10) at += 4;
  if (tfhdFlags & 0x20) defaultFlags = tfhd.bytes.readUInt32BE(at);

  const b = trun.bytes;
  const flags = b.readUInt32BE(8) & 0xffffff;
  const count = b.readUInt32BE(12);
  let p = 16;
  if (flags & 0x1) p += 4;
  let firstFlags: number | undefined;
  if (flags & 0x4) {
    firstFlags = b.readUInt32BE(p);
    p += 4;
  }
  const perSample = ((flags & 0x100) ? 4 : 0) + ((flags & 0x200) ? 4 : 0) + ((flags & 0x400) ? 4 : 0) + ((flags & 0x800) ? 4 : 0);
  let duration = 0;
  for (let i = 0; i < count && p + perSample <= b.length; i++) {
    let q = p;
    if (flags & 0x100) {
      duration += b.readUInt32BE(q);
      q += 4;
    } else duration += defaultDuration;
    if (flags & 0x200) q += 4;
    if (flags & 0x400 && i === 0 && firstFlags === undefined) firstFlags = b.readUInt32BE(q);
    p += perSample;
  }
  const sampleFlags = firstFlags ?? defaultFlags;
  // sample_is_non_sync_sample is bit 16 of the sample flags
  return { track, duration, firstIsSync: count > 0 && ((sampleFlags >>> 16) & 1) === 0 };
}
