// The codecs a room's router offers. A room's videoCodec option (Fishjam's "enforce this codec") keeps only that one.
// Payload types are Chromium's own: clients are the SDP offerers, and mediasoup sends with the router's payload types,
// which the browser drops unless they are the ones it offered. H264 constrained baseline (packetization-mode 1) is 108
// in the offers of Debian's Chromium 156 (it was 106 here before, which that Chromium offers for nothing: H264 video
// reached its subscribers and was dropped undecoded; e2e/test/rtsp.test.ts decodes it).
import type { types } from 'mediasoup';

const OPUS: types.RouterRtpCodecCapability = { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 111 };
const VP8: types.RouterRtpCodecCapability = { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 96 };
const H264: types.RouterRtpCodecCapability = {
  kind: 'video',
  mimeType: 'video/H264',
  clockRate: 90000,
  preferredPayloadType: 108,
  parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
};

export function mediaCodecsFor(videoCodec: 'h264' | 'vp8' | null): types.RouterRtpCodecCapability[] {
  if (videoCodec === 'h264') return [OPUS, H264];
  if (videoCodec === 'vp8') return [OPUS, VP8];
  return [OPUS, VP8, H264];
}
