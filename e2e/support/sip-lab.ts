// Real SIP counterparts for tests, all on loopback with config files generated into a temp folder: Kamailio (Debian
// `kamailio`) as the registrar and proxy, with digest auth for REGISTER and INVITE (users and passwords given here),
// and baresip (Debian `baresip-core`) as a callee that registers, answers automatically, plays a sine tone (ausine) and
// records what it hears to a WAV file (sndfile).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface Running {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function run(command: string, args: string[], ready: RegExp | undefined, what: string): Promise<Running> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const running: Running = {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void running.stop();
      reject(new Error(`${what} not ready in 20 s:\n${out.slice(-3000)}`));
    }, 20_000);
    const onData = (d: Buffer) => {
      out += d;
      if (out.length > 200_000) out = out.slice(-100_000);
      if (ready && ready.test(out)) {
        clearTimeout(timer);
        resolve(running);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${out.slice(-3000)}`));
    });
    if (!ready) {
      clearTimeout(timer);
      resolve(running);
    }
  });
}

/** Kamailio on 127.0.0.1:`port` (UDP): a registrar (usrloc in memory) and a proxy to registered users. */
export async function startKamailio(dir: string, port: number, users: Record<string, string>): Promise<Running> {
  mkdirSync(dir, { recursive: true });
  const passwords = Object.entries(users)
    .map(([user, password]) => `  if ($au == "${user}") { $var(pw) = "${password}"; }`)
    .join('\n');
  const cfg = `#!KAMAILIO
debug=2
log_stderror=yes
children=2
listen=udp:127.0.0.1:${port}
alias="127.0.0.1:${port}"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
modparam("usrloc", "db_mode", 0)
modparam("rr", "enable_full_lr", 1)

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { route(RELAY); }
    if (is_method("ACK")) { if (t_check_trans()) { route(RELAY); } exit; }
    if (is_method("BYE")) { route(RELAY); }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { route(RELAY); } exit; }
  t_check_trans();
  if (is_method("REGISTER")) {
    route(PASSWORD);
    if (!pv_www_authenticate("$fd", "$var(pw)", "0")) { www_challenge("$fd", "0"); exit; }
    if (!save("location")) { sl_reply_error(); }
    xlog("L_NOTICE", "registered $tu\\n");
    exit;
  }
  if (is_method("INVITE")) {
    route(PASSWORD);
    if (!pv_proxy_authenticate("$fd", "$var(pw)", "0")) { proxy_challenge("$fd", "0"); exit; }
    consume_credentials();
    record_route();
  }
  if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
  route(RELAY);
}

route[PASSWORD] {
  $var(pw) = "";
${passwords}
}

route[RELAY] {
  if (!t_relay()) { sl_reply_error(); }
  exit;
}
`;
  const file = path.join(dir, 'kamailio.cfg');
  writeFileSync(file, cfg);
  return run('/usr/sbin/kamailio', ['-f', file, '-DD', '-E', '-m', '32', '-M', '8', '-Y', dir, '-P', path.join(dir, 'kamailio.pid')], /INFO: <core> \[main\.c:\d+\]|using as ext|udp_init|bind/, 'kamailio');
}

/** A baresip callee registered as `user` at the registrar; answers every call, plays a tone, records to `dir`. */
export interface Callee extends Running {
  /** the WAV files sndfile wrote (one `-dec.wav` per call: what the callee heard) */
  recordings(): string[];
  /** hangs up its call, through baresip's ctrl_tcp module (netstring JSON) */
  hangUp(): Promise<void>;
}

export async function startBaresipCallee(dir: string, o: { port: number; ctrlPort: number; registrarPort: number; user: string; password: string; toneHz: number }): Promise<Callee> {
  mkdirSync(dir, { recursive: true });
  const config = [
    'poll_method epoll',
    'net_interface 127.0.0.1',
    `sip_listen 127.0.0.1:${o.port}`,
    'call_local_timeout 120',
    'audio_buffer 20',
    'audio_player aubridge,nowhere',
    `audio_source ausine,${o.toneHz}`,
    'audio_alert aubridge,nowhere',
    'ausrc_srate 48000',
    'ausrc_channels 2',
    'auplay_srate 48000',
    'auplay_channels 2',
    'rtp_ports 42000-42999',
    `snd_path ${dir}`,
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module ausine.so',
    'module aubridge.so',
    'module sndfile.so',
    'module_tmp account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${o.ctrlPort}`,
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'config'), config);
  writeFileSync(path.join(dir, 'accounts'), `<sip:${o.user}@127.0.0.1:${o.registrarPort}>;auth_pass=${o.password};answermode=auto;audio_codecs=PCMA;regint=60\n`);
  writeFileSync(path.join(dir, 'contacts'), '');
  const running = await run('/usr/bin/baresip', ['-f', dir], /200 OK|registered|Register: /i, 'baresip');
  return {
    ...running,
    recordings: () => readdirSync(dir).filter((f) => f.startsWith('dump-') && f.endsWith('.wav')).map((f) => path.join(dir, f)),
    hangUp: () =>
      new Promise<void>((resolve, reject) => {
        const json = JSON.stringify({ command: 'hangup', params: '', token: 'test' });
        const socket = net.connect(o.ctrlPort, '127.0.0.1', () => socket.end(`${Buffer.byteLength(json)}:${json},`));
        socket.setTimeout(5000, () => socket.destroy(new Error('ctrl_tcp did not answer')));
        socket.on('error', reject);
        socket.on('close', () => resolve());
        socket.resume();
      }),
  };
}

/** RMS of a 16-bit PCM WAV's samples (its data chunk), 0..32767. */
export function wavRms(file: string): { rms: number; seconds: number } {
  const bytes = readFileSync(file);
  let offset = 12;
  let rate = 8000;
  let channels = 1;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channels = bytes.readUInt16LE(offset + 10);
      rate = bytes.readUInt32LE(offset + 12);
    }
    if (id === 'data') {
      const end = Math.min(bytes.length, offset + 8 + (size === 0 || size === 0xffffffff ? bytes.length : size));
      let sum = 0;
      let n = 0;
      for (let i = offset + 8; i + 1 < end; i += 2) {
        const s = bytes.readInt16LE(i);
        sum += s * s;
        n++;
      }
      return { rms: n === 0 ? 0 : Math.sqrt(sum / n), seconds: n / channels / rate };
    }
    offset += 8 + size + (size % 2);
  }
  return { rms: 0, seconds: 0 };
}
