// HLS CPU benchmark: the CPU of the HLS ffmpeg per stream, passthrough (1 video) vs composed (4 and 9 videos), each
// with one Opus track, regular and low latency. A node runs in-process (real mediasoup, real ffmpeg); its File
// components play a generated 320x240 30 fps H264 clip into an H264 room; once the stream is playable the HLS
// ffmpeg's utime+stime is read from /proc over BENCH_SECONDS (default 10). The File players' own CPU is not counted.
// Run under `nice -n 19` on a shared machine: `nice -n 19 node --import tsx bench/hls-cpu.ts`.
import { execFile } from 'node:child_process';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeAudio, makeResources, makeVideo } from '../test/components/support/media-files.js';
import { startTestNode, waitFor } from '../test/support/test-node.js';

const run = promisify(execFile);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const ticksPerSecond = Number((await run('getconf', ['CLK_TCK'])).stdout.trim());

/** CPU ticks (user + system) of this process's HLS ffmpeg children (those reading an SDP on stdin). */
async function hlsFfmpegTicks(): Promise<Map<number, number>> {
  const ticks = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (!cmdline.includes('sdp') || !cmdline.includes('pipe:0')) continue;
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

const res = await makeResources();
await makeVideo(path.join(res.sources, 'clip.h264'), 120);
await makeAudio(path.join(res.sources, 'tone.ogg'), 120);
const n = await startTestNode({ FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base });
try {
  console.log(`HLS ffmpeg CPU (% of one core over ${seconds} s; 320x240 30 fps sources, one Opus track)`);
  for (const lowLatency of [false, true]) {
    for (const videos of [1, 4, 9]) {
      const roomId = (await n.api('/room', { method: 'POST', json: { videoCodec: 'h264' } })).body.data.room.id as string;
      await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls', options: { lowLatency } } });
      for (let i = 0; i < videos; i++) await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'clip.h264' } } });
      await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'tone.ogg' } } });
      await waitFor(async () => (await fetch(`${n.base}/hls/${roomId}/index.m3u8`)).status === 200, 90_000, 'playable');
      const before = await hlsFfmpegTicks();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const after = await hlsFfmpegTicks();
      const used = [...after].reduce((sum, [pid, t]) => sum + (before.has(pid) ? t - before.get(pid)! : 0), 0);
      const percent = (100 * used) / ticksPerSecond / seconds;
      console.log(`${lowLatency ? 'low latency' : 'regular    '}  ${videos === 1 ? 'passthrough' : 'composed   '}  ${String(videos).padStart(2)} video(s): ${percent.toFixed(1)}%`);
      await n.api(`/room/${roomId}`, { method: 'DELETE' });
      await waitFor(async () => (await hlsFfmpegTicks()).size === 0, 30_000, 'ffmpeg gone');
    }
  }
} finally {
  await n.stop();
  await rm(res.base, { recursive: true, force: true });
}
