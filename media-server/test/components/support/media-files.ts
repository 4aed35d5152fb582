// Test media made on the spot with ffmpeg (no binaries in the repository): an Annex-B H264 clip (constrained
// baseline, a key frame every 15 frames, SPS/PPS before each) and an Ogg/Opus clip, in a fresh resources folder.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Resources {
  /** FJ_RESOURCES_BASE_PATH */
  base: string;
  /** <base>/file_component_sources */
  sources: string;
}

export async function makeResources(): Promise<Resources> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'fj-components-'));
  const sources = path.join(base, 'file_component_sources');
  await mkdir(sources, { recursive: true });
  return { base, sources };
}

export async function makeVideo(file: string, seconds: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${seconds}`,
    '-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '15', '-bf', '0',
    '-x264-params', 'repeat-headers=1', '-f', 'h264', file,
  ]);
}

export async function makeAudio(file: string, seconds: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:a', 'libopus', '-b:a', '32k', file,
  ]);
}

export async function makeGarbage(file: string, bytes: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7919 + 13) & 0xff; // no start codes: not H264
  await writeFile(file, data);
}
