/** A real, tiny MP4 (and a PNG thumbnail) rendered once per process by the bundled ffmpeg, served by the fake. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';

let video: Buffer | undefined;

export function sampleMp4(): Buffer {
  if (video) return video;
  const dir = mkdtempSync(join(tmpdir(), 'doubao-fake-'));
  const file = join(dir, 'video.mp4');
  execFileSync(ffmpeg.path, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=160x90:d=1',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    file,
  ]);
  video = readFileSync(file);
  rmSync(dir, { recursive: true, force: true });
  return video;
}
