import type {
  DtlsParameters,
  DtlsRole,
  FingerprintAlgorithm,
  IceParameters,
  MediaKind,
  RtpCapabilities,
  RtpCodecCapability,
  RtpCodecParameters,
  RtpHeaderExtension,
  RtpParameters,
} from 'mediasoup/types';
import { parse, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { isRtx } from './codec-match.js';
import {
  offeredCodecs,
  offeredExtensions,
  offeredPausedRids,
  offeredSendRids,
  type OfferedExtension,
} from './offered-media.js';
import { isNegotiatedExtension, producerRtpParameters, routerExtension, type ExtensionIdPolicy } from './producer-parameters.js';
import type { SdpResult } from './sdp-result.js';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface OfferMLine {
  /** position in the offer; the answer keeps the same order */
  index: number;
  mid: string;
  /** m= media type: "audio", "video", or something else (e.g. "application"), which is always rejected */
  type: string;
  direction: MediaDirection;
  /** port 0 in the offer: the client stopped this transceiver */
  stopped: boolean;
  /** from the sdpOffer's midToTrackId: set only for the client's own (send) tracks */
  trackId?: string;
  /** a=msid "<stream id> <track id>" of the sender (browser ids, not the SDK's trackId) */
  msid?: string;
  /** m= transport protocol and raw format list, echoed when the m-line is rejected */
  protocol: string;
  formats: string;
  codecs: RtpCodecParameters[];
  extensions: OfferedExtension[];
  /** simulcast by rid: the rids the client sends, low to high, and those it starts paused (~) */
  sendRids: string[];
  pausedRids: string[];
  /** for an m-line the client sends on (sendonly/sendrecv, not stopped): what transport.produce() takes */
  producer?: { kind: MediaKind; rtpParameters: RtpParameters };
  /** why the client's sending could not be mapped to a Producer (the answer should then reject the m-line) */
  error?: string;
}

export interface ClientOffer {
  /** the client's ICE credentials (transport.connect needs none with ICE-lite, but a restart shows here) */
  iceParameters: IceParameters;
  /** for webRtcTransport.connect({ dtlsParameters }): the client's fingerprints and role */
  dtlsParameters: DtlsParameters;
  mLines: OfferMLine[];
  /** mids in the offer's BUNDLE group (the SDK bundles everything) */
  bundleMids: string[];
  /** What the client can receive, for router.canConsume() and transport.consume({ rtpCapabilities }). */
  rtpCapabilities: RtpCapabilities;
  extmapAllowMixed: boolean;
  /** which header extension ids were used; buildAnswer must be given the same for consistent m-lines */
  extensionIds: ExtensionIdPolicy;
}

export interface ParseOfferOptions {
  /** default 'offer': see ExtensionIdPolicy */
  extensionIds?: ExtensionIdPolicy;
}

const fingerprintAlgorithms: readonly string[] = ['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512'];

/** The client's DTLS role from its a=setup: actpass lets us choose, and an ICE-lite server waits as DTLS server. */
function clientDtlsRole(setup: string | undefined): DtlsRole {
  return setup === 'passive' ? 'server' : 'client';
}

/**
 * Reads a client's SDP offer against the router's capabilities. Never throws: an offer that cannot be answered at all
 * is an error value; an m-line whose media the router cannot take carries its own `error`.
 *
 * @param midToTrackId the sdpOffer event's map (client send m-lines -> SDK track ids)
 */
export function parseClientOffer(
  sdp: string,
  routerRtpCapabilities: RtpCapabilities,
  midToTrackId: Readonly<Record<string, string>>,
  options: ParseOfferOptions = {},
): SdpResult<ClientOffer> {
  // sdp-transform yields loosely typed values (numbers where strings are expected); a shape it did not foresee
  // must still end as an error value.
  try {
    return readClientOffer(sdp, routerRtpCapabilities, midToTrackId, options);
  } catch (error) {
    return { ok: false, error: `unreadable SDP offer: ${(error as Error).message}` };
  }
}

function readClientOffer(
  sdp: string,
  routerRtpCapabilities: RtpCapabilities,
  midToTrackId: Readonly<Record<string, string>>,
  options: ParseOfferOptions,
): SdpResult<ClientOffer> {
  let session: SessionDescription;
  try {
    session = parse(sdp);
  } catch (error) {
    return { ok: false, error: `unparsable SDP: ${(error as Error).message}` };
  }
  if (!Array.isArray(session.media) || session.media.length === 0) return { ok: false, error: 'SDP offer has no m-lines' };
  const policy = options.extensionIds ?? 'offer';

  const first = session.media[0]!;
  const ufrag = first.iceUfrag ?? session.iceUfrag;
  const pwd = first.icePwd ?? session.icePwd;
  if (ufrag === undefined || pwd === undefined) return { ok: false, error: 'SDP offer has no ICE credentials' };
  const fingerprint = first.fingerprint ?? session.fingerprint;
  if (fingerprint === undefined) return { ok: false, error: 'SDP offer has no DTLS fingerprint' };
  const algorithm = fingerprint.type.toLowerCase();
  if (!fingerprintAlgorithms.includes(algorithm)) return { ok: false, error: `unsupported fingerprint ${fingerprint.type}` };

  const mLines: OfferMLine[] = [];
  const seenMids = new Set<string>();
  for (const [index, media] of session.media.entries()) {
    if (media.mid === undefined) return { ok: false, error: `m-line ${index} has no a=mid` };
    const mid = String(media.mid);
    if (seenMids.has(mid)) return { ok: false, error: `duplicate mid ${mid}` };
    seenMids.add(mid);
    mLines.push(readMLine(index, mid, media, routerRtpCapabilities, midToTrackId, policy));
  }

  const bundle = (session.groups ?? []).find((g) => g.type === 'BUNDLE');
  return {
    ok: true,
    value: {
      iceParameters: { usernameFragment: ufrag, password: pwd, iceLite: session.icelite !== undefined },
      dtlsParameters: {
        role: clientDtlsRole(first.setup ?? session.setup),
        fingerprints: [{ algorithm: algorithm as FingerprintAlgorithm, value: fingerprint.hash }],
      },
      mLines,
      bundleMids: bundle === undefined ? [] : String(bundle.mids).split(/\s+/).filter(Boolean),
      rtpCapabilities: clientRtpCapabilities(mLines, routerRtpCapabilities, policy),
      extmapAllowMixed: session.extmapAllowMixed !== undefined || session.media.some((m) => m.extmapAllowMixed),
      extensionIds: policy,
    },
  };
}

function readMLine(
  index: number,
  mid: string,
  media: MediaDescription,
  caps: RtpCapabilities,
  midToTrackId: Readonly<Record<string, string>>,
  policy: ExtensionIdPolicy,
): OfferMLine {
  const isRtp = media.type === 'audio' || media.type === 'video';
  const line: OfferMLine = {
    index,
    mid,
    type: media.type,
    direction: media.direction ?? 'sendrecv',
    stopped: media.port === 0,
    protocol: media.protocol,
    formats: media.payloads ?? '',
    codecs: isRtp ? offeredCodecs(media) : [],
    extensions: offeredExtensions(media),
    sendRids: offeredSendRids(media),
    pausedRids: offeredPausedRids(media),
  };
  const trackId = Object.hasOwn(midToTrackId, mid) ? midToTrackId[mid] : undefined;
  if (trackId !== undefined) line.trackId = trackId;
  const msid = media.msid?.[0];
  if (msid !== undefined) line.msid = msid.appdata === undefined ? msid.id : `${msid.id} ${msid.appdata}`;

  if (!isRtp) {
    line.error = `unsupported media type ${media.type}`;
    return line;
  }
  const clientSends = line.direction === 'sendonly' || line.direction === 'sendrecv';
  if (!clientSends || line.stopped) return line;
  const kind = media.type as MediaKind;
  const rtpParameters = producerRtpParameters(media, mid, kind, line.codecs, line.extensions, caps, policy);
  if (rtpParameters.ok) line.producer = { kind, rtpParameters: rtpParameters.value };
  else line.error = rtpParameters.error;
  return line;
}

function sameCodec(a: RtpCodecCapability, b: RtpCodecParameters): boolean {
  return (
    a.mimeType.toLowerCase() === b.mimeType.toLowerCase() &&
    a.clockRate === b.clockRate &&
    JSON.stringify(a.parameters ?? {}) === JSON.stringify(b.parameters ?? {})
  );
}

/**
 * The client's receive capabilities, as mediasoup wants them for consuming: codecs as offered (mediasoup matches
 * them to the router's by mime type and parameters; the Consumer then uses the router's payload types) and header
 * extensions under the ids chosen by the policy. With our mediasoup patch (tools/mediasoup/patches) a Consumer takes
 * these ids even where they differ from the router's, and the worker rewrites forwarded packets to them.
 */
function clientRtpCapabilities(mLines: OfferMLine[], caps: RtpCapabilities, policy: ExtensionIdPolicy): RtpCapabilities {
  const codecs: RtpCodecCapability[] = [];
  const headerExtensions: RtpHeaderExtension[] = [];
  for (const line of mLines) {
    if (line.stopped || (line.type !== 'audio' && line.type !== 'video')) continue;
    if (line.direction !== 'recvonly' && line.direction !== 'sendrecv') continue;
    const kind = line.type;
    for (const codec of line.codecs) {
      if (codecs.some((c) => c.kind === kind && sameCodec(c, codec))) continue;
      const capability: RtpCodecCapability = {
        kind,
        mimeType: codec.mimeType,
        preferredPayloadType: codec.payloadType,
        clockRate: codec.clockRate,
        parameters: isRtx(codec) ? { apt: codec.parameters?.apt } : { ...codec.parameters },
        rtcpFeedback: codec.rtcpFeedback ?? [],
      };
      if (codec.channels !== undefined) capability.channels = codec.channels;
      codecs.push(capability);
    }
    for (const ext of line.extensions) {
      // Only what the answer declares: the worker writes every other extension of a forwarded packet as padding.
      if (!isNegotiatedExtension(ext.uri)) continue;
      const routerExt = routerExtension(caps, kind, ext.uri, 'send');
      if (routerExt === undefined) continue;
      if (headerExtensions.some((h) => h.kind === kind && h.uri === ext.uri)) continue;
      headerExtensions.push({
        kind,
        uri: routerExt.uri,
        preferredId: policy === 'router' ? routerExt.preferredId : ext.id,
        preferredEncrypt: false,
        direction: 'sendrecv',
      });
    }
  }
  return { codecs, headerExtensions };
}
