// A real RTSP camera for tests: GStreamer's RTSP server (Debian gstreamer1.0-rtsp, gir1.2-gst-rtsp-server-1.0,
// python3-gi) run by rtsp-camera.py beside this file, serving an H264 test pattern on a loopback port.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Debian's python (python3-gi is installed for it), not whatever python3 comes first on PATH. */
const PYTHON = '/usr/bin/python3';

export interface RtspCamera {
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGKILL, as a camera losing power: resolves when it is gone */
  kill(): Promise<void>;
}

export async function startRtspCamera(o: { port: number; mount?: string; width: number; height: number; user?: string; password?: string }): Promise<RtspCamera> {
  const mount = o.mount ?? 'camera';
  const args = [path.join(here, 'rtsp-camera.py'), String(o.port), mount, String(o.width), String(o.height)];
  if (o.user) args.push(o.user);
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  if (o.user) child.stdin!.end(`${o.password ?? ''}\n`);
  else child.stdin!.end();
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rtsp camera did not start in 20 s: ${out}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      } else if (out.includes('could not listen')) {
        clearTimeout(timer);
        reject(new Error(`rtsp camera could not listen on ${o.port}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rtsp camera exited (${code}): ${out}`));
    });
  });
  return {
    url: `rtsp://127.0.0.1:${o.port}/${mount}`,
    child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
