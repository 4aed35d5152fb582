// The HLS ffmpeg's SDP and command line (pure), and the composed filter graphs run by a real ffmpeg on lavfi sources
// standing in for the RTP inputs (one input holding several video streams, as the SDP input does).
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { COMPOSED_HEIGHT, COMPOSED_WIDTH, FFMPEG_RTP_ADDRESS, hlsFfmpegArgs, hlsSdp, layoutOf, type HlsInput } from '../../src/components/hls-ffmpeg-command.js';

const run = promisify(execFile);
const video = (port: number, screenshare = false): HlsInput => ({ kind: 'video', port, payloadType: 102, mimeType: 'video/H264', clockRate: 90000, fmtp: { 'packetization-mode': 1, 'profile-level-id': '42e01f' }, screenshare });
const audio = (port: number): HlsInput => ({ kind: 'audio', port, payloadType: 100, mimeType: 'audio/opus', clockRate: 48000, channels: 2 });
const output = { fragmentSeconds: 1, keyframeSeconds: 2 };

test('SDP: one m-line per input on its port, loopback, the mediasoup source filter', (t) => {
  const sdp = hlsSdp([video(40000), audio(40002)]);
  t.true(sdp.endsWith('\r\n'));
  const lines = sdp.trim().split('\r\n');
  t.true(lines.includes('c=IN IP4 127.0.0.1'));
  t.true(lines.includes('a=source-filter: incl IN IP4 * 127.0.0.1'));
  t.true(lines.includes('m=video 40000 RTP/AVP 102'));
  t.true(lines.includes('a=rtpmap:102 H264/90000'));
  t.true(lines.includes('a=fmtp:102 packetization-mode=1;profile-level-id=42e01f'));
  t.true(lines.includes('m=audio 40002 RTP/AVP 100'));
  t.true(lines.includes('a=rtpmap:100 opus/48000/2'));
});

test('one video: passed through (-c:v copy), no filter; audio to AAC; fragmented MP4 on stdout; loopback address', (t) => {
  const args = hlsFfmpegArgs([video(1), audio(3)], output);
  t.is(args[args.indexOf('-c:v') + 1], 'copy');
  t.false(args.includes('-filter_complex'));
  t.is(args[args.indexOf('-c:a') + 1], 'aac');
  t.is(args[args.indexOf('-localaddr') + 1], FFMPEG_RTP_ADDRESS);
  t.is(args[args.indexOf('-frag_duration') + 1], '1000000');
  t.is(args[args.length - 1], 'pipe:1');
  t.is(args[args.indexOf('-i') + 1], 'pipe:0');
});

test('layout: a grid without a screenshare; the screenshare on top with a 1/5 strip for the others', (t) => {
  t.deepEqual(layoutOf([false, false]), [
    { x: 0, y: 0, width: 640, height: 720 },
    { x: 640, y: 0, width: 640, height: 720 },
  ]);
  const four = layoutOf([false, false, false, false]);
  t.deepEqual(four.map((c) => [c.x, c.y]), [[0, 0], [640, 0], [0, 360], [640, 360]]);
  t.is(layoutOf(Array(9).fill(false)).length, 9);
  const shared = layoutOf([false, true, false]);
  t.deepEqual(shared[1], { x: 0, y: 0, width: COMPOSED_WIDTH, height: COMPOSED_HEIGHT - 144 });
  t.deepEqual(shared[0], { x: 0, y: 576, width: 640, height: 144 });
  t.deepEqual(shared[2], { x: 640, y: 576, width: 640, height: 144 });
  const two = layoutOf([true, true, false]);
  t.is(two.filter((c) => c.height > 144).length, 1, 'a second screenshare goes into the strip');
  for (const cells of [four, shared, two, layoutOf(Array(9).fill(false))]) {
    t.true(cells.every((c) => c.x + c.width <= COMPOSED_WIDTH && c.y + c.height <= COMPOSED_HEIGHT && c.width % 2 === 0 && c.height % 2 === 0));
  }
});

/** Runs the composed command's filter graph on one lavfi input holding the videos and audios; the first picture's size. */
async function runComposed(inputs: HlsInput[]): Promise<number> {
  const args = hlsFfmpegArgs(inputs, output);
  const graph = args[args.indexOf('-filter_complex') + 1]!;
  const videos = inputs.filter((i) => i.kind === 'video').length;
  const audios = inputs.filter((i) => i.kind === 'audio').length;
  const sources = [
    ...Array.from({ length: videos }, (_, i) => `testsrc=size=${320 + 32 * i}x240:rate=30:duration=1[out${i}]`),
    ...Array.from({ length: audios }, (_, i) => `sine=frequency=${440 + i * 100}:duration=1[out${videos + i}]`),
  ].join(';');
  const { stdout } = await run(
    'nice',
    ['-n', '19', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', sources, '-filter_complex', graph, '-map', '[vout]', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1', ...(audios > 1 ? ['-map', '[aout]', '-t', '1', '-f', 'null', '-'] : [])],
    { encoding: 'buffer', maxBuffer: 8 << 20 },
  );
  return stdout.length;
}

test('composed graphs run in a real ffmpeg: 2, 4 and 9 videos, a screenshare layout, mixed audio', async (t) => {
  for (const inputs of [
    [video(1), video(3)],
    [video(1), video(3), video(5), video(7), audio(9), audio(11)],
    Array.from({ length: 9 }, (_, i) => video(i * 2)),
    [video(1), video(3, true), video(5), audio(7)],
  ]) {
    t.is(await runComposed(inputs), COMPOSED_WIDTH * COMPOSED_HEIGHT, JSON.stringify(inputs.map((i) => [i.kind, i.screenshare])));
  }
});
