// A recorded part folder (report.json + run_<n>.ts, as written by recording-component.ts and uploaded to S3) ->
// playable MP4 files, one per run (`run_<n>.mp4`: the first video copied as recorded, the audio tracks mixed into one
// AAC track). One per run because runs can differ in tracks, picture sizes and codecs; a run is the stretch of time
// in which the recorded set of tracks did not change. Used by the CLI (cli/recording-to-mp4.ts) after the room ended.
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPORT_FILE, type RecordingReport } from './recording-component.js';
import { conversionFfmpegArgs } from './recording-ffmpeg-command.js';

const run = promisify(execFile);

export interface Converted {
  readonly run: string;
  /** undefined: the run's file is missing or empty (a run stopped before ffmpeg saw a keyframe has no media) */
  readonly output: string | undefined;
}

/** Plain run file names only (a report is input: it must not lead ffmpeg to read or write elsewhere). */
const RUN_FILE = /^run_\d{1,6}\.ts$/;

export async function convertPart(partDir: string, outDir: string, ffmpegPath = 'ffmpeg'): Promise<Converted[]> {
  const report = JSON.parse(await readFile(path.join(partDir, REPORT_FILE), 'utf8')) as RecordingReport;
  if (!Array.isArray(report.runs)) throw new Error(`${REPORT_FILE} lists no runs`);
  const converted: Converted[] = [];
  for (const entry of report.runs) {
    if (typeof entry.file !== 'string' || !RUN_FILE.test(entry.file) || !Array.isArray(entry.tracks)) throw new Error(`${REPORT_FILE}: a run is malformed`);
    const audio = entry.tracks.filter((t) => t.kind === 'audio').length;
    const video = entry.tracks.some((t) => t.kind === 'video');
    const input = path.join(partDir, entry.file);
    if (((await stat(input).catch(() => undefined))?.size ?? 0) === 0) {
      converted.push({ run: entry.file, output: undefined });
      continue;
    }
    const output = path.join(outDir, entry.file.replace(/\.ts$/, '.mp4'));
    await run(ffmpegPath, conversionFfmpegArgs(input, output, audio, video), { maxBuffer: 1 << 20 });
    converted.push({ run: entry.file, output });
  }
  return converted;
}
