/**
 * The MP4 the fake Ark serves as every task's result: one small real H.264 clip rendered once per test process
 * with the bundled ffmpeg, so re-hosting and "is it an MP4" checks run on real bytes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ffmpeg from '@ffmpeg-installer/ffmpeg';

let rendering: Promise<Buffer> | undefined;

export function sampleVideo(): Promise<Buffer> {
  rendering ??= (async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'dvb-ark-fake-')), 'result.mp4');
    await promisify(execFile)(ffmpeg.path, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=160x90:d=1:r=10'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file],
    ]);
    return readFile(file);
  })();
  return rendering;
}
