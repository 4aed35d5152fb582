// The ffmpeg that pulls one RTSP camera (H264 over RTP/UDP) and sends its video, unchanged, as RTP to the component's
// producer on a loopback port. Pure.
// - The camera's URI may carry a user and password: it never goes on the command line (readable by every user through
//   /proc/<pid>/cmdline). ffmpeg reads it from stdin, as the one entry of an ffconcat script (`-f concat -i pipe:0`),
//   together with the RTSP demuxer's options; ffmpeg's error lines that quote it are redacted by the caller.
// - Only RTSP and what it runs over may be opened (protocol whitelist): the script cannot name a local file.
// - `dump_extra` repeats the SPS/PPS (from the camera's SDP) before every key frame: many cameras send them only in the
//   SDP, and a browser decoder needs them in the stream.
// - `-rtpflags skip_rtcp`: see ffmpeg-rtp-command.ts (mediasoup's comedia would lock onto the RTCP socket).
import { FILE_VIDEO_PAYLOAD_TYPE, type RtpTarget } from './ffmpeg-rtp-command.js';
import type { RtspSpec } from './rtsp-options.js';

const RTP_PACKET_SIZE = 1200;
/** Socket I/O timeout of the RTSP session: a camera that sends nothing for this long is gone. */
export const RTSP_IO_TIMEOUT_MS = 10_000;

export function rtspFfmpegArgs(target: RtpTarget): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-protocol_whitelist',
    'pipe,rtsp,rtp,udp,tcp',
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    'pipe:0',
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-bsf:v',
    'dump_extra',
    '-f',
    'rtp',
    '-payload_type',
    String(FILE_VIDEO_PAYLOAD_TYPE),
    '-ssrc',
    String(target.ssrc),
    '-rtpflags',
    'skip_rtcp',
    `rtp://${target.ip}:${target.port}?pkt_size=${RTP_PACKET_SIZE}`,
  ];
}

/**
 * What ffmpeg reads on stdin: the camera and the RTSP demuxer's options. RTP over UDP on the component's `rtpPort`
 * (its RTCP on rtpPort + 1, as RTSP clients do), video only.
 */
export function rtspConcatScript(spec: Pick<RtspSpec, 'sourceUri' | 'rtpPort'>): string {
  const rtcpPort = Math.min(spec.rtpPort + 1, 65535);
  return [
    'ffconcat version 1.0',
    `file ${quote(spec.sourceUri)}`,
    'option rtsp_transport udp',
    'option allowed_media_types video',
    `option min_port ${spec.rtpPort}`,
    `option max_port ${rtcpPort}`,
    `option timeout ${RTSP_IO_TIMEOUT_MS * 1000}`,
    '',
  ].join('\n');
}

/** ffconcat quoting (av_get_token): inside single quotes nothing is special; a quote is closed, escaped, reopened. */
function quote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}
