// Downloads mediasoup's prebuilt worker the way mediasoup's own postinstall does (same URL scheme), but with a time
// limit and without its fallback build: install-worker.sh decides what to do when this fails (exit code 1).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

const msDir = process.argv[2];
const pkg = JSON.parse(readFileSync(path.join(msDir, 'package.json'), 'utf8'));
let tarName = `mediasoup-worker-${pkg.version}-${os.platform()}-${os.arch()}`;
if (os.platform() === 'linux') tarName += `-kernel${Number(os.release().split('.')[0])}`;
const base = process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL
  ?? `${pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')}/releases/download`;
const url = `${base}/${pkg.version}/${tarName}.tgz`;
const releaseDir = path.join(msDir, 'worker', 'out', 'Release');
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  mkdirSync(releaseDir, { recursive: true });
  const tar = spawn('tar', ['xzf', '-', '-C', releaseDir], { stdio: ['pipe', 'inherit', 'inherit'] });
  Readable.fromWeb(res.body).pipe(tar.stdin);
  const code = await new Promise((resolve) => tar.on('close', resolve));
  process.exit(code === 0 ? 0 : 1);
} catch (error) {
  console.error(`[mediasoup] prebuilt worker not available (${url}): ${error.message ?? error}`);
  process.exit(1);
}
