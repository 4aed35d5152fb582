import type {
  MediaKind,
  RtcpFeedback,
  RtpCapabilities,
  RtpCodecCapability,
  RtpCodecParameters,
  RtpEncodingParameters,
  RtpHeaderExtension,
  RtpHeaderExtensionParameters,
  RtpHeaderExtensionUri,
  RtpParameters,
} from 'mediasoup/types';
import type { MediaAttributes } from 'sdp-transform';
import { codecsMatch, isRtx } from './codec-match.js';
import { offeredSendRids, offeredSsrcs, type OfferedExtension } from './offered-media.js';
import type { SdpResult } from './sdp-result.js';

/**
 * Which ids the answer (and so the parameters) give header extensions.
 * 'offer' (default): the offerer's ids, as JSEP requires; Chromium rejects an answer that reassigns them ("RTP
 * extension ID reassignment not supported"). Unpatched mediasoup forwards packets with its router's fixed ids;
 * our patch of the worker (media-server/tools/mediasoup/patches/downlink-extension-ids.patch) rewrites each packet
 * sent to a Consumer to the Consumer's ids, which are the offer's: transport-cc then works on the downlink.
 * 'router': mediasoup's ids everywhere; only for clients that follow the answer's ids (werift does, Chromium not).
 */
export type ExtensionIdPolicy = 'router' | 'offer';

const RID_URI = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';

/** Router header extensions usable in the given direction ('recv' = the router receives, i.e. a Producer). */
export function routerExtension(
  caps: RtpCapabilities,
  kind: MediaKind,
  uri: string,
  routerDirection: 'recv' | 'send',
): RtpHeaderExtension | undefined {
  const unusable = routerDirection === 'recv' ? ['sendonly', 'inactive'] : ['recvonly', 'inactive'];
  return (caps.headerExtensions ?? []).find(
    (ext) => ext.kind === kind && ext.uri === uri && !unusable.includes(ext.direction ?? 'sendrecv'),
  );
}

/**
 * The only extensions negotiated with a client. Unpatched mediasoup writes its own fixed ids (mid 1, abs-send-time 4,
 * transport-cc 5, audio-level 6, ...) into every forwarded packet, and Chromium, reading them with its own meanings
 * (its mid is 4), dropped all forwarded video. The patched worker writes each forwarded packet with the receiving
 * client's ids and turns every extension outside this set into padding. MID stays out: both sides demultiplex by the
 * SSRCs in the SDP (and by rid for simulcast). transport-cc (and abs-send-time) give mediasoup a downlink bandwidth
 * estimate, which moves simulcast subscribers between layers as their link allows.
 */
const NEGOTIATED_URIS: ReadonlySet<string> = new Set([
  RID_URI,
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
]);

/**
 * What an answer lists on every m-line under the offer's ids, whatever flows on it: Chromium offers a new m-line
 * only the extensions its earlier m-lines got answered with, and refuses its own simulcast offer without rid.
 */
export function isNegotiatedExtension(uri: string): boolean {
  return NEGOTIATED_URIS.has(uri);
}

export function answerableExtensions(offered: OfferedExtension[]): RtpHeaderExtensionParameters[] {
  return offered.filter((e) => NEGOTIATED_URIS.has(e.uri)).map((e) => ({ uri: e.uri as RtpHeaderExtensionUri, id: e.id }));
}

export function negotiatedExtensions(
  offered: OfferedExtension[],
  caps: RtpCapabilities,
  kind: MediaKind,
  routerDirection: 'recv' | 'send',
  policy: ExtensionIdPolicy,
): RtpHeaderExtensionParameters[] {
  const result: RtpHeaderExtensionParameters[] = [];
  for (const ext of offered) {
    if (!NEGOTIATED_URIS.has(ext.uri)) continue;
    const supported = routerExtension(caps, kind, ext.uri, routerDirection);
    if (supported === undefined) continue;
    result.push({ uri: ext.uri as RtpHeaderExtensionUri, id: policy === 'router' ? supported.preferredId : ext.id });
  }
  return result;
}

function commonFeedback(offered: RtcpFeedback[] | undefined, capability: RtpCodecCapability): RtcpFeedback[] {
  return (offered ?? []).filter((fb) =>
    (capability.rtcpFeedback ?? []).some((c) => c.type === fb.type && (c.parameter ?? '') === (fb.parameter ?? '')),
  );
}

/**
 * Picks the codec the client will send: the router's most preferred media codec that the offer has (the offer's
 * first matching variant, its payload type kept), plus its RTX. The answer lists only these, so the client cannot
 * send anything else and the Producer's first codec is the one on the wire.
 */
export function chooseSendCodecs(
  kind: MediaKind,
  offered: RtpCodecParameters[],
  caps: RtpCapabilities,
): SdpResult<RtpCodecParameters[]> {
  const routerCodecs = (caps.codecs ?? []).filter((c) => c.kind === kind && !isRtx(c));
  for (const capability of routerCodecs) {
    const match = offered.find((codec) => !isRtx(codec) && codecsMatch(codec, capability));
    if (match === undefined) continue;
    const chosen: RtpCodecParameters = { ...match, rtcpFeedback: commonFeedback(match.rtcpFeedback, capability) };
    const routerHasRtx = (caps.codecs ?? []).some((c) => c.kind === kind && isRtx(c));
    const rtx = offered.find((codec) => isRtx(codec) && Number(codec.parameters?.apt) === match.payloadType);
    const codecs = [chosen];
    if (routerHasRtx && rtx !== undefined) codecs.push({ ...rtx, parameters: { apt: match.payloadType }, rtcpFeedback: [] });
    return { ok: true, value: codecs };
  }
  const names = [...new Set(offered.filter((c) => !isRtx(c)).map((c) => c.mimeType))].join(', ');
  return { ok: false, error: `no ${kind} codec of the offer (${names || 'none'}) is supported by the router` };
}

/**
 * Chromium encodes every simulcast VP8 stream with three temporal layers (libwebrtc's default when the sender sets no
 * scalabilityMode, which the SDK does not), and the SDP does not say so. Without this, mediasoup assumes one temporal
 * layer, targets temporal layer 0 and drops every frame of layers 1 and 2: subscribers got 7-8 fps of a 30 fps
 * publisher. Declaring more temporal layers than a stream carries is harmless (a packet without a temporal index, as
 * H264 without frame marking, is always forwarded); declaring fewer throws frames away.
 */
const SIMULCAST_SCALABILITY_MODE = 'L1T3';

function sendEncodings(media: MediaAttributes, hasRtx: boolean, extensions: RtpHeaderExtensionParameters[]) {
  const rids = offeredSendRids(media);
  if (rids.length > 0) {
    if (!extensions.some((e) => e.uri === RID_URI)) {
      return { ok: false as const, error: 'simulcast by rid needs the rtp-stream-id header extension' };
    }
    return { ok: true as const, value: rids.map((rid): RtpEncodingParameters => ({ rid, scalabilityMode: SIMULCAST_SCALABILITY_MODE })) };
  }
  const ssrcs = offeredSsrcs(media);
  const withRtx = (ssrc: number): RtpEncodingParameters => {
    const rtxSsrc = ssrcs.streams.find((s) => s.ssrc === ssrc)?.rtxSsrc;
    return hasRtx && rtxSsrc !== undefined ? { ssrc, rtx: { ssrc: rtxSsrc } } : { ssrc };
  };
  if (ssrcs.simulcast !== undefined && ssrcs.simulcast.length > 1) {
    return { ok: true as const, value: ssrcs.simulcast.map(withRtx) };
  }
  const first = ssrcs.streams[0];
  if (first !== undefined) return { ok: true as const, value: [withRtx(first.ssrc)] };
  // No ssrc signalled: mediasoup can still bind the stream by its MID extension.
  if (extensions.some((e) => e.uri === MID_URI)) return { ok: true as const, value: [{}] };
  return { ok: false as const, error: 'the m-line has neither ssrc, rid nor mid extension to identify its stream' };
}

/** RtpParameters for transport.produce() from a client-send m-line. */
export function producerRtpParameters(
  media: MediaAttributes & { type: string },
  mid: string,
  kind: MediaKind,
  offeredCodecList: RtpCodecParameters[],
  offeredExtensionList: OfferedExtension[],
  caps: RtpCapabilities,
  policy: ExtensionIdPolicy,
): SdpResult<RtpParameters> {
  const codecs = chooseSendCodecs(kind, offeredCodecList, caps);
  if (!codecs.ok) return codecs;
  const headerExtensions = negotiatedExtensions(offeredExtensionList, caps, kind, 'recv', policy);
  const encodings = sendEncodings(media, codecs.value.some(isRtx), headerExtensions);
  if (!encodings.ok) return encodings;
  const ssrcs = offeredSsrcs(media);
  const rtpParameters: RtpParameters = {
    mid,
    codecs: codecs.value,
    headerExtensions,
    encodings: encodings.value,
    rtcp: { reducedSize: media.rtcpRsize !== undefined, ...(ssrcs.cname === undefined ? {} : { cname: ssrcs.cname }) },
  };
  const msid = media.msid?.[0];
  if (msid !== undefined) rtpParameters.msid = msid.appdata === undefined ? msid.id : `${msid.id} ${msid.appdata}`;
  else if (ssrcs.msid !== undefined) rtpParameters.msid = ssrcs.msid;
  return { ok: true, value: rtpParameters };
}
