// The HLS ffmpeg: the SDP it reads (one m-line per consumed track, each on its own 127.0.0.1 port) and its command
// line. Pure.
// - One video track is passed through as it arrives (-c:v copy: no decoding, no encoding; keyframes come from the
//   publisher, asked for by the caller with consumer.requestKeyFrame()). Several are decoded, scaled into a grid on
//   one COMPOSED_WIDTH x COMPOSED_HEIGHT picture (xstack) and encoded as H264 constrained baseline.
// - Audio (Opus) is decoded, mixed when there are several tracks (amix), and encoded as AAC-LC.
// - Output: fragmented MP4 (CMAF-style) on stdout, cut into HLS segments and parts by hls-writer.ts.
// - `-localaddr 127.0.0.2` (FFMPEG_RTP_ADDRESS): ffmpeg's RTP sockets listen on loopback only, and on an address that
//   is never a WebRTC address (in development mode that is 127.0.0.1, which the node's TURN server relays to: a TURN
//   client could otherwise send datagrams into an HLS ffmpeg); the SDP's source filter takes packets from 127.0.0.1
//   (mediasoup) only. Nothing secret is on the command line.

/** Where the HLS ffmpeg listens (all of 127.0.0.0/8 is loopback on Linux); mediasoup sends from 127.0.0.1. */
export const FFMPEG_RTP_ADDRESS = '127.0.0.2';
export const MASTER_PLAYLIST = 'index.m3u8';
export const MEDIA_PLAYLIST = 'stream.m3u8';
export const COMPOSED_WIDTH = 1280;
export const COMPOSED_HEIGHT = 720;
export const COMPOSED_FPS = 24;

export interface HlsInput {
  readonly kind: 'audio' | 'video';
  /** 127.0.0.1 port ffmpeg listens on (RTP; RTCP is muxed there by mediasoup, ffmpeg also binds port + 1) */
  readonly port: number;
  readonly payloadType: number;
  /** e.g. video/H264, audio/opus */
  readonly mimeType: string;
  readonly clockRate: number;
  readonly channels?: number;
  readonly fmtp?: Readonly<Record<string, string | number>>;
  /** a video whose track metadata says `"type": "screenshare"`: it takes the main area of a composed picture */
  readonly screenshare?: boolean;
}

export interface HlsOutput {
  /** ffmpeg cuts a fragment at each keyframe and at least this often (seconds) */
  readonly fragmentSeconds: number;
  /** a composed picture gets a keyframe this often (seconds): segments are cut at keyframes */
  readonly keyframeSeconds: number;
}

export function hlsSdp(inputs: readonly HlsInput[]): string {
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=fishjam-hls', 'c=IN IP4 127.0.0.1', 't=0 0', 'a=source-filter: incl IN IP4 * 127.0.0.1'];
  for (const input of inputs) {
    const [, codec = ''] = input.mimeType.split('/');
    lines.push(`m=${input.kind} ${input.port} RTP/AVP ${input.payloadType}`);
    const channels = input.kind === 'audio' && input.channels ? `/${input.channels}` : '';
    lines.push(`a=rtpmap:${input.payloadType} ${codec}/${input.clockRate}${channels}`);
    const fmtp = Object.entries(input.fmtp ?? {}).map(([k, v]) => `${k}=${v}`);
    if (fmtp.length > 0) lines.push(`a=fmtp:${input.payloadType} ${fmtp.join(';')}`);
    lines.push('a=recvonly');
  }
  return lines.join('\r\n') + '\r\n';
}

export interface Cell {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const even = (x: number) => Math.floor(x / 2) * 2;

/**
 * Where each of several videos goes on the composed picture, in input order. As the original: without a screenshare
 * a grid; with one, the (first) screenshare takes the top 4/5 and the others share a strip of 1/5 height below it
 * (the original crashed on two screenshares; here the second one goes into the strip).
 */
export function layoutOf(screenshare: readonly boolean[]): Cell[] {
  const main = screenshare.indexOf(true);
  if (main < 0 || screenshare.length < 2) {
    const { cols, cellWidth, cellHeight } = gridOf(screenshare.length);
    return screenshare.map((_, i) => ({ x: (i % cols) * cellWidth, y: Math.floor(i / cols) * cellHeight, width: cellWidth, height: cellHeight }));
  }
  const stripHeight = even(COMPOSED_HEIGHT / 5);
  const others = screenshare.length - 1;
  const width = even(COMPOSED_WIDTH / others);
  let slot = 0;
  return screenshare.map((_, i) =>
    i === main
      ? { x: 0, y: 0, width: COMPOSED_WIDTH, height: COMPOSED_HEIGHT - stripHeight }
      : { x: width * slot++, y: COMPOSED_HEIGHT - stripHeight, width, height: stripHeight },
  );
}

/** Grid of `n` cells: columns, rows and each cell's size (even, as yuv420p needs). */
export function gridOf(n: number): { cols: number; rows: number; cellWidth: number; cellHeight: number } {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  return { cols, rows, cellWidth: even(COMPOSED_WIDTH / cols), cellHeight: even(COMPOSED_HEIGHT / rows) };
}

export function hlsFfmpegArgs(inputs: readonly HlsInput[], output: HlsOutput): string[] {
  const videos = inputs.filter((i) => i.kind === 'video').length;
  const audios = inputs.filter((i) => i.kind === 'audio').length;
  const args = [
    '-hide_banner', '-loglevel', 'warning', '-nostdin',
    '-protocol_whitelist', 'pipe,udp,rtp',
    '-localaddr', FFMPEG_RTP_ADDRESS,
    // a few seconds of probing: the first keyframe (asked for as ffmpeg starts) carries the picture size
    '-analyzeduration', '10000000', '-probesize', '20000000',
    '-reorder_queue_size', '256',
    '-f', 'sdp', '-i', 'pipe:0',
  ];
  const filters: string[] = [];
  if (videos === 1) {
    args.push('-map', '0:v:0', '-c:v', 'copy');
  } else if (videos > 1) {
    const cells = layoutOf(inputs.filter((i) => i.kind === 'video').map((i) => i.screenshare === true));
    const layout: string[] = [];
    cells.forEach((cell, i) => {
      const { width: w, height: h } = cell;
      filters.push(`[0:v:${i}]scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${COMPOSED_FPS}[v${i}]`);
      layout.push(`${cell.x}_${cell.y}`);
    });
    const labels = cells.map((_, i) => `[v${i}]`).join('');
    filters.push(`${labels}xstack=inputs=${videos}:layout=${layout.join('|')}:fill=black,pad=${COMPOSED_WIDTH}:${COMPOSED_HEIGHT}:0:0:black,format=yuv420p[vout]`);
    const gop = String(Math.max(1, Math.round(COMPOSED_FPS * output.keyframeSeconds)));
    args.push(
      '-map', '[vout]',
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline',
      '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-b:v', '2500k', '-maxrate', '3000k', '-bufsize', '3000k',
    );
  }
  if (audios === 1) {
    args.push('-map', '0:a:0');
  } else if (audios > 1) {
    const ins = Array.from({ length: audios }, (_, i) => `[0:a:${i}]`).join('');
    filters.push(`${ins}amix=inputs=${audios}:duration=longest:dropout_transition=0:normalize=0[aout]`);
    args.push('-map', '[aout]');
  }
  if (audios > 0) args.push('-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2');
  if (filters.length > 0) args.splice(args.indexOf('-map'), 0, '-filter_complex', filters.join(';'));
  args.push(
    '-f', 'mp4',
    // delay_moov: the init segment is written with the first fragment, once the H264 parameter sets are known
    '-movflags', '+frag_keyframe+delay_moov+default_base_moof+skip_trailer',
    '-frag_duration', String(Math.round(output.fragmentSeconds * 1_000_000)),
    '-flush_packets', '1',
    'pipe:1',
  );
  return args;
}
