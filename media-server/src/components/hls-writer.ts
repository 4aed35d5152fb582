// HLS output: ffmpeg writes fragmented MP4 (a fragment at each keyframe and at least every fragmentSeconds) to its
// stdout; this cuts it into the init segment of each run (`header_<run>.mp4`), segments (`segment_<msn>.m4s`, its
// fragments joined, written when complete) and, with low latency, parts (one fragment each,
// `segment_<msn>_part_<k>.m4s`), keeps the playlist (hls-playlist.ts), writes it as `stream.m3u8`, and releases the
// blocked requests a part satisfies. Why not ffmpeg's hls muxer: it has no partial segments, and a restarted ffmpeg
// (the room's tracks changed) would start a new playlist, dropping the earlier segments from it (and from a
// persistent recording); here segment numbers go on and each run is a discontinuity with its own init segment.
// Files are written synchronously, in order, each under a temporary name and renamed: a reader never sees half a file.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { MEDIA_PLAYLIST } from './hls-ffmpeg-command.js';
import { BoxSplitter, fragmentInfo, tracksOfMoov, type TrackInfo } from './fmp4-boxes.js';
import { HlsPlaylist, type HlsSegment } from './hls-playlist.js';
import { PartWaiters } from './ll-hls-waiters.js';

/** ffmpeg cuts a fragment (a part) after this long at the latest; parts stay under LL_PART_TARGET. */
export const LL_FRAGMENT_SECONDS = 0.5;
export const LL_PART_TARGET = 1;
export const LL_SEGMENT_TARGET = 2;
export const LL_TARGET_DURATION = 4;
/** Regular HLS: fragments of at most 1 s (audio alone would otherwise make one per frame), segments of ~6 s. */
export const FRAGMENT_SECONDS = 1;
export const SEGMENT_TARGET = 6;
export const TARGET_DURATION = 8;
/** Blocked requests one LL-HLS component holds at once. */
export const MAX_BLOCKED_REQUESTS = 500;
/** Segments listed at most (also with no window: about 11 hours of 2 s segments). */
export const MAX_LL_SEGMENTS = 20_000;

export interface RunSink {
  push(chunk: Buffer): void;
}

export class HlsWriter {
  readonly playlist: HlsPlaylist;
  readonly waiters = new PartWaiters(MAX_BLOCKED_REQUESTS);
  /** parts of the open segment, joined into its file when it completes */
  private openParts: Buffer[] = [];
  private closed = false;
  /** only the latest run's output is taken (a stopped run's last bytes may still arrive) */
  private currentRun = 0;
  /** the run whose fragments are in openParts (a segment is reported with the run that made it) */
  private partsRun = 0;

  constructor(
    private readonly dir: string,
    readonly lowLatency: boolean,
    windowSeconds: number | null,
    private readonly logger: Logger,
    /** a segment is complete and on disk */
    private readonly onSegment: (segment: HlsSegment, bytes: number, run: number) => void,
  ) {
    this.playlist = new HlsPlaylist({
      lowLatency,
      targetDuration: lowLatency ? LL_TARGET_DURATION : TARGET_DURATION,
      segmentTarget: lowLatency ? LL_SEGMENT_TARGET : SEGMENT_TARGET,
      partTarget: LL_PART_TARGET,
      windowSeconds,
      maxSegments: MAX_LL_SEGMENTS,
      partSegments: 4,
    });
  }

  /** The sink of one ffmpeg run's stdout. A malformed stream is logged and the rest of that run ignored. */
  startRun(run: number): RunSink {
    this.currentRun = run;
    const splitter = new BoxSplitter();
    let header: Buffer[] = [];
    let tracks: TrackInfo[] | undefined;
    let moof: Buffer | undefined;
    let broken = false;
    return {
      push: (chunk) => {
        if (broken || this.closed || run !== this.currentRun) return;
        try {
          for (const box of splitter.push(chunk)) {
            if (box.type === 'ftyp') header = [Buffer.from(box.bytes)];
            else if (box.type === 'moov') {
              tracks = tracksOfMoov(box);
              const map = `header_${run}.mp4`;
              this.write(map, Buffer.concat([...header, box.bytes]));
              header = [];
              this.completed(this.playlist.startRun(map));
            } else if (box.type === 'moof') moof = Buffer.from(box.bytes);
            else if (box.type === 'mdat' && moof && tracks) {
              this.part(moof, box.bytes, tracks, run);
              moof = undefined;
            }
          }
        } catch (error) {
          broken = true;
          this.logger.error({ err: (error as Error).message }, 'HLS: ffmpeg output could not be cut into segments');
        }
      },
    };
  }

  /** No more parts: blocked requests are released (answered from what exists). */
  close(): void {
    this.closed = true;
    this.waiters.close();
  }

  private part(moof: Buffer, mdat: Buffer, tracks: readonly TrackInfo[], run: number): void {
    const info = fragmentInfo({ type: 'moof', bytes: moof }, tracks);
    const { part, closed, dropped } = this.playlist.addPart(info.duration, info.independent);
    if (closed) this.completed(closed);
    this.partsRun = run;
    const bytes = Buffer.concat([moof, mdat]);
    this.openParts.push(bytes);
    for (const seg of dropped) this.remove(seg, true);
    if (!this.lowLatency) return; // the playlist changes when a segment completes
    this.write(part.uri, bytes);
    // parts are listed for the last few segments only: older part files go
    const stale = this.playlist.segments[this.playlist.segments.length - 1 - this.playlist.options.partSegments];
    if (stale) this.remove(stale, false);
    this.writePlaylist();
    this.waiters.published();
  }

  private completed(segment: HlsSegment | undefined): void {
    const run = this.partsRun;
    if (!segment) return;
    const joined = Buffer.concat(this.openParts);
    this.openParts = [];
    this.write(segment.uri, joined);
    // without parts in the playlist, a complete segment's part list is not needed any more (memory stays small)
    if (!this.lowLatency) segment.parts.length = 0;
    this.writePlaylist();
    this.waiters.published();
    this.onSegment(segment, joined.length, run);
  }

  private writePlaylist(): void {
    this.write(MEDIA_PLAYLIST, Buffer.from(this.playlist.render()));
  }

  private write(name: string, bytes: Buffer): void {
    const file = path.join(this.dir, name);
    writeFileSync(`${file}.tmp`, bytes);
    renameSync(`${file}.tmp`, file);
  }

  private remove(segment: HlsSegment, withSegment: boolean): void {
    const names = this.lowLatency ? segment.parts.map((p) => p.uri) : [];
    if (withSegment) names.push(segment.uri);
    for (const name of names) rmSync(path.join(this.dir, name), { force: true });
    // the part list of an old segment is no longer needed (memory stays bounded by the window)
    if (!withSegment) segment.parts.length = 0;
  }
}
