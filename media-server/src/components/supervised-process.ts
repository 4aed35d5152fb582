// A media child process (ffmpeg) that dies with its owner: stopped on request (SIGTERM, then SIGKILL after a grace
// period), and killed by the kernel if this node dies first (setpriv --pdeathsig, from util-linux, which Debian
// installs everywhere): a SIGKILLed node must not leave players streaming into ports that get reused.
// Only the last few KiB of its stderr are kept (for the log of a crash); its stdout is discarded. Nothing secret may
// go into `args`: a command line is readable by every user of the machine (/proc/<pid>/cmdline).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const STDERR_TAIL_BYTES = 4096;
const KILL_GRACE_MS = 2000;
const SETPRIV = '/usr/bin/setpriv';

export interface Exit {
  /** null when killed by a signal */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** true when stop() was called first: not a crash */
  readonly stopped: boolean;
}

export interface SupervisedProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<Exit>;
  stop(): Promise<Exit>;
  stderrTail(): string;
}

export function startSupervised(
  command: string,
  args: readonly string[],
  options: {
    useDeathSignal?: boolean;
    /** becomes the child's fd 3 (setpriv passes it on) */
    inputFd?: number;
    /** written to the child's stdin, which is then closed (e.g. the SDP the HLS ffmpeg reads as pipe:0) */
    stdinText?: string;
    /** the child's stdout, chunk by chunk (else it is discarded) */
    onStdout?: (chunk: Buffer) => void;
  } = {},
): SupervisedProcess {
  const withDeathSignal = (options.useDeathSignal ?? true) && existsSync(SETPRIV);
  const [bin, argv] = withDeathSignal ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, [...args]];
  const stdio: Array<'ignore' | 'pipe' | number> = [options.stdinText === undefined ? 'ignore' : 'pipe', options.onStdout ? 'pipe' : 'ignore', 'pipe'];
  if (options.inputFd !== undefined) stdio.push(options.inputFd);
  const child = spawn(bin, argv, { stdio, env: minimalEnv() });
  if (options.stdinText !== undefined && child.stdin) {
    child.stdin.on('error', () => undefined); // a child that dies before reading it: its exit tells the story
    child.stdin.end(options.stdinText);
  }
  if (options.onStdout) child.stdout?.on('data', options.onStdout);
  let tail = Buffer.alloc(0);
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > STDERR_TAIL_BYTES) tail = tail.subarray(tail.length - STDERR_TAIL_BYTES);
  });
  let stopRequested = false;
  const exited = new Promise<Exit>((resolve) => {
    // 'error' (e.g. ENOENT: no ffmpeg) comes instead of 'exit'; both end in one Exit.
    child.once('error', () => resolve({ code: -1, signal: null, stopped: stopRequested }));
    child.once('exit', (code, signal) => resolve({ code, signal, stopped: stopRequested }));
  });
  return {
    pid: child.pid,
    exited,
    stop: () => {
      if (!stopRequested) {
        stopRequested = true;
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          timer.unref();
          void exited.then(() => clearTimeout(timer));
        }
      }
      return exited;
    },
    stderrTail: () => tail.toString('utf8'),
  };
}

/** The child gets PATH and locale only: none of the node's FJ_* variables (tokens, cookies) reach it. */
function minimalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (process.env.LANG) env.LANG = process.env.LANG;
  return env;
}
