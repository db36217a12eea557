/**
 * Playable everywhere (src/core/transcode.ts): the codec is read from real files rendered by the bundled ffmpeg,
 * and a video that is not H.264 is converted in place with the download kept; H.264 is never touched.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaStore } from '../src/core/media.js';
import { ensurePlayable, mp4VideoSampleEntry, videoCodec } from '../src/core/transcode.js';
import { sampleHevcMp4, sampleMp4 } from './support/media-samples.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dvb-transcode-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** What ffmpeg itself says of a file's streams: an independent check of the box reader and of the conversion. */
function streams(path: string): string {
  try {
    execFileSync(ffmpeg.path, ['-hide_banner', '-i', path], { stdio: 'pipe' });
  } catch (error) {
    return String((error as { stderr: Buffer }).stderr);
  }
  return '';
}

const options = (path: string) => ({ ffmpegPath: ffmpeg.path, originalPath: `${path}.original`, timeoutMs: 60_000 });

describe('reading the codec', () => {
  it('tells H.264 from HEVC by the sample description, whichever HEVC tag the file carries', async () => {
    expect(await mp4VideoSampleEntry(file('a.mp4', sampleMp4()))).toBe('avc1');
    expect(await mp4VideoSampleEntry(file('b.mp4', sampleHevcMp4('hvc1')))).toBe('hvc1');
    expect(await mp4VideoSampleEntry(file('c.mp4', sampleHevcMp4('hev1')))).toBe('hev1');
    expect(await videoCodec(join(dir, 'a.mp4'))).toBe('h264');
    expect(await videoCodec(join(dir, 'c.mp4'))).toBe('hevc');
    expect(streams(join(dir, 'b.mp4'))).toMatch(/Video: hevc/);
  });

  it('asks ffmpeg about a file that is not an MP4, and calls garbage unknown', async () => {
    const webm = join(dir, 'v.webm');
    execFileSync(ffmpeg.path, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=64x36:d=0.3', '-c:v', 'libvpx', webm]);
    expect(await mp4VideoSampleEntry(webm)).toBeUndefined();
    expect(await videoCodec(webm, ffmpeg.path)).toBe('vp8');
    const junk = file('junk.mp4', Buffer.from('<html>not a video</html>'));
    expect(await videoCodec(junk, ffmpeg.path)).toBe('unknown');
  });
});

describe('ensurePlayable', () => {
  it('converts HEVC to H.264/AAC in place and keeps the download byte for byte', async () => {
    const hevc = sampleHevcMp4();
    const path = file('task.mp4', hevc);
    const result = await ensurePlayable(path, options(path));
    expect(result).toEqual({ codec: 'hevc', originalPath: `${path}.original` });
    expect(await mp4VideoSampleEntry(path)).toBe('avc1');
    const info = streams(path);
    expect(info).toMatch(/Video: h264/);
    expect(info).toMatch(/Audio: aac/);
    expect(readFileSync(`${path}.original`).equals(hevc)).toBe(true);
  });

  it('leaves an H.264 video and an unreadable file alone', async () => {
    const h264 = file('ok.mp4', sampleMp4());
    const before = statSync(h264).mtimeMs;
    expect(await ensurePlayable(h264, options(h264))).toEqual({ codec: 'h264' });
    expect(statSync(h264).mtimeMs).toBe(before);
    const junk = file('junk.mp4', Buffer.from('garbage'));
    expect(await ensurePlayable(junk, options(junk))).toEqual({ codec: 'unknown' });
    expect(() => statSync(`${h264}.original`)).toThrow();
  });

  it('fails clearly when ffmpeg cannot convert, leaving the download where it was', async () => {
    const hevc = sampleHevcMp4();
    // A real HEVC file cut right after its moov (before the media data): the boxes say hevc, and ffmpeg finds no
    // video frame yet exits 0 (it does so when the file has an audio track).
    const moovAt = hevc.indexOf('moov') - 4;
    const broken = file('broken.mp4', hevc.subarray(0, moovAt + hevc.readUInt32BE(moovAt)));
    await expect(ensurePlayable(broken, options(broken))).rejects.toThrow(/hevc video could not be converted/);
    expect(readFileSync(broken).length).toBeGreaterThan(0);
    expect(() => statSync(`${broken}.original`)).toThrow();
  });
});

describe('re-hosting (MediaStore)', () => {
  it('hands out an H.264 file for an HEVC download and keeps the download as <id>.original.mp4', async () => {
    const media = new MediaStore(dir, { ffmpegPath: ffmpeg.path });
    await media.init();
    const download = sampleHevcMp4();
    // A `file:` video is handed over (moved), as the local provider's are: compare with the bytes, not the file.
    const source = file('upstream.mp4', download);
    const name = await media.rehostVideo('t1', [pathToFileURL(source).href], { maxBytes: 1e7, timeoutMs: 60_000 });
    expect(name).toBe('t1.mp4');
    expect(await mp4VideoSampleEntry(media.videoPath('t1'))).toBe('avc1');
    expect(readFileSync(media.originalVideoPath('t1')).equals(download)).toBe(true);
  });
});
