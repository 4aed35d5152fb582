// The HLS media playlist as data, and its text; with low latency also RFC 8216bis's EXT-X-PART, EXT-X-PRELOAD-HINT,
// EXT-X-SERVER-CONTROL and EXT-X-SKIP. Pure: parts (fMP4 fragments) come in with their duration and whether a player
// can start at them, segments are cut at the first independent part once the open segment reached its target, each
// ffmpeg run starts with a discontinuity and its own init segment, the window drops old segments, and the text is
// rendered on demand (full, or the delta asked for with _HLS_skip).
// Names: init `header_<run>.mp4`, segments `segment_<msn>.m4s`, parts `segment_<msn>_part_<k>.m4s`.

export interface HlsPart {
  readonly duration: number;
  readonly independent: boolean;
  readonly uri: string;
}

export interface HlsSegment {
  readonly msn: number;
  readonly uri: string;
  /** init segment of the ffmpeg run that made it */
  readonly map: string;
  /** first segment of a later run: a discontinuity precedes it */
  readonly discontinuity: boolean;
  readonly parts: HlsPart[];
  duration: number;
  complete: boolean;
}

export interface HlsPlaylistOptions {
  /** parts, hints, blocking reloads and deltas are announced (else a plain live/event playlist of segments) */
  readonly lowLatency: boolean;
  /** EXT-X-TARGETDURATION (seconds, an integer) */
  readonly targetDuration: number;
  /** a segment is cut at the first independent part once it is this long (seconds) */
  readonly segmentTarget: number;
  /** PART-TARGET (seconds): every part is at most this long */
  readonly partTarget: number;
  /** keep segments whose total is within this many seconds (null: all, up to maxSegments) */
  readonly windowSeconds: number | null;
  /** hard bound on the segments listed, whatever the window */
  readonly maxSegments: number;
  /** EXT-X-PART lines are listed for this many last segments (the original: 4) */
  readonly partSegments: number;
}

export const partUri = (msn: number, part: number) => `segment_${msn}_part_${part}.m4s`;
export const segmentUri = (msn: number) => `segment_${msn}.m4s`;
const fixed = (x: number) => x.toFixed(3);

export class HlsPlaylist {
  readonly segments: HlsSegment[] = [];
  /** discontinuities of the segments the window dropped */
  private droppedDiscontinuities = 0;
  private nextMsn = 0;
  private map: string | undefined;
  private newRun = false;

  constructor(readonly options: HlsPlaylistOptions) {}

  /** A new ffmpeg run with its init segment: the open segment (if any) is closed as it is. */
  startRun(mapUri: string): HlsSegment | undefined {
    const closed = this.closeOpen();
    this.newRun = this.map !== undefined;
    this.map = mapUri;
    return closed;
  }

  /**
   * One part (a moof+mdat). Returns the segment it closed (complete now, to be written out) and the segments the
   * window dropped (their files to be removed).
   */
  addPart(duration: number, independent: boolean): { part: { msn: number; index: number; uri: string }; closed?: HlsSegment; dropped: HlsSegment[] } {
    if (this.map === undefined) throw new Error('a part before the init segment');
    let open = this.open();
    let closed: HlsSegment | undefined;
    // cut at an independent part once the target is reached; past the target duration cut anyway (a publisher that
    // never sends a keyframe must not make one endless segment)
    // (a few ms of slack: 0.5 s parts from a 90 kHz clock do not always add up to exactly 2.000)
    const due = open && independent && open.duration >= this.options.segmentTarget - 0.02;
    const overdue = open && open.duration + duration > this.options.targetDuration;
    if (open && (due || overdue)) {
      closed = this.closeOpen();
      open = undefined;
    }
    if (!open) {
      const msn = this.nextMsn++;
      open = { msn, uri: segmentUri(msn), map: this.map, discontinuity: this.newRun, parts: [], duration: 0, complete: false };
      this.newRun = false;
      this.segments.push(open);
    }
    const index = open.parts.length;
    const uri = partUri(open.msn, index);
    open.parts.push({ duration, independent, uri });
    open.duration += duration;
    return { part: { msn: open.msn, index, uri }, closed, dropped: this.trim() };
  }

  /** The latest published part, if any. */
  last(): { msn: number; part: number; complete: boolean } | undefined {
    const seg = this.segments[this.segments.length - 1];
    if (!seg) return undefined;
    return { msn: seg.msn, part: seg.parts.length - 1, complete: seg.complete };
  }

  /** Whether a blocking request for (msn, part) can be answered: that part (or a later one) is published. */
  has(msn: number, part: number): boolean {
    const last = this.last();
    if (!last) return false;
    if (msn < last.msn) return true;
    if (msn > last.msn) return false;
    return last.complete || part <= last.part;
  }

  /** The part players are told to preload: the next one of the open segment, or the first of the next. */
  hint(): { msn: number; part: number } {
    const open = this.open();
    return open ? { msn: open.msn, part: open.parts.length } : { msn: this.nextMsn, part: 0 };
  }

  /** CAN-SKIP-UNTIL: six target durations, as RFC 8216bis recommends. */
  get skipUntil(): number {
    return 6 * this.options.targetDuration;
  }

  render(delta = false): string {
    const o = this.options;
    const first = this.segments[0];
    const lines = ['#EXTM3U', `#EXT-X-VERSION:${o.lowLatency ? 9 : 7}`, `#EXT-X-TARGETDURATION:${o.targetDuration}`];
    if (o.lowLatency) {
      lines.push(
        `#EXT-X-PART-INF:PART-TARGET=${fixed(o.partTarget)}`,
        `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=${fixed(this.skipUntil)},PART-HOLD-BACK=${fixed(3 * o.partTarget)}`,
      );
    } else if (o.windowSeconds === null) lines.push('#EXT-X-PLAYLIST-TYPE:EVENT');
    lines.push(`#EXT-X-MEDIA-SEQUENCE:${first?.msn ?? this.nextMsn}`);
    // the discontinuity sequence number of the first listed segment (its own tag is not written: nothing precedes it)
    const dsn = this.droppedDiscontinuities + (first?.discontinuity ? 1 : 0);
    if (dsn > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${dsn}`);
    const skipped = delta && o.lowLatency ? this.skippable() : 0;
    if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
    const withParts = this.segments.length - o.partSegments;
    let map: string | undefined;
    this.segments.forEach((seg, i) => {
      if (i < skipped) return;
      if (seg.discontinuity && i > 0) lines.push('#EXT-X-DISCONTINUITY');
      if (seg.map !== map) {
        lines.push(`#EXT-X-MAP:URI="${seg.map}"`);
        map = seg.map;
      }
      if (o.lowLatency && i >= withParts) {
        for (const p of seg.parts) lines.push(`#EXT-X-PART:DURATION=${fixed(p.duration)},URI="${p.uri}"${p.independent ? ',INDEPENDENT=YES' : ''}`);
      }
      if (seg.complete) lines.push(`#EXTINF:${fixed(seg.duration)},`, seg.uri);
    });
    if (o.lowLatency) {
      const hint = this.hint();
      lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partUri(hint.msn, hint.part)}"`);
    }
    return lines.join('\n') + '\n';
  }

  /** Leading complete segments that end more than skipUntil before the playlist's end (the delta leaves them out). */
  private skippable(): number {
    const total = this.segments.reduce((s, x) => s + x.duration, 0);
    let elapsed = 0;
    let n = 0;
    for (const seg of this.segments) {
      elapsed += seg.duration;
      if (!seg.complete || total - elapsed < this.skipUntil) break;
      // a skipped range must not hide a discontinuity or an init change the client would need
      const next = this.segments[n + 1];
      if (next && (next.discontinuity || next.map !== seg.map)) break;
      n++;
    }
    return n;
  }

  private open(): HlsSegment | undefined {
    const seg = this.segments[this.segments.length - 1];
    return seg && !seg.complete ? seg : undefined;
  }

  private closeOpen(): HlsSegment | undefined {
    const open = this.open();
    if (!open) return undefined;
    if (open.parts.length === 0) {
      this.segments.pop();
      return undefined;
    }
    open.complete = true;
    return open;
  }

  private trim(): HlsSegment[] {
    const o = this.options;
    const dropped: HlsSegment[] = [];
    const complete = () => this.segments.filter((s) => s.complete);
    while (this.segments.length > 1 && this.segments[0]!.complete) {
      const tooMany = this.segments.length > o.maxSegments;
      const span = complete().slice(1).reduce((s, x) => s + x.duration, 0);
      const outsideWindow = o.windowSeconds !== null && span >= o.windowSeconds;
      if (!tooMany && !outsideWindow) break;
      const gone = this.segments.shift()!;
      if (gone.discontinuity) this.droppedDiscontinuities++;
      dropped.push(gone);
    }
    return dropped;
  }
}
