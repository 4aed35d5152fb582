import type {
  DtlsParameters,
  DtlsRole,
  IceCandidate,
  IceParameters,
  RtpCodecParameters,
  RtpHeaderExtensionParameters,
  RtpParameters,
} from 'mediasoup/types';
import { write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import type { ClientOffer, OfferMLine } from './client-offer.js';
import { isRtx } from './codec-match.js';
import { answerableExtensions } from './producer-parameters.js';
import type { SdpResult } from './sdp-result.js';

/** What the server does with one m-line of the offer. */
export type MLineDecision =
  /** client-send m-line backed by a Producer created from the offer's parameters: answered recvonly */
  | { action: 'receive'; rtpParameters: RtpParameters }
  /** client-recv m-line carrying a Consumer: answered sendonly with its ssrcs and msid "<streamId> <trackId>" */
  | { action: 'send'; rtpParameters: RtpParameters; streamId: string; trackId: string }
  /** kept in the BUNDLE with nothing flowing (a recvonly transceiver waiting for a track) */
  | { action: 'inactive' }
  /** port 0: the transceiver is stopped for good */
  | { action: 'reject' };

export interface AnswerInput {
  offer: ClientOffer;
  /** the server transport's (mediasoup WebRtcTransport) ICE-lite parameters and candidates */
  iceParameters: IceParameters;
  iceCandidates: readonly IceCandidate[];
  /** the server transport's fingerprints; role may be 'auto' (then the opposite of the client's is used) */
  dtlsParameters: DtlsParameters;
  /**
   * By mid. A mid left out gets: 'receive' with the offer's producer parameters for a client-send m-line,
   * 'inactive' for a client-recv one, 'reject' for m-lines the offer marked with an error or stopped.
   */
  decisions?: Readonly<Record<string, MLineDecision>>;
  /** o= line; bump the version on every renegotiation of the same session */
  sessionId?: string;
  sessionVersion?: number;
}

function serverSetup(offer: ClientOffer, own: DtlsRole | undefined): SdpResult<'active' | 'passive'> {
  const clientRole = offer.dtlsParameters.role ?? 'client';
  const serverRole: DtlsRole = own === 'client' || own === 'server' ? own : clientRole === 'client' ? 'server' : 'client';
  if (serverRole === clientRole) return { ok: false, error: `both sides would be DTLS ${serverRole}` };
  return { ok: true, value: serverRole === 'client' ? 'active' : 'passive' };
}

function defaultDecision(line: OfferMLine): MLineDecision {
  if (line.stopped || line.error !== undefined) return { action: 'reject' };
  if (line.producer !== undefined) return { action: 'receive', rtpParameters: line.producer.rtpParameters };
  return { action: 'inactive' };
}

function codecLines(media: MediaDescription, codecs: RtpCodecParameters[]): void {
  media.payloads = codecs.map((c) => c.payloadType).join(' ');
  for (const codec of codecs) {
    const [, name = ''] = codec.mimeType.split('/');
    const rtp: MediaDescription['rtp'][number] = { payload: codec.payloadType, codec: name, rate: codec.clockRate };
    if (codec.channels !== undefined && codec.channels > 1) rtp.encoding = codec.channels;
    media.rtp.push(rtp);
    const params = Object.entries(codec.parameters ?? {}).filter(([, v]) => v !== undefined && v !== null);
    if (params.length > 0) {
      media.fmtp.push({ payload: codec.payloadType, config: params.map(([k, v]) => `${k}=${String(v)}`).join(';') });
    }
    for (const fb of codec.rtcpFeedback ?? []) {
      const entry: NonNullable<MediaDescription['rtcpFb']>[number] = { payload: codec.payloadType, type: fb.type };
      if (fb.parameter !== undefined && fb.parameter !== '') entry.subtype = fb.parameter;
      (media.rtcpFb ??= []).push(entry);
    }
  }
}

function extensionLines(media: MediaDescription, extensions: RtpHeaderExtensionParameters[] | undefined): void {
  const ext = (extensions ?? []).map((e) => ({ value: e.id, uri: e.uri }));
  if (ext.length > 0) media.ext = ext;
}

function consumerSsrcLines(media: MediaDescription, decision: Extract<MLineDecision, { action: 'send' }>): void {
  const msid = `${decision.streamId} ${decision.trackId}`;
  media.msid = [{ id: decision.streamId, appdata: decision.trackId }];
  const cname = decision.rtpParameters.rtcp?.cname ?? decision.streamId;
  const ssrcs: NonNullable<MediaDescription['ssrcs']> = [];
  const groups: NonNullable<MediaDescription['ssrcGroups']> = [];
  for (const encoding of decision.rtpParameters.encodings ?? []) {
    if (encoding.ssrc === undefined) continue;
    const streamSsrcs = encoding.rtx === undefined ? [encoding.ssrc] : [encoding.ssrc, encoding.rtx.ssrc];
    for (const ssrc of streamSsrcs) {
      ssrcs.push({ id: ssrc, attribute: 'cname', value: cname }, { id: ssrc, attribute: 'msid', value: msid });
    }
    if (encoding.rtx !== undefined) groups.push({ semantics: 'FID', ssrcs: `${encoding.ssrc} ${encoding.rtx.ssrc}` });
  }
  if (groups.length > 0) media.ssrcGroups = groups;
  if (ssrcs.length > 0) media.ssrcs = ssrcs;
}

function simulcastLines(media: MediaDescription, line: OfferMLine, parameters: RtpParameters): void {
  const rids = (parameters.encodings ?? []).flatMap((e) => (e.rid === undefined ? [] : [e.rid]));
  if (rids.length === 0) return;
  media.rids = rids.map((id) => ({ id, direction: 'recv' }));
  // Mirror the offer's pause markers so the answer does not enable layers the client paused.
  const paused = new Set(line.pausedRids);
  media.simulcast = { dir1: 'recv', list1: rids.map((rid) => (paused.has(rid) ? `~${rid}` : rid)).join(';') };
}

/**
 * Writes the SDP answer (Unified Plan, ICE-lite, BUNDLE, rtcp-mux) to a client offer. Never throws; contradictory
 * input (e.g. a 'send' decision on an m-line the client does not receive on) is an error value.
 */
export function buildAnswer(input: AnswerInput): SdpResult<string> {
  const { offer } = input;
  const setup = serverSetup(offer, input.dtlsParameters.role);
  if (!setup.ok) return setup;
  const fingerprint = input.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? input.dtlsParameters.fingerprints[0];
  if (fingerprint === undefined) return { ok: false, error: 'server DTLS parameters have no fingerprint' };

  const media: MediaDescription[] = [];
  const bundled: string[] = [];
  for (const line of offer.mLines) {
    const decision = input.decisions?.[line.mid] ?? defaultDecision(line);
    const result = answerMLine(line, decision, input, setup.value);
    if (!result.ok) return result;
    media.push(result.value);
    if (result.value.port !== 0) bundled.push(line.mid);
  }
  const collision = bundleCollision(media);
  if (collision !== undefined) return { ok: false, error: collision };

  const session: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: input.sessionId ?? '1',
      sessionVersion: input.sessionVersion ?? 1,
      netType: 'IN',
      ipVer: 4,
      address: '127.0.0.1',
    },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    msidSemantic: { semantic: 'WMS', token: '*' },
    media,
  };
  if (bundled.length > 0) session.groups = [{ type: 'BUNDLE', mids: bundled.join(' ') }];
  if (offer.extmapAllowMixed) session.extmapAllowMixed = 'extmap-allow-mixed';
  return { ok: true, value: write(session) };
}

function answerMLine(
  line: OfferMLine,
  decision: MLineDecision,
  input: AnswerInput,
  setup: 'active' | 'passive',
): SdpResult<MediaDescription> {
  const offerIds = input.offer.extensionIds === 'offer';
  const media: MediaDescription = {
    type: line.type,
    port: 9,
    protocol: line.protocol,
    connection: { version: 4, ip: '0.0.0.0' },
    mid: line.mid,
    rtp: [],
    fmtp: [],
  };
  if (decision.action === 'reject' || line.stopped) {
    // A rejected m-line still names one offered format; nothing else about it matters.
    media.port = 0;
    media.payloads = line.formats.split(' ')[0] || '0';
    media.direction = 'inactive';
    return { ok: true, value: media };
  }
  media.iceUfrag = input.iceParameters.usernameFragment;
  media.icePwd = input.iceParameters.password;
  media.setup = setup;
  media.rtcpMux = 'rtcp-mux';
  media.rtcpRsize = 'rtcp-rsize';
  media.candidates = input.iceCandidates.map((c) => {
    const candidate: NonNullable<MediaDescription['candidates']>[number] = {
      foundation: c.foundation,
      component: 1,
      transport: c.protocol,
      priority: c.priority,
      ip: c.address,
      port: c.port,
      type: c.type,
    };
    if (c.tcpType !== undefined) candidate.tcptype = c.tcpType;
    return candidate;
  });
  media.endOfCandidates = 'end-of-candidates';

  switch (decision.action) {
    case 'receive': {
      if (line.direction !== 'sendonly' && line.direction !== 'sendrecv') {
        return { ok: false, error: `mid ${line.mid}: the client does not send on this m-line` };
      }
      media.direction = 'recvonly';
      codecLines(media, decision.rtpParameters.codecs);
      extensionLines(media, offerIds ? answerableExtensions(line.extensions) : decision.rtpParameters.headerExtensions);
      simulcastLines(media, line, decision.rtpParameters);
      return { ok: true, value: media };
    }
    case 'send': {
      if (line.direction !== 'recvonly' && line.direction !== 'sendrecv') {
        return { ok: false, error: `mid ${line.mid}: the client does not receive on this m-line` };
      }
      const kind = decision.rtpParameters.codecs[0]?.mimeType.split('/')[0];
      if (kind !== line.type) return { ok: false, error: `mid ${line.mid}: a ${String(kind)} consumer on a ${line.type} m-line` };
      media.direction = 'sendonly';
      codecLines(media, decision.rtpParameters.codecs);
      extensionLines(media, offerIds ? answerableExtensions(line.extensions) : decision.rtpParameters.headerExtensions);
      consumerSsrcLines(media, decision);
      return { ok: true, value: media };
    }
    case 'inactive': {
      // An answer must name at least one offered format: the first media codec, with its RTX if any.
      const first = line.codecs.find((c) => !isRtx(c));
      if (first === undefined) return { ok: false, error: `mid ${line.mid}: no media codec offered` };
      const rtx = line.codecs.find((c) => isRtx(c) && Number(c.parameters?.apt) === first.payloadType);
      media.direction = 'inactive';
      codecLines(media, rtx === undefined ? [first] : [first, rtx]);
      extensionLines(media, offerIds ? answerableExtensions(line.extensions) : []);
      return { ok: true, value: media };
    }
  }
}

/** BUNDLE shares one RTP session: a payload type or extension id must mean the same thing in every m-line. */
function bundleCollision(media: MediaDescription[]): string | undefined {
  const payloads = new Map<number, string>();
  const extensions = new Map<number, string>();
  for (const m of media) {
    if (m.port === 0) continue;
    for (const rtp of m.rtp) {
      const fmtp = m.fmtp.find((f) => f.payload === rtp.payload)?.config ?? '';
      const meaning = `${m.type}/${rtp.codec}/${rtp.rate ?? ''}/${rtp.encoding ?? ''} ${fmtp}`.toLowerCase();
      const known = payloads.get(rtp.payload);
      if (known !== undefined && known.split(' ')[0] !== meaning.split(' ')[0]) {
        return `payload type ${rtp.payload} means both ${known} and ${meaning} in the BUNDLE`;
      }
      payloads.set(rtp.payload, meaning);
    }
    for (const ext of m.ext ?? []) {
      const known = extensions.get(ext.value);
      if (known !== undefined && known !== ext.uri) return `extension id ${ext.value} means both ${known} and ${ext.uri}`;
      extensions.set(ext.value, ext.uri);
    }
  }
  return undefined;
}

/**
 * Consumer codecs sent under a payload type other than the one the client offered for the same codec on that m-line.
 * Chromium, as offerer, receives only on its own payload types, so each one found here is media it will drop; the
 * cure is a router created with preferredPayloadType equal to the client's (Chromium: opus 111, VP8 96, its RTX 97).
 */
export function payloadTypeMismatches(line: OfferMLine, rtpParameters: RtpParameters): string[] {
  const mismatches: string[] = [];
  for (const codec of rtpParameters.codecs) {
    const offered = line.codecs.filter(
      (c) => c.mimeType.toLowerCase() === codec.mimeType.toLowerCase() && c.clockRate === codec.clockRate,
    );
    if (offered.some((c) => c.payloadType === codec.payloadType)) continue;
    const offeredTypes = offered.map((c) => c.payloadType).join('/') || 'none';
    mismatches.push(`mid ${line.mid}: ${codec.mimeType} is sent as ${codec.payloadType}, the client offered ${offeredTypes}`);
  }
  return mismatches;
}
