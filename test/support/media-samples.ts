/**
 * Real sample media for tests and fakes, rendered by the bundled ffmpeg from its test pattern and cached per
 * process: images of any size and type, a small H.264 MP4 (what the fake upstreams serve as results), and a small
 * HEVC MP4 with sound (what Doubao sometimes serves; the bundled static ffmpeg has libx265).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';

const cache = new Map<string, Buffer>();

function render(key: string, fileName: string, args: string[]): Buffer {
  const cached = cache.get(key);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'dvb-sample-'));
  const file = join(dir, fileName);
  execFileSync(ffmpeg.path, ['-v', 'error', '-f', 'lavfi', ...args, file]);
  const bytes = readFileSync(file);
  rmSync(dir, { recursive: true, force: true });
  cache.set(key, bytes);
  return bytes;
}

/** Every image type the service accepts. */
export const IMAGE_TYPES = ['jpg', 'png', 'webp', 'gif', 'bmp'] as const;

/** A real image of the given type and size. */
export function sampleImage(ext: (typeof IMAGE_TYPES)[number] = 'png', width = 320, height = 200): Buffer {
  return render(`${ext}-${width}x${height}`, `sample.${ext}`, [
    '-i',
    `testsrc2=s=${width}x${height}`,
    '-frames:v',
    '1',
  ]);
}

/** An animated GIF of five frames. */
export function sampleAnimatedGif(): Buffer {
  return render('anim-gif', 'anim.gif', ['-i', 'testsrc2=s=160x100:d=1:r=5']);
}

/** A one-second 160×90 H.264 MP4. */
export function sampleMp4(): Buffer {
  return render('mp4', 'sample.mp4', [
    ...['-i', 'testsrc2=s=160x90:d=1:r=10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'],
  ]);
}

/** A one-second 160×90 HEVC MP4 with an AAC tone; `hvc1` (Apple's tag, Doubao's) or `hev1` sample entries. */
export function sampleHevcMp4(tag: 'hvc1' | 'hev1' = 'hvc1'): Buffer {
  return render(`hevc-${tag}`, 'sample.mp4', [
    ...['-i', 'testsrc2=s=160x90:d=1:r=10', '-f', 'lavfi', '-i', 'sine=d=1', '-shortest'],
    ...['-c:v', 'libx265', '-x265-params', 'log-level=error', '-tag:v', tag, '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
    ...['-movflags', '+faststart'],
  ]);
}

/** True when `bytes` look like an MP4 file (an `ftyp` box at offset 4). */
export function isMp4(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(4, 8)).toString('latin1') === 'ftyp';
}

/** CRC-32 as PNG chunks use it. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A PNG of only its signature and an IHDR chunk (33 bytes for 100×100): the header claims the size, there is no
 * pixel data. It made ffmpeg's image-to-video render spin for ever. Large sizes make an "image bomb" header.
 */
export function pngWithoutPixels(width = 100, height = 100): Buffer {
  const ihdr = Buffer.alloc(17);
  ihdr.write('IHDR', 0, 'latin1');
  ihdr.writeUInt32BE(width, 4);
  ihdr.writeUInt32BE(height, 8);
  ihdr.set([8, 2, 0, 0, 0], 12); // 8-bit RGB, no interlace
  const length = Buffer.alloc(4);
  length.writeUInt32BE(13);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(ihdr));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), length, ihdr, crc]);
}
