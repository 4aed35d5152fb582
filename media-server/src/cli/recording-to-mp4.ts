// Turns a Recording component's part folder (downloaded from S3 or still in raw_recordings/) into playable MP4s:
//   node media-server/dist/cli/recording-to-mp4.js <part folder> [output folder]
// One `run_<n>.mp4` per run of the recording (see components/recording-conversion.ts). Needs ffmpeg on PATH.
import { mkdir } from 'node:fs/promises';
import { convertPart } from '../components/recording-conversion.js';

const [partDir, outDir = partDir] = process.argv.slice(2);
if (!partDir) {
  console.error('usage: recording-to-mp4 <part folder> [output folder]');
  process.exit(2);
}
try {
  await mkdir(outDir!, { recursive: true });
  for (const { run, output } of await convertPart(partDir, outDir!)) console.log(output ? `${run} -> ${output}` : `${run}: no media (skipped)`);
} catch (error) {
  console.error(`recording-to-mp4: ${(error as Error).message}`);
  process.exit(1);
}
