/**
 * What ffprobe would say of a video, from `ffmpeg -i` (@ffmpeg-installer ships no ffprobe): the picture's width
 * and height and the container's duration, read from the stream lines ffmpeg prints before it complains that no
 * output was given.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import ffmpeg from '@ffmpeg-installer/ffmpeg';

export interface VideoProbe {
  width: number;
  height: number;
  durationS: number;
}

export async function probeVideo(path: string): Promise<VideoProbe> {
  const stderr = await promisify(execFile)(ffmpeg.path, ['-hide_banner', '-i', path], { timeout: 30_000 }).then(
    (r) => r.stderr,
    (error: { stderr?: string }) => error.stderr ?? '',
  );
  const size = /Stream #\d+:\d+.*?: Video: .*?, (\d{2,5})x(\d{2,5})[\s,]/.exec(stderr);
  const duration = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
  if (!size || !duration) throw new Error(`ffmpeg could not read ${path}: ${stderr.trim().split('\n').pop()}`);
  const [, h, m, s] = duration.map(Number) as [number, number, number, number];
  return { width: Number(size[1]), height: Number(size[2]), durationS: h * 3600 + m * 60 + s };
}
