// SIP messages (RFC 3261) as this node's minimal user agent needs them: parse one UDP datagram, write one, and answer a
// digest challenge (RFC 2617/7616 MD5, qop "auth" or none). Pure. Header names are kept lower-case, compact forms
// expanded; a header that may repeat (Via, Record-Route, WWW-Authenticate...) keeps every value in order.
import { createHash, randomBytes } from 'node:crypto';

export interface SipMessage {
  /** requests: method and URI; responses: status and reason */
  readonly method?: string;
  readonly uri?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly headers: Map<string, string[]>;
  readonly body: string;
}

/** A datagram bigger than this is not SIP we take (UDP SIP stays under the path MTU anyway). */
export const MAX_SIP_MESSAGE_BYTES = 16 * 1024;
const MAX_HEADERS = 100;

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', k: 'supported' };

export function parseSip(datagram: Buffer): SipMessage | undefined {
  if (datagram.length > MAX_SIP_MESSAGE_BYTES) return undefined;
  const text = datagram.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 4);
  const lines = head.split('\r\n');
  const start = lines.shift() ?? '';
  if (lines.length > MAX_HEADERS) return undefined;
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    if (/^[ \t]/.test(line)) continue; // folded lines are obsolete; senders of interest do not use them
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let name = line.slice(0, colon).trim().toLowerCase();
    name = COMPACT[name] ?? name;
    const value = line.slice(colon + 1).trim();
    const list = headers.get(name) ?? [];
    // Via and the route headers may hold several comma-separated values on one line (none contains a quoted comma)
    if (name === 'via' || name === 'record-route' || name === 'route') list.push(...value.split(',').map((v) => v.trim()).filter(Boolean));
    else list.push(value);
    headers.set(name, list);
  }
  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  if (response) return { status: Number(response[1]), reason: response[2] ?? '', headers, body };
  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (request) return { method: request[1], uri: request[2], headers, body };
  return undefined;
}

export function header(message: SipMessage, name: string): string | undefined {
  return message.headers.get(name)?.[0];
}

/** Writes a request or response; Content-Length is computed here. */
export function writeSip(startLine: string, headers: Array<[string, string]>, body = ''): Buffer {
  const lines = [startLine, ...headers.filter(([n]) => n.toLowerCase() !== 'content-length').map(([n, v]) => `${n}: ${v}`)];
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** The `tag` parameter of a From or To value. */
export function tagOf(value: string | undefined): string | undefined {
  return value ? /;\s*tag=([^;>\s]+)/i.exec(value)?.[1] : undefined;
}

/** The URI inside a name-addr (`"x" <sip:a@b>;p`) or the addr-spec itself. */
export function uriOf(value: string): string {
  const angle = /<([^>]*)>/.exec(value);
  return (angle ? angle[1]! : value.split(';')[0]!).trim();
}

export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

interface Challenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  readonly algorithm?: string;
  readonly qop?: string;
}

export function parseChallenge(value: string): Challenge | undefined {
  if (!/^digest\s/i.test(value)) return undefined;
  const params = new Map<string, string>();
  for (const m of value.slice(6).matchAll(/([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|([^,\s]+))/g)) params.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const algorithm = params.get('algorithm');
  if (algorithm !== undefined && algorithm.toUpperCase() !== 'MD5') return undefined;
  return { realm, nonce, opaque: params.get('opaque'), algorithm, qop: params.get('qop') };
}

/** The Authorization (or Proxy-Authorization) value answering `challenge` for one request. */
export function digestAuthorization(challenge: Challenge, o: { username: string; password: string; method: string; uri: string; nonceCount: number; cnonce?: string }): string {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = md5(`${o.username}:${challenge.realm}:${o.password}`);
  const ha2 = md5(`${o.method}:${o.uri}`);
  const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
  const parts = [`username=${quote(o.username)}`, `realm=${quote(challenge.realm)}`, `nonce=${quote(challenge.nonce)}`, `uri=${quote(o.uri)}`];
  const qops = (challenge.qop ?? '').split(',').map((q) => q.trim());
  if (qops.includes('auth')) {
    const nc = o.nonceCount.toString(16).padStart(8, '0');
    const cnonce = o.cnonce ?? randomToken();
    parts.push(`response=${quote(md5(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`))}`, 'qop=auth', `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  } else {
    parts.push(`response=${quote(md5(`${ha1}:${challenge.nonce}:${ha2}`))}`);
  }
  parts.push('algorithm=MD5');
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

/** The audio the callee's SDP answer offers us: where to send, and whether PCMA (payload type 8) is accepted. */
export function parseAudioAnswer(sdp: string): { ip: string; port: number; pcma: boolean } | undefined {
  let ip: string | undefined;
  let port: number | undefined;
  let formats: string[] = [];
  let inAudio = false;
  let mediaIp: string | undefined;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      inAudio = line.startsWith('m=audio ');
      if (inAudio && port === undefined) {
        const parts = line.split(/\s+/);
        port = Number(parts[1]);
        formats = parts.slice(3);
      }
    } else if (line.startsWith('c=IN IP4 ')) {
      const addr = line.slice(9).split('/')[0]!;
      if (inAudio) mediaIp = addr;
      else if (port === undefined) ip = addr;
    }
  }
  const target = mediaIp ?? ip;
  if (target === undefined || port === undefined || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { ip: target, port, pcma: formats.includes('8') };
}
