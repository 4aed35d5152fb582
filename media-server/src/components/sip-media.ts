// The media of one SIP call: G.711 A-law (PCMA, 8 kHz) with the callee, Opus in the room.
// - One UDP socket on all interfaces is the call's RTP address (FJ_SIP_IP:port in our SDP); what the callee sends to it
//   is relayed to the uplink ffmpeg on loopback, and what the downlink ffmpeg sends back leaves from that same socket
//   (symmetric RTP: phones and NATs expect the media to come from where they send it). Packets are taken only from the
//   address the callee's SDP names (its port is learnt from its first packet, for callees behind NAT).
// - uplink: ffmpeg decodes the callee's PCMA and encodes Opus into a PlainTransport producer: the callee's track.
// - downlink: the room's audio tracks (not the callee's own) are consumed by PlainTransport consumers, mixed by a
//   second ffmpeg (amix) and encoded as PCMA in 20 ms packets. ffmpeg cannot take inputs that come and go: it is
//   restarted (debounced) when the set of audio tracks changes; with no audio in the room the callee hears silence.
// Both ffmpegs read their SDP on stdin and are supervised (die with the node); nothing secret is on a command line.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { RoomMedia } from '../sfu/room-media.js';
import { FILE_AUDIO_PAYLOAD_TYPE, producerRtpParameters } from './ffmpeg-rtp-command.js';
import { FFMPEG_RTP_ADDRESS, hlsSdp, type HlsInput } from './hls-ffmpeg-command.js';
import { startSupervised, type SupervisedProcess } from './supervised-process.js';
import { reservePortPairs } from './udp-ports.js';

const PCMA_PAYLOAD_TYPE = 8;
/** 20 ms of 8 kHz A-law: the packet size phones expect (ptime 20) */
const PCMA_SAMPLES_PER_PACKET = 160;
const RESTART_DEBOUNCE_MS = 500;
const MAX_RTP_BYTES = 1500;
/** A callee that sends nothing for this long is gone (it may have vanished without a BYE): the call is ended. */
export const RTP_TIMEOUT_MS = 30_000;

export interface RoomAudio {
  readonly trackId: string;
  readonly producer: types.Producer;
}

async function bindUdp(address: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

/** Opens the call's RTP socket before the INVITE (its port goes into the SDP offer). */
export class SipMedia {
  readonly producer: Promise<types.Producer>;
  private uplink: SupervisedProcess | undefined;
  private downlink: { process: SupervisedProcess; transports: types.PlainTransport[] } | undefined;
  private downlinkKey = '';
  private restartTimer: NodeJS.Timeout | undefined;
  private callee: { ip: string; port: number | undefined } | undefined;
  private lastFromCallee = 0;
  private silenceTimer: NodeJS.Timeout | undefined;
  private transport: types.PlainTransport | undefined;
  private closed = false;
  private resolveProducer!: (p: types.Producer) => void;
  private rejectProducer!: (e: Error) => void;
  /** packets relayed each way (tests, logs) */
  readonly counts = { fromCallee: 0, toCallee: 0 };

  private constructor(
    private readonly rtp: dgram.Socket,
    private readonly loop: dgram.Socket,
    private readonly media: RoomMedia,
    private readonly ffmpegPath: string,
    private readonly appData: Record<string, unknown>,
    private readonly log: Logger,
  ) {
    this.producer = new Promise((resolve, reject) => {
      this.resolveProducer = resolve;
      this.rejectProducer = reject;
    });
    this.producer.catch(() => undefined);
    rtp.on('message', (data, from) => this.fromCallee(data, from));
    loop.on('message', (data, from) => {
      // only the downlink ffmpeg (on loopback) may send through the call's socket
      if (from.address !== '127.0.0.1' || !this.callee?.port || data.length > MAX_RTP_BYTES) return;
      this.counts.toCallee++;
      rtp.send(data, this.callee.port, this.callee.ip);
    });
    rtp.on('error', () => undefined);
    loop.on('error', () => undefined);
  }

  static async open(media: RoomMedia, ffmpegPath: string, appData: Record<string, unknown>, log: Logger): Promise<SipMedia> {
    const rtp = await bindUdp('0.0.0.0');
    const loop = await bindUdp('127.0.0.1').catch((error: Error) => {
      rtp.close();
      throw error;
    });
    return new SipMedia(rtp, loop, media, ffmpegPath, appData, log);
  }

  /** its ffmpegs (for the node's CPU accounting) */
  processIds(): number[] {
    return [this.uplink?.pid, this.downlink?.process.pid].filter((pid): pid is number => pid !== undefined);
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  /**
   * The callee answered: start the uplink (its audio into the room); the downlink follows `roomAudio`. `onSilence` is
   * called once if the callee then sends nothing for RTP_TIMEOUT_MS.
   */
  async connect(callee: { ip: string; port: number }, onSilence: () => void, timeoutMs = RTP_TIMEOUT_MS): Promise<void> {
    this.callee = { ip: callee.ip, port: callee.port };
    this.lastFromCallee = Date.now();
    this.silenceTimer = setInterval(() => {
      if (this.closed || Date.now() - this.lastFromCallee <= timeoutMs) return;
      clearInterval(this.silenceTimer);
      onSilence();
    }, Math.min(1000, timeoutMs));
    this.silenceTimer.unref();
    const ssrc = randomInt(1, 0x7fffffff);
    const { transport, producer, port } = await this.media.createPlainProducer('audio', producerRtpParameters('audio', ssrc), this.appData);
    if (this.closed) {
      transport.close();
      return;
    }
    this.transport = transport;
    const { ports, release } = await reservePortPairs(1, '127.0.0.1');
    release();
    this.uplinkPort = ports[0]!;
    this.uplink = startSupervised(this.ffmpegPath, uplinkArgs(port, ssrc), { stdinText: pcmaSdp(this.uplinkPort) });
    void this.uplink.exited.then((exit) => {
      if (!exit.stopped && !this.closed) this.log.warn({ code: exit.code, err: this.uplink?.stderrTail().slice(-300) }, 'sip uplink ffmpeg ended');
    });
    this.resolveProducer(producer);
  }

  private uplinkPort: number | undefined;

  private fromCallee(data: Buffer, from: dgram.RemoteInfo): void {
    const callee = this.callee;
    if (!callee || from.address !== callee.ip || data.length > MAX_RTP_BYTES || this.uplinkPort === undefined) return;
    callee.port = from.port; // latched: where the callee really sends from
    this.lastFromCallee = Date.now();
    this.counts.fromCallee++;
    this.rtp.send(data, this.uplinkPort, '127.0.0.1');
  }

  /** The room's audio now: the downlink ffmpeg is restarted (after a short settle) when the set changes. */
  roomAudio(tracks: readonly RoomAudio[]): void {
    if (this.closed || !this.callee) return;
    const key = tracks.map((t) => t.producer.id).sort().join(',');
    if (key === this.downlinkKey) return;
    this.downlinkKey = key;
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.restartDownlink(tracks), RESTART_DEBOUNCE_MS);
    this.restartTimer.unref();
  }

  private async restartDownlink(tracks: readonly RoomAudio[]): Promise<void> {
    await this.stopDownlink();
    const live = tracks.filter((t) => !t.producer.closed);
    if (this.closed || live.length === 0) return;
    const { ports, release } = await reservePortPairs(live.length, FFMPEG_RTP_ADDRESS);
    const transports: types.PlainTransport[] = [];
    const inputs: HlsInput[] = [];
    try {
      for (const [i, track] of live.entries()) {
        const { transport, consumer } = await this.media.createPlainConsumer(track.producer.id, { ip: FFMPEG_RTP_ADDRESS, port: ports[i]! }, { ...this.appData, trackId: track.trackId });
        transports.push(transport);
        const codec = consumer.rtpParameters.codecs[0]!;
        inputs.push({ kind: 'audio', port: ports[i]!, payloadType: codec.payloadType, mimeType: codec.mimeType, clockRate: codec.clockRate, channels: codec.channels });
      }
    } catch (error) {
      release();
      for (const t of transports) t.close();
      this.log.warn({ err: (error as Error).message }, 'sip downlink: a room track could not be consumed');
      return;
    }
    release();
    if (this.closed) {
      for (const t of transports) t.close();
      return;
    }
    const process = startSupervised(this.ffmpegPath, downlinkArgs(inputs.length, this.loop.address().port), { stdinText: hlsSdp(inputs) });
    this.downlink = { process, transports };
  }

  private async stopDownlink(): Promise<void> {
    const d = this.downlink;
    this.downlink = undefined;
    if (!d) return;
    for (const t of d.transports) t.close();
    await d.process.stop();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.silenceTimer);
    this.rejectProducer(new Error('closed'));
    this.transport?.close();
    await Promise.all([this.uplink?.stop(), this.stopDownlink()]);
    this.rtp.close();
    this.loop.close();
  }
}

/** The SDP the uplink ffmpeg reads: PCMA on a loopback port, from the relay (127.0.0.1) only. */
export function pcmaSdp(port: number): string {
  return ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=fishjam-sip', 'c=IN IP4 127.0.0.1', 't=0 0', 'a=source-filter: incl IN IP4 * 127.0.0.1', `m=audio ${port} RTP/AVP ${PCMA_PAYLOAD_TYPE}`, `a=rtpmap:${PCMA_PAYLOAD_TYPE} PCMA/8000`, 'a=recvonly', ''].join('\r\n');
}

export function uplinkArgs(producerPort: number, ssrc: number): string[] {
  return [
    '-hide_banner', '-loglevel', 'error',
    '-protocol_whitelist', 'pipe,rtp,udp', '-f', 'sdp', '-i', 'pipe:0',
    '-map', '0:a:0', '-ar', '48000', '-ac', '2',
    '-c:a', 'libopus', '-b:a', '48k', '-application', 'voip', '-frame_duration', '20',
    '-f', 'rtp', '-payload_type', String(FILE_AUDIO_PAYLOAD_TYPE), '-ssrc', String(ssrc), '-rtpflags', 'skip_rtcp',
    `rtp://127.0.0.1:${producerPort}?pkt_size=1200`,
  ];
}

export function downlinkArgs(inputs: number, relayPort: number): string[] {
  const mix = inputs > 1 ? `amix=inputs=${inputs}:normalize=0,` : '';
  const labels = Array.from({ length: inputs }, (_, i) => `[0:a:${i}]`).join('');
  return [
    '-hide_banner', '-loglevel', 'error',
    '-protocol_whitelist', 'pipe,rtp,udp', '-f', 'sdp', '-i', 'pipe:0',
    '-filter_complex', `${labels}${mix}aresample=8000,aformat=channel_layouts=mono,asetnsamples=n=${PCMA_SAMPLES_PER_PACKET}[out]`,
    '-map', '[out]', '-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1',
    '-f', 'rtp', '-payload_type', String(PCMA_PAYLOAD_TYPE), '-rtpflags', 'skip_rtcp',
    `rtp://127.0.0.1:${relayPort}?pkt_size=${PCMA_SAMPLES_PER_PACKET + 12}`,
  ];
}
