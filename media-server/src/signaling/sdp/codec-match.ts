import type { RtpCodecCapability, RtpCodecParameters } from 'mediasoup/types';
import { h264Profile } from './h264-profile.js';

type CodecLike = Pick<RtpCodecParameters, 'mimeType' | 'clockRate' | 'channels' | 'parameters'>;

export function isRtx(codec: Pick<RtpCodecParameters, 'mimeType'>): boolean {
  return /\/rtx$/i.test(codec.mimeType);
}

/**
 * Whether an offered codec can be received by a router codec, with the rules mediasoup applies when it maps a
 * Producer's codecs (mime type, clock rate, channels; H264 packetization-mode and profile; VP9 profile-id).
 */
export function codecsMatch(offered: CodecLike, capability: CodecLike | RtpCodecCapability): boolean {
  if (offered.mimeType.toLowerCase() !== capability.mimeType.toLowerCase()) return false;
  if (offered.clockRate !== capability.clockRate) return false;
  if (offered.mimeType.toLowerCase().startsWith('audio/') && (offered.channels ?? 1) !== (capability.channels ?? 1)) {
    return false;
  }
  const a = offered.parameters ?? {};
  const b = capability.parameters ?? {};
  switch (offered.mimeType.toLowerCase()) {
    case 'video/h264':
    case 'video/h264-svc':
      return (
        Number(a['packetization-mode'] ?? 0) === Number(b['packetization-mode'] ?? 0) &&
        h264Profile(a['profile-level-id']) !== undefined &&
        h264Profile(a['profile-level-id']) === h264Profile(b['profile-level-id'])
      );
    case 'video/vp9':
      return Number(a['profile-id'] ?? 0) === Number(b['profile-id'] ?? 0);
    default:
      return true;
  }
}
