import type { MediaAttributes } from 'sdp-transform';
import type { RtcpFeedback, RtpCodecParameters, RtpHeaderExtensionUri } from 'mediasoup/types';
import { parseParams } from 'sdp-transform';

/** The codecs of one m-line as the offer writes them (payload types are the offerer's). */
export function offeredCodecs(media: MediaAttributes & { type: string }): RtpCodecParameters[] {
  return media.rtp.map((rtp) => {
    const fmtp = media.fmtp.find((f) => f.payload === rtp.payload);
    const codec: RtpCodecParameters = {
      mimeType: `${media.type}/${rtp.codec}`,
      payloadType: rtp.payload,
      clockRate: rtp.rate ?? 0,
      parameters: fmtp === undefined ? {} : parseFmtp(fmtp.config),
      rtcpFeedback: offeredFeedback(media, rtp.payload),
    };
    // Audio without an explicit channel count is mono (RFC 4566 rtpmap).
    if (media.type === 'audio') codec.channels = rtp.encoding ?? 1;
    return codec;
  });
}

function parseFmtp(config: string): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parseParams(config))) {
    if (value !== undefined) params[key] = value;
  }
  return params;
}

function offeredFeedback(media: MediaAttributes, payload: number): RtcpFeedback[] {
  return (media.rtcpFb ?? [])
    .filter((fb) => fb.payload === '*' || Number(fb.payload) === payload)
    .map((fb) => (fb.subtype === undefined ? { type: fb.type } : { type: fb.type, parameter: fb.subtype }));
}

export interface OfferedExtension {
  id: number;
  uri: RtpHeaderExtensionUri | string;
}

export function offeredExtensions(media: MediaAttributes): OfferedExtension[] {
  return (media.ext ?? []).map((ext) => ({ id: ext.value, uri: ext.uri }));
}

export interface OfferedSsrcs {
  /** cname of the first ssrc that has one */
  cname?: string;
  /** msid attribute of the ssrcs (the legacy a=ssrc:X msid:stream track form) */
  msid?: string;
  /** media ssrcs in order, with their RTX ssrc from FID groups */
  streams: { ssrc: number; rtxSsrc?: number }[];
  /** ssrc-group:SIM, the simulcast layers from lowest to highest */
  simulcast?: number[];
}

export function offeredSsrcs(media: MediaAttributes): OfferedSsrcs {
  const ssrcs = media.ssrcs ?? [];
  const groups = media.ssrcGroups ?? [];
  const numbers = (list: string): number[] => list.split(/\s+/).filter(Boolean).map(Number);
  const rtxOf = new Map<number, number>();
  for (const group of groups.filter((g) => g.semantics === 'FID')) {
    const [primary, rtx] = numbers(group.ssrcs);
    if (primary !== undefined && rtx !== undefined) rtxOf.set(primary, rtx);
  }
  const rtxSsrcs = new Set(rtxOf.values());
  const primaries = [...new Set(ssrcs.map((s) => s.id))].filter((ssrc) => !rtxSsrcs.has(ssrc));
  const sim = groups.find((g) => g.semantics === 'SIM');
  const result: OfferedSsrcs = {
    streams: primaries.map((ssrc) => {
      const rtxSsrc = rtxOf.get(ssrc);
      return rtxSsrc === undefined ? { ssrc } : { ssrc, rtxSsrc };
    }),
  };
  const cname = ssrcs.find((s) => s.attribute === 'cname')?.value;
  if (cname !== undefined) result.cname = cname;
  const msid = ssrcs.find((s) => s.attribute === 'msid')?.value;
  if (msid !== undefined) result.msid = msid;
  if (sim !== undefined) result.simulcast = numbers(sim.ssrcs);
  return result;
}

function sendSimulcastList(media: MediaAttributes): string | undefined {
  const simulcast = media.simulcast;
  return simulcast?.dir1 === 'send' ? simulcast.list1 : simulcast?.dir2 === 'send' ? simulcast.list2 : undefined;
}

/** Rids the client starts paused (~rid in a=simulcast), e.g. the SDK's inactive simulcast encodings. */
export function offeredPausedRids(media: MediaAttributes): string[] {
  return (sendSimulcastList(media) ?? '')
    .split(';')
    .map((stream) => stream.split(',')[0] ?? '')
    .filter((rid) => rid.startsWith('~'))
    .map((rid) => rid.slice(1));
}

/** Simulcast by RID (a=rid:X send + a=simulcast:send a;b;c); paused (~) layers are kept, they may be enabled later. */
export function offeredSendRids(media: MediaAttributes): string[] {
  const sendRids = (media.rids ?? []).filter((r) => r.direction === 'send').map((r) => String(r.id));
  if (sendRids.length === 0) return [];
  const list = sendSimulcastList(media);
  if (list === undefined) return sendRids;
  // a=simulcast lists alternatives with ',', streams with ';'; the first alternative of each stream is used.
  const ordered = list
    .split(';')
    .map((stream) => stream.split(',')[0]?.replace(/^~/, '') ?? '')
    .filter((rid) => sendRids.includes(rid));
  return ordered.length > 0 ? ordered : sendRids;
}
