import { readFileSync } from 'node:fs';
import type { RtpCapabilities } from 'mediasoup/types';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');

/** router.rtpCapabilities of a mediasoup 3.27 router with opus, VP8 and H264 (42e01f, packetization-mode 1). */
export const routerCaps = JSON.parse(fixture('router-rtp-capabilities.json')) as RtpCapabilities;

/** The first offer of the real SDK in Chromium: one sendonly audio m-line. */
export const chromiumAudioOffer = (() => {
  const capture = JSON.parse(fixture('ts-client-0.5.0-first-exchange.json')) as {
    exchange: { message: { mediaEvent?: { data?: { type?: string; data?: { sdpOffer?: { sdp: string } } } } } }[];
  };
  const offer = capture.exchange.find((e) => e.message.mediaEvent?.data?.type === 'sdpOffer');
  return offer!.message.mediaEvent!.data!.data!.sdpOffer!.sdp;
})();

/** A werift offer: sendonly audio (mid 0), sendonly simulcast video l/m/h (mid 1), recvonly audio (2) and video (3). */
export const weriftOffer = fixture('werift-offer-audio-simulcast-recv.sdp');
