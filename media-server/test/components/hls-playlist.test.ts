// The LL-HLS playlist logic, pure: segment cutting, blocking-request readiness, preload hints, windows, runs
// (discontinuities and init segments), delta playlists; the bounded waiters; and the fMP4 cutting on ffmpeg's own
// fragmented output.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BoxSplitter, fragmentInfo, tracksOfMoov, type Box } from '../../src/components/fmp4-boxes.js';
import { HlsPlaylist, type HlsPlaylistOptions } from '../../src/components/hls-playlist.js';
import { PartWaiters } from '../../src/components/ll-hls-waiters.js';

const run = promisify(execFile);
const options: HlsPlaylistOptions = { lowLatency: true, targetDuration: 4, segmentTarget: 2, partTarget: 1, windowSeconds: null, maxSegments: 1000, partSegments: 4 };

/** Parts of 0.5 s, a keyframe every second. */
function feed(pl: HlsPlaylist, parts: number, start = 0) {
  const out = [];
  for (let i = start; i < start + parts; i++) out.push(pl.addPart(0.5, i % 2 === 0));
  return out;
}

test('segments are cut at the first independent part once 2 s are reached; parts numbered per segment', (t) => {
  const pl = new HlsPlaylist(options);
  pl.startRun('header_1.mp4');
  const added = feed(pl, 9);
  t.deepEqual(added.map((a) => `${a.part.msn}/${a.part.index}`), ['0/0', '0/1', '0/2', '0/3', '1/0', '1/1', '1/2', '1/3', '2/0']);
  t.is(added[4]!.closed?.msn, 0);
  t.true(pl.segments[0]!.complete);
  t.is(pl.segments[0]!.duration, 2);
  t.false(pl.segments[2]!.complete);
});

test('a segment without keyframes is cut at the target duration anyway (bounded)', (t) => {
  const pl = new HlsPlaylist(options);
  pl.startRun('h.mp4');
  for (let i = 0; i < 20; i++) pl.addPart(0.5, i === 0);
  t.true(pl.segments.every((s) => s.duration <= 4));
  t.true(pl.segments.length >= 2);
});

test('has(msn, part): published parts and earlier segments are ready; later ones are not', (t) => {
  const pl = new HlsPlaylist(options);
  t.false(pl.has(0, 0), 'nothing published');
  pl.startRun('h.mp4');
  feed(pl, 6); // segment 0 complete (4 parts), segment 1 has parts 0 and 1
  t.true(pl.has(0, 0));
  t.true(pl.has(0, 99), 'a complete segment satisfies any of its parts');
  t.true(pl.has(1, 1));
  t.false(pl.has(1, 2));
  t.false(pl.has(2, 0));
  t.false(pl.has(1, Number.MAX_SAFE_INTEGER), 'the open segment is not complete');
  t.deepEqual(pl.hint(), { msn: 1, part: 2 });
});

test('render: the LL tags, parts of the last 4 segments only, EXTINF for complete segments, the preload hint', (t) => {
  const pl = new HlsPlaylist(options);
  pl.startRun('header_1.mp4');
  feed(pl, 22); // 5 complete segments, the sixth open with 2 parts
  const text = pl.render();
  const lines = text.trim().split('\n');
  t.deepEqual(lines.slice(0, 7), [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    '#EXT-X-TARGETDURATION:4',
    '#EXT-X-PART-INF:PART-TARGET=1.000',
    '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=24.000,PART-HOLD-BACK=3.000',
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-MAP:URI="header_1.mp4"',
  ]);
  t.is(lines.filter((l) => l.startsWith('#EXTINF:2.000,')).length, 5);
  t.false(text.includes('segment_0_part_0.m4s'), 'segment 0 is not among the last 4');
  t.false(text.includes('segment_1_part_0.m4s'));
  t.true(text.includes('#EXT-X-PART:DURATION=0.500,URI="segment_2_part_0.m4s",INDEPENDENT=YES'));
  t.true(text.includes('#EXT-X-PART:DURATION=0.500,URI="segment_2_part_1.m4s"\n'));
  t.is(lines[lines.length - 1], '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="segment_5_part_2.m4s"');
});

test('a new run: the open segment is closed, a discontinuity and the new init segment precede the next segment', (t) => {
  const pl = new HlsPlaylist(options);
  pl.startRun('header_1.mp4');
  feed(pl, 5);
  const closed = pl.startRun('header_2.mp4');
  t.is(closed?.msn, 1);
  feed(pl, 2);
  const text = pl.render();
  t.regex(text, /segment_1\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="header_2\.mp4"\n#EXT-X-PART:DURATION=0\.500,URI="segment_2_part_0\.m4s"/);
});

test('the window drops old segments (reported for removal) and keeps the discontinuity sequence', (t) => {
  const pl = new HlsPlaylist({ ...options, windowSeconds: 6 });
  pl.startRun('header_1.mp4');
  feed(pl, 4);
  pl.startRun('header_2.mp4');
  const dropped = feed(pl, 40).flatMap((a) => a.dropped.map((s) => s.msn));
  t.true(dropped.includes(0) && dropped.includes(1));
  const complete = pl.segments.filter((s) => s.complete);
  t.true(complete.reduce((s, x) => s + x.duration, 0) <= 6 + 2);
  const text = pl.render();
  t.regex(text, new RegExp(`#EXT-X-MEDIA-SEQUENCE:${pl.segments[0]!.msn}\n`));
  t.regex(text, /#EXT-X-DISCONTINUITY-SEQUENCE:1\n/);
  t.false(text.includes('#EXT-X-DISCONTINUITY\n'));
});

test('maxSegments bounds an unlimited window', (t) => {
  const pl = new HlsPlaylist({ ...options, maxSegments: 10 });
  pl.startRun('h.mp4');
  feed(pl, 400);
  t.true(pl.segments.length <= 10);
});

test('delta playlist: EXT-X-SKIP for segments older than CAN-SKIP-UNTIL, nothing skipped when the playlist is short', (t) => {
  const pl = new HlsPlaylist(options);
  pl.startRun('header_1.mp4');
  feed(pl, 8);
  t.false(pl.render(true).includes('#EXT-X-SKIP'));
  feed(pl, 80, 8); // 40 s
  const delta = pl.render(true);
  const skipped = Number(/#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)/.exec(delta)?.[1]);
  t.true(skipped > 0);
  t.false(delta.includes('segment_0.m4s'));
  const listed = delta.split('\n').filter((l) => /^segment_\d+\.m4s$/.test(l));
  t.true(listed.length * 2 + pl.segments[pl.segments.length - 1]!.duration >= 24, 'at least CAN-SKIP-UNTIL seconds stay listed (the open segment included)');
  t.is(Number(/segment_(\d+)\.m4s/.exec(listed[0]!)?.[1]), skipped);
});

test('waiters: released by a publish, by timeout, by abort; bounded; all released on close', async (t) => {
  let ready = false;
  const w = new PartWaiters(2);
  const a = w.wait(() => ready, 10_000)!;
  const controller = new AbortController();
  const b = w.wait(() => ready, 10_000, controller.signal)!;
  t.is(w.wait(() => ready, 10_000), undefined, 'the third is refused');
  controller.abort();
  t.is(await b, 'aborted');
  ready = true;
  w.published();
  t.is(await a, 'ready');
  t.is(w.size, 0);
  ready = false;
  t.is(await w.wait(() => ready, 20)!, 'timeout');
  const c = w.wait(() => ready, 10_000)!;
  w.close();
  t.is(await c, 'gone');
  t.is(await w.wait(() => false, 10_000)!, 'gone');
  t.is(w.size, 0);
});

test('fMP4 cutting on ffmpeg output: init tracks, parts with durations and keyframes, any chunking', async (t) => {
  const { stdout } = await run('nice', [
    '-n', '19', 'ffmpeg', '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30:duration=3', '-f', 'lavfi', '-i', 'sine=duration=3',
    '-c:v', 'libx264', '-g', '30', '-bf', '0', '-c:a', 'aac', '-shortest',
    '-f', 'mp4', '-movflags', '+frag_keyframe+delay_moov+default_base_moof+skip_trailer', '-frag_duration', '500000', 'pipe:1',
  ], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  for (const chunkSize of [stdout.length, 7, 1000]) {
    const splitter = new BoxSplitter();
    const boxes: Box[] = [];
    for (let i = 0; i < stdout.length; i += chunkSize) boxes.push(...splitter.push(stdout.subarray(i, i + chunkSize)));
    t.deepEqual(boxes.slice(0, 2).map((b) => b.type), ['ftyp', 'moov']);
    const tracks = tracksOfMoov(boxes[1]!);
    t.deepEqual(tracks.map((x) => x.kind).sort(), ['audio', 'video']);
    const infos = boxes.filter((b) => b.type === 'moof').map((m) => fragmentInfo(m, tracks));
    const total = infos.reduce((s, i) => s + i.duration, 0);
    t.true(Math.abs(total - 3) < 0.1, `total ${total}`);
    t.true(infos.every((i) => i.duration <= 0.55));
    t.is(infos.filter((i) => i.independent).length, 3, 'a keyframe each second');
    t.true(infos[0]!.independent);
  }
  t.throws(() => new BoxSplitter().push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x6d, 0x6f, 0x6f, 0x66])), { message: /invalid size/ });
});

test('regular HLS: no parts, hints or server control; EVENT without a window; runs still continue the numbering', (t) => {
  const pl = new HlsPlaylist({ ...options, lowLatency: false, segmentTarget: 6, targetDuration: 8 });
  pl.startRun('header_1.mp4');
  feed(pl, 14); // 6 s segments of 0.5 s parts
  pl.startRun('header_2.mp4');
  feed(pl, 14);
  const text = pl.render();
  t.regex(text, /^#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:8\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-MAP:URI="header_1\.mp4"\n#EXTINF:6\.000,\nsegment_0\.m4s\n/);
  t.false(/#EXT-X-PART|PRELOAD-HINT|SERVER-CONTROL|PART-INF/.test(text));
  t.regex(text, /segment_1\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="header_2\.mp4"\n#EXTINF:6\.000,\nsegment_2\.m4s/);
  t.is(pl.render(true), text, 'no delta without low latency');
});
