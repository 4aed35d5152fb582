import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

/** Headless Chromium driven over the DevTools protocol (no playwright here): just enough to run page scripts. */
export interface Chromium {
  evaluate<T>(expression: string): Promise<T>;
  close(): void;
}

export async function launchChromium(binary = '/usr/bin/chromium', timeoutMs = 15_000): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-sdp-'));
  const child: ChildProcess = spawn(binary, [
    '--headless=new',
    '--no-sandbox',
    '--remote-debugging-port=0',
    '--autoplay-policy=no-user-gesture-required',
    `--user-data-dir=${profile}`,
    'about:blank',
  ]);
  const close = (): void => {
    // Chromium writes its profile until it has exited: remove the profile only then.
    const remove = () => rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    if (child.exitCode !== null || child.signalCode !== null) return remove();
    child.once('exit', remove);
    child.kill('SIGKILL');
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Chromium did not start')), timeoutMs);
      child.stderr?.on('data', (chunk: Buffer) => {
        const match = /ws:\/\/\S+/.exec(chunk.toString());
        if (match) {
          clearTimeout(timer);
          resolve(match[0]);
        }
      });
      child.on('exit', () => reject(new Error('Chromium exited')));
    });
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    let nextId = 0;
    const pending = new Map<number, (message: { result?: any; error?: { message: string } }) => void>();
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString());
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    });
    const call = (method: string, params: object, sessionId?: string): Promise<any> =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => reject(new Error(`${method} timed out`)), timeoutMs);
        pending.set(id, (message) => {
          clearTimeout(timer);
          if (message.error) reject(new Error(message.error.message));
          else resolve(message.result);
        });
        socket.send(JSON.stringify({ id, method, params, sessionId }));
      });
    const { targetId } = await call('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await call('Target.attachToTarget', { targetId, flatten: true });
    return {
      async evaluate<T>(expression: string): Promise<T> {
        const result = await call('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
        if (result.exceptionDetails) throw new Error(result.exceptionDetails.exception?.description ?? 'page error');
        return result.result.value as T;
      },
      close(): void {
        socket.close();
        close();
      },
    };
  } catch (error) {
    close();
    throw error;
  }
}
