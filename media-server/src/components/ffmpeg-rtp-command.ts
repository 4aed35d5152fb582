// The ffmpeg command that plays one file once, in real time (-re), as RTP to a local port, and the RTP parameters the
// producer must declare for what it sends. Pure.
// - No re-encoding (-c copy): an .h264 file is packetised as it is (RFC 6184 packetization-mode 1), an .ogg's Opus
//   packets are sent as they are.
// - Raw H264 has no timestamps: `-framerate` on the input makes them (the File component's `framerate`).
// - `-rtpflags skip_rtcp`: ffmpeg would send a sender report from a second socket before its first RTP packet, and
//   mediasoup's comedia mode would then lock onto that socket's port and drop the media.
import type { FileSpec } from './file-options.js';

/** The payload types and clock rates of the original's File endpoint. */
export const FILE_VIDEO_PAYLOAD_TYPE = 96;
export const FILE_AUDIO_PAYLOAD_TYPE = 108;
/** Below the usual path MTU once SRTP and the header extensions mediasoup adds are on. */
const RTP_PACKET_SIZE = 1200;

export interface RtpTarget {
  readonly ip: string;
  readonly port: number;
  readonly ssrc: number;
}

/** The file descriptor ffmpeg reads its input from (source-file.ts opens and checks the file; ffmpeg never opens it). */
export const SOURCE_FD = 3;

export function ffmpegArgs(file: Pick<FileSpec, 'kind' | 'framerate'>, target: RtpTarget): string[] {
  // Only the inherited descriptor may be read: no file names, no network inputs.
  const from = ['-protocol_whitelist', 'pipe', '-i', `pipe:${SOURCE_FD}`];
  const input =
    file.kind === 'video'
      ? ['-f', 'h264', '-framerate', String(file.framerate ?? 30), ...from, '-map', '0:v:0']
      : ['-f', 'ogg', ...from, '-map', '0:a:0'];
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-re',
    ...input,
    '-c',
    'copy',
    '-f',
    'rtp',
    '-payload_type',
    String(file.kind === 'video' ? FILE_VIDEO_PAYLOAD_TYPE : FILE_AUDIO_PAYLOAD_TYPE),
    '-ssrc',
    String(target.ssrc),
    '-rtpflags',
    'skip_rtcp',
    `rtp://${target.ip}:${target.port}?pkt_size=${RTP_PACKET_SIZE}`,
  ];
}

/**
 * What the producer receives. H264 is declared constrained baseline 3.1 (what the rooms' routers offer, so any peer
 * can consume it); ffmpeg passes the file's own profile through, which browsers' decoders take whatever the label.
 */
export function producerRtpParameters(kind: 'video' | 'audio', ssrc: number) {
  if (kind === 'video') {
    return {
      codecs: [
        {
          mimeType: 'video/H264',
          payloadType: FILE_VIDEO_PAYLOAD_TYPE,
          clockRate: 90000,
          parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
          rtcpFeedback: [],
        },
      ],
      encodings: [{ ssrc }],
    };
  }
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: FILE_AUDIO_PAYLOAD_TYPE, clockRate: 48000, channels: 2, rtcpFeedback: [] }],
    encodings: [{ ssrc }],
  };
}
