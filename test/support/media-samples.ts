/**
 * Real sample media for tests: images rendered by the bundled ffmpeg (cached per process) and a tiny valid PNG.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';

const cache = new Map<string, Buffer>();

/** A real image of the given type and size, rendered from ffmpeg's test pattern. */
export function sampleImage(ext: 'png' | 'jpg' = 'png', width = 320, height = 200): Buffer {
  const key = `${ext}-${width}x${height}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const file = join(mkdtempSync(join(tmpdir(), 'dvb-img-')), `sample.${ext}`);
  execFileSync(ffmpeg.path, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=${width}x${height}`,
    '-frames:v',
    '1',
    file,
  ]);
  const bytes = readFileSync(file);
  cache.set(key, bytes);
  return bytes;
}

/** True when `bytes` look like an MP4 file (an `ftyp` box at offset 4). */
export function isMp4(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(4, 8)).toString('latin1') === 'ftyp';
}
