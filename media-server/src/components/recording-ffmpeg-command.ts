// The Recording component's ffmpeg commands. Pure.
// - Recording: the subscribed tracks arrive as RTP (one SDP m-line each, read from stdin, as the HLS ffmpeg) and are
//   written as they are (-c copy: no decoding, no encoding; H264 video and Opus audio) into one MPEG-TS file per run.
//   Why MPEG-TS and not Matroska or MP4: it needs no trailer. ffmpeg only acts on a stop signal between packets, and
//   when a room ends its tracks stop first, so ffmpeg must be interrupted mid-read, and then it cannot write a
//   trailer (tried: a Matroska file is left without duration and index). A TS file is complete at every packet, also
//   after a crash or a SIGKILL; packets are flushed as they come.
// - Conversion (after the room ended, by the CLI or a caller): a run's TS file -> MP4 with the first video
//   copied (H264 as recorded) and the audio tracks mixed into one AAC track (MP4 players know AAC; Opus in MP4 is
//   not universally played). `+faststart` puts the index first for progressive playback.
// Nothing secret is on these command lines (the path names a room and a time).
import { FFMPEG_RTP_ADDRESS, type HlsInput } from './hls-ffmpeg-command.js';

export function recordingFfmpegArgs(inputs: readonly HlsInput[], outputFile: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'warning', '-nostdin',
    '-protocol_whitelist', 'pipe,udp,rtp',
    '-localaddr', FFMPEG_RTP_ADDRESS,
    // probing waits for the first keyframe (asked for as ffmpeg starts): it carries the picture size
    '-analyzeduration', '10000000', '-probesize', '20000000',
    '-reorder_queue_size', '256',
    '-f', 'sdp', '-i', 'pipe:0',
    '-map', '0', '-c', 'copy',
    '-f', 'mpegts', '-flush_packets', '1',
    outputFile,
  ];
}

/** A run's file -> a playable MP4 (first video copied, every audio track mixed into one AAC track). */
export function conversionFfmpegArgs(inputFile: string, outputFile: string, audioTracks: number, hasVideo: boolean): string[] {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', inputFile];
  if (audioTracks > 1) {
    const ins = Array.from({ length: audioTracks }, (_, i) => `[0:a:${i}]`).join('');
    args.push('-filter_complex', `${ins}amix=inputs=${audioTracks}:duration=longest:dropout_transition=0:normalize=0[aout]`);
  }
  if (hasVideo) args.push('-map', '0:v:0', '-c:v', 'copy');
  if (audioTracks > 1) args.push('-map', '[aout]');
  else if (audioTracks === 1) args.push('-map', '0:a:0');
  if (audioTracks > 0) args.push('-c:a', 'aac', '-b:a', '128k', '-ar', '48000');
  args.push('-movflags', '+faststart', '-f', 'mp4', outputFile);
  return args;
}
