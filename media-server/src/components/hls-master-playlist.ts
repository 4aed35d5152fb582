// The master playlist `index.m3u8` (what players ask for), written by us: ffmpeg's hls muxer leaves out the variant
// when it does not know the bitrate, which is always the case for a passed-through (-c:v copy) video. Its CODECS come
// from the init segment ffmpeg wrote (the avcC box of the video, an mp4a entry for AAC-LC audio). Pure.
import { MEDIA_PLAYLIST } from './hls-ffmpeg-command.js';

/** RFC 6381 codec names of an fMP4 init segment: `avc1.PPCCLL` from its avcC, `mp4a.40.2` if it has AAC. */
export function codecsOfInit(init: Buffer): string[] {
  const codecs: string[] = [];
  const avcC = init.indexOf('avcC');
  // avcC payload: configurationVersion, AVCProfileIndication, profile_compatibility, AVCLevelIndication
  if (avcC >= 0 && avcC + 8 <= init.length) {
    const hex = (b: number) => b.toString(16).padStart(2, '0');
    codecs.push(`avc1.${hex(init[avcC + 5]!)}${hex(init[avcC + 6]!)}${hex(init[avcC + 7]!)}`);
  }
  if (init.indexOf('mp4a') >= 0) codecs.push('mp4a.40.2');
  return codecs;
}

export function masterPlaylist(codecs: readonly string[], bandwidth: number): string {
  const attributes = [`BANDWIDTH=${Math.max(1, Math.round(bandwidth))}`];
  if (codecs.length > 0) attributes.push(`CODECS="${codecs.join(',')}"`);
  return ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS', `#EXT-X-STREAM-INF:${attributes.join(',')}`, MEDIA_PLAYLIST, ''].join('\n');
}
