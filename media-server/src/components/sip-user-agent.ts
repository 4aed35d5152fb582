// A minimal SIP user agent over UDP (RFC 3261), what the SIP component needs and nothing more: it registers with the
// registrar (digest auth, re-REGISTER every REGISTER_INTERVAL_MS as the original), places one outgoing call at a time
// through it (INVITE with a G.711 A-law offer, digest auth on 401/407, CANCEL while ringing, BYE once answered),
// answers the callee's BYE, and turns down incoming calls. Retransmissions are RFC 3261's timers A/E (doubling from
// 500 ms) with a 32 s transaction timeout; responses are matched by their Via branch.
// Why not a library: sip.js needs a WebSocket transport and browser media; the `sip` package on npm is unmaintained
// and not openly licensed; drachtio needs its own server. The subset used here is small and tested against Kamailio
// and baresip (e2e/test/sip.test.ts).
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { digestAuthorization, header, parseAudioAnswer, parseChallenge, parseSip, randomToken, tagOf, uriOf, writeSip, type SipMessage } from './sip-message.js';

export const REGISTER_INTERVAL_MS = 45_000;
const REGISTER_EXPIRES_S = 90;
const T1_MS = 500;
const T2_MS = 4000;
const TRANSACTION_TIMEOUT_MS = 32_000;
/** Pending client transactions of one agent (a registration and a call need a handful). */
const MAX_TRANSACTIONS = 32;
const USER_AGENT = 'fishjam-ts';

export interface SipAccount {
  /** registrar host (name or IPv4) and port (default 5060) */
  readonly registrarHost: string;
  readonly registrarPort: number;
  readonly username: string;
  readonly password: string;
  /** FJ_SIP_IP: the address put in Via, Contact and the SDP */
  readonly externalIp: string;
}

export interface CallEvents {
  /** the callee answered: where its RTP goes */
  answered(media: { ip: string; port: number }): void;
  /** the call is over (or never started); not called after hangUp() */
  ended(reason: string): void;
}

interface Transaction {
  readonly branch: string;
  readonly method: string;
  readonly onResponse: (response: SipMessage) => void;
  timer: NodeJS.Timeout | undefined;
  deadline: NodeJS.Timeout;
}

interface Call {
  readonly callId: string;
  readonly fromTag: string;
  readonly requestUri: string;
  readonly to: string;
  cseq: number;
  inviteBranch: string;
  /** the INVITE as last sent (for CANCEL) */
  inviteVia: string;
  state: 'calling' | 'early' | 'confirmed' | 'ended';
  remoteTag?: string;
  remoteTarget?: string;
  routeSet: string[];
  authTried: boolean;
  readonly events: CallEvents;
  readonly rtpPort: number;
}

export class SipUserAgent {
  registered = false;
  private readonly transactions = new Map<string, Transaction>();
  private readonly registerCallId = `${randomToken(12)}@fishjam`;
  private readonly registerTag = randomToken();
  private registerCseq = 0;
  private registerTimer: NodeJS.Timeout | undefined;
  private call: Call | undefined;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly account: SipAccount,
    private readonly log: Logger,
  ) {
    socket.on('message', (data, from) => this.receive(data, from));
    socket.on('error', (error) => log.warn({ err: error.message }, 'sip socket error'));
  }

  /** Binds the SIP socket (all interfaces, a free port) and starts registering. */
  static async start(account: SipAccount, log: Logger): Promise<SipUserAgent> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const agent = new SipUserAgent(socket, account, log);
    agent.register();
    return agent;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get inCall(): boolean {
    return this.call !== undefined && this.call.state !== 'ended';
  }

  /** Dials `number` through the registrar; a call already in progress is hung up first. */
  dial(number: string, rtpPort: number, events: CallEvents): void {
    if (this.closed) return;
    this.hangUp();
    const host = this.registrarHostPort();
    const requestUri = `sip:${number}@${host}`;
    this.call = {
      callId: `${randomToken(12)}@fishjam`,
      fromTag: randomToken(),
      requestUri,
      to: `<${requestUri}>`,
      cseq: 1,
      inviteBranch: '',
      inviteVia: '',
      state: 'calling',
      routeSet: [],
      authTried: false,
      events,
      rtpPort,
    };
    this.sendInvite(this.call);
  }

  /** Ends the current call, if any (BYE once answered, CANCEL while ringing). */
  hangUp(): void {
    const call = this.call;
    if (!call || call.state === 'ended') return;
    call.state = call.state === 'confirmed' ? this.bye(call) : this.cancel(call);
    call.state = 'ended';
    this.call = undefined;
  }

  /** Hangs up, unregisters (best effort) and closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.hangUp();
    clearTimeout(this.registerTimer);
    if (this.registered) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.sendRegister(0, undefined, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.closed = true;
    for (const t of this.transactions.values()) this.finish(t);
    this.socket.close();
  }

  // --- registration -----------------------------------------------------------------------------------------------

  private register(): void {
    if (this.closed) return;
    this.sendRegister(REGISTER_EXPIRES_S, undefined, (response) => {
      if (response.status === 200) {
        if (!this.registered) this.log.info('sip: registered');
        this.registered = true;
      } else {
        this.registered = false;
        this.log.warn({ status: response.status, reason: response.reason }, 'sip: registration refused');
      }
      clearTimeout(this.registerTimer);
      this.registerTimer = setTimeout(() => this.register(), REGISTER_INTERVAL_MS);
      this.registerTimer.unref();
    });
  }

  /** One REGISTER; a digest challenge is answered once; `done` gets the final response (408 made up on timeout). */
  private sendRegister(expires: number, authorization: { name: string; value: string } | undefined, done: (r: SipMessage) => void): void {
    const host = this.registrarHostPort();
    const aor = `sip:${this.account.username}@${this.account.registrarHost}`;
    const uri = `sip:${host}`;
    const cseq = ++this.registerCseq;
    const headers: Array<[string, string]> = [
      ['From', `<${aor}>;tag=${this.registerTag}`],
      ['To', `<${aor}>`],
      ['Call-ID', this.registerCallId],
      ['CSeq', `${cseq} REGISTER`],
      ['Contact', `<${this.contactUri()}>`],
      ['Expires', String(expires)],
      ['Max-Forwards', '70'],
      ['User-Agent', USER_AGENT],
    ];
    if (authorization) headers.push([authorization.name, authorization.value]);
    this.request('REGISTER', uri, headers, '', this.registrarTarget(), (response) => {
      if ((response.status === 401 || response.status === 407) && !authorization) {
        const auth = this.answerChallenge(response, 'REGISTER', uri, 1);
        if (auth) return this.sendRegister(expires, auth, done);
      }
      done(response);
    });
  }

  // --- the call ---------------------------------------------------------------------------------------------------

  private sendInvite(call: Call, authorization?: { name: string; value: string }): void {
    const sdp = offerSdp(this.account.externalIp, call.rtpPort);
    const headers: Array<[string, string]> = [
      ['From', `<sip:${this.account.username}@${this.account.registrarHost}>;tag=${call.fromTag}`],
      ['To', call.to],
      ['Call-ID', call.callId],
      ['CSeq', `${call.cseq} INVITE`],
      ['Contact', `<${this.contactUri()}>`],
      ['Max-Forwards', '70'],
      ['User-Agent', USER_AGENT],
      ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS'],
      ['Content-Type', 'application/sdp'],
    ];
    if (authorization) headers.push([authorization.name, authorization.value]);
    const { branch, via } = this.request('INVITE', call.requestUri, headers, sdp, this.registrarTarget(), (response) => this.onInviteResponse(call, response), (response) => {
      if (call.state === 'calling' && response.status! >= 180) call.state = 'early';
      else if (call.state === 'calling') call.state = 'early';
    });
    call.inviteBranch = branch;
    call.inviteVia = via;
  }

  private onInviteResponse(call: Call, response: SipMessage): void {
    const status = response.status!;
    if (status >= 200 && status < 300) {
      if (this.call !== call || call.state === 'ended') {
        // answered after we hung up (or a retransmission for a finished call): acknowledge, then leave
        this.ackAnswer(call, response);
        if (call.state === 'ended' && !call.remoteTag) {
          call.remoteTag = tagOf(header(response, 'to'));
          call.remoteTarget = uriOf(header(response, 'contact') ?? call.requestUri);
          call.routeSet = [...(response.headers.get('record-route') ?? [])].reverse();
          this.bye(call);
        }
        return;
      }
      call.remoteTag = tagOf(header(response, 'to'));
      call.remoteTarget = uriOf(header(response, 'contact') ?? call.requestUri);
      call.routeSet = [...(response.headers.get('record-route') ?? [])].reverse();
      this.ackAnswer(call, response);
      const media = parseAudioAnswer(response.body);
      if (!media || !media.pcma) {
        this.log.warn('sip: the callee answered without G.711 A-law: hanging up');
        this.hangUp();
        call.events.ended('the callee does not take G.711 A-law');
        return;
      }
      call.state = 'confirmed';
      call.events.answered({ ip: media.ip, port: media.port });
      return;
    }
    // a final error: acknowledged on the INVITE's own branch (RFC 3261 17.1.1.3)
    this.ackError(call, response);
    if (call.state === 'ended' || this.call !== call) return;
    if ((status === 401 || status === 407) && !call.authTried) {
      call.authTried = true;
      const auth = this.answerChallenge(response, 'INVITE', call.requestUri, 1);
      if (auth) {
        call.cseq++;
        this.sendInvite(call, auth);
        return;
      }
    }
    call.state = 'ended';
    this.call = undefined;
    call.events.ended(`${status} ${response.reason ?? ''}`.trim());
  }

  private ackAnswer(call: Call, response: SipMessage): void {
    const target = call.remoteTarget ?? uriOf(header(response, 'contact') ?? call.requestUri);
    const routes = call.routeSet.length > 0 ? call.routeSet : [...(response.headers.get('record-route') ?? [])].reverse();
    const headers: Array<[string, string]> = [
      ['Via', this.via(randomBranch())],
      ['From', `<sip:${this.account.username}@${this.account.registrarHost}>;tag=${call.fromTag}`],
      ['To', header(response, 'to') ?? call.to],
      ['Call-ID', call.callId],
      ['CSeq', `${cseqNumber(response)} ACK`],
      ['Max-Forwards', '70'],
    ];
    for (const r of routes) headers.push(['Route', r]);
    this.send(writeSip(`ACK ${target} SIP/2.0`, headers), nextHop(routes, target));
  }

  private ackError(call: Call, response: SipMessage): void {
    const headers: Array<[string, string]> = [
      ['Via', header(response, 'via') ?? this.via(call.inviteBranch)],
      ['From', `<sip:${this.account.username}@${this.account.registrarHost}>;tag=${call.fromTag}`],
      ['To', header(response, 'to') ?? call.to],
      ['Call-ID', call.callId],
      ['CSeq', `${cseqNumber(response)} ACK`],
      ['Max-Forwards', '70'],
    ];
    this.send(writeSip(`ACK ${call.requestUri} SIP/2.0`, headers), this.registrarTarget());
  }

  private bye(call: Call): 'ended' {
    const target = call.remoteTarget ?? call.requestUri;
    const headers: Array<[string, string]> = [
      ['From', `<sip:${this.account.username}@${this.account.registrarHost}>;tag=${call.fromTag}`],
      ['To', call.remoteTag ? `${call.to};tag=${call.remoteTag}` : call.to],
      ['Call-ID', call.callId],
      ['CSeq', `${++call.cseq} BYE`],
      ['Max-Forwards', '70'],
      ['User-Agent', USER_AGENT],
    ];
    for (const r of call.routeSet) headers.push(['Route', r]);
    this.request('BYE', target, headers, '', nextHop(call.routeSet, target), () => undefined);
    return 'ended';
  }

  private cancel(call: Call): 'ended' {
    if (call.inviteBranch === '') return 'ended';
    const headers: Array<[string, string]> = [
      ['Via', call.inviteVia],
      ['From', `<sip:${this.account.username}@${this.account.registrarHost}>;tag=${call.fromTag}`],
      ['To', call.to],
      ['Call-ID', call.callId],
      ['CSeq', `${call.cseq} CANCEL`],
      ['Max-Forwards', '70'],
    ];
    this.send(writeSip(`CANCEL ${call.requestUri} SIP/2.0`, headers), this.registrarTarget());
    return 'ended';
  }

  // --- transport and transactions ----------------------------------------------------------------------------------

  private receive(data: Buffer, from: dgram.RemoteInfo): void {
    const message = parseSip(data);
    if (!message) return;
    if (message.status !== undefined) {
      const branch = branchOf(header(message, 'via'));
      const transaction = branch ? this.transactions.get(branch) : undefined;
      if (!transaction) {
        // a retransmitted 200 to an INVITE whose transaction is over: acknowledge it again
        const call = this.call;
        if (call && message.status >= 200 && message.status < 300 && /INVITE$/i.test(header(message, 'cseq') ?? '') && call.callId === header(message, 'call-id')) {
          this.ackAnswer(call, message);
        }
        return;
      }
      if (message.status < 200) {
        clearTimeout(transaction.timer); // provisional: no more retransmissions of the INVITE
        transaction.timer = undefined;
        (transaction as Transaction & { onProvisional?: (r: SipMessage) => void }).onProvisional?.(message);
        return;
      }
      this.finish(transaction);
      transaction.onResponse(message);
      return;
    }
    this.onRequest(message, from);
  }

  private onRequest(request: SipMessage, from: dgram.RemoteInfo): void {
    const reply = (status: number, reason: string) => this.send(this.response(request, status, reason), { host: from.address, port: from.port });
    switch (request.method) {
      case 'BYE': {
        reply(200, 'OK');
        const call = this.call;
        if (call && call.callId === header(request, 'call-id')) {
          call.state = 'ended';
          this.call = undefined;
          call.events.ended('the callee hung up');
        }
        return;
      }
      case 'OPTIONS':
        return reply(200, 'OK');
      case 'ACK':
        return;
      case 'INVITE':
        // re-INVITE of our call: keep the media as it is; a new call: outgoing calls only, as the original
        if (this.call && this.call.callId === header(request, 'call-id')) {
          return this.send(this.response(request, 200, 'OK', offerSdp(this.account.externalIp, this.call.rtpPort)), { host: from.address, port: from.port });
        }
        return reply(603, 'Decline');
      case 'CANCEL':
        return reply(481, 'Call/Transaction Does Not Exist');
      default:
        return reply(405, 'Method Not Allowed');
    }
  }

  private response(request: SipMessage, status: number, reason: string, sdp?: string): Buffer {
    const headers: Array<[string, string]> = [];
    for (const via of request.headers.get('via') ?? []) headers.push(['Via', via]);
    const to = header(request, 'to') ?? '';
    headers.push(['From', header(request, 'from') ?? ''], ['To', tagOf(to) ? to : `${to};tag=${randomToken()}`]);
    headers.push(['Call-ID', header(request, 'call-id') ?? ''], ['CSeq', header(request, 'cseq') ?? '']);
    for (const rr of request.headers.get('record-route') ?? []) headers.push(['Record-Route', rr]);
    if (sdp) headers.push(['Contact', `<${this.contactUri()}>`], ['Content-Type', 'application/sdp']);
    headers.push(['User-Agent', USER_AGENT]);
    return writeSip(`SIP/2.0 ${status} ${reason}`, headers, sdp ?? '');
  }

  /** Sends a request in a client transaction (Via added here); retransmitted until answered, 408 after 32 s. */
  private request(
    method: string,
    uri: string,
    headers: Array<[string, string]>,
    body: string,
    target: { host: string; port: number },
    onResponse: (response: SipMessage) => void,
    onProvisional?: (response: SipMessage) => void,
  ): { branch: string; via: string } {
    const branch = randomBranch();
    const via = this.via(branch);
    if (this.closed || this.transactions.size >= MAX_TRANSACTIONS) return { branch, via };
    const message = writeSip(`${method} ${uri} SIP/2.0`, [['Via', via], ...headers], body);
    const transaction: Transaction & { onProvisional?: (r: SipMessage) => void } = {
      branch,
      method,
      onResponse,
      onProvisional,
      timer: undefined,
      deadline: setTimeout(() => {
        this.finish(transaction);
        onResponse({ status: 408, reason: 'Request Timeout', headers: new Map(), body: '' });
      }, TRANSACTION_TIMEOUT_MS),
    };
    transaction.deadline.unref();
    this.transactions.set(branch, transaction);
    let interval = T1_MS;
    const retransmit = () => {
      this.send(message, target);
      transaction.timer = setTimeout(retransmit, interval);
      transaction.timer.unref();
      interval = method === 'INVITE' ? interval * 2 : Math.min(interval * 2, T2_MS);
    };
    retransmit();
    return { branch, via };
  }

  private finish(transaction: Transaction): void {
    clearTimeout(transaction.timer);
    clearTimeout(transaction.deadline);
    this.transactions.delete(transaction.branch);
  }

  private send(message: Buffer, target: { host: string; port: number }): void {
    if (this.closed) return;
    this.socket.send(message, target.port, target.host, (error) => {
      if (error) this.log.warn({ err: error.message }, 'sip: could not send');
    });
  }

  private answerChallenge(response: SipMessage, method: string, uri: string, nonceCount: number): { name: string; value: string } | undefined {
    const proxy = response.status === 407;
    const challenge = parseChallenge(header(response, proxy ? 'proxy-authenticate' : 'www-authenticate') ?? '');
    if (!challenge) return undefined;
    const value = digestAuthorization(challenge, { username: this.account.username, password: this.account.password, method, uri, nonceCount });
    return { name: proxy ? 'Proxy-Authorization' : 'Authorization', value };
  }

  private via(branch: string): string {
    return `SIP/2.0/UDP ${this.account.externalIp}:${this.port};branch=${branch};rport`;
  }

  private contactUri(): string {
    return `sip:${this.account.username}@${this.account.externalIp}:${this.port}`;
  }

  private registrarHostPort(): string {
    return this.account.registrarPort === 5060 ? this.account.registrarHost : `${this.account.registrarHost}:${this.account.registrarPort}`;
  }

  private registrarTarget(): { host: string; port: number } {
    return { host: this.account.registrarHost, port: this.account.registrarPort };
  }
}

/** G.711 A-law only (payload type 8), as the original. */
export function offerSdp(ip: string, rtpPort: number): string {
  const id = Date.now();
  return ['v=0', `o=fishjam ${id} ${id} IN IP4 ${ip}`, 's=fishjam', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${rtpPort} RTP/AVP 8`, 'a=rtpmap:8 PCMA/8000', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

function randomBranch(): string {
  return `z9hG4bK${randomToken(10)}`;
}

function branchOf(via: string | undefined): string | undefined {
  return via ? /;\s*branch=([^;,\s]+)/i.exec(via)?.[1] : undefined;
}

function cseqNumber(message: SipMessage): string {
  return (header(message, 'cseq') ?? '1').split(/\s+/)[0]!;
}

/** Where a request goes: the first route (loose routing) or the target URI itself. */
function nextHop(routes: readonly string[], target: string): { host: string; port: number } {
  const uri = routes.length > 0 ? uriOf(routes[0]!) : uriOf(target);
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/i.exec(uri);
  return { host: m?.[1] ?? '127.0.0.1', port: m?.[2] ? Number(m[2]) : 5060 };
}
