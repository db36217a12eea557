/**
 * Proves that an image decodes, with ffmpeg, before anything relies on it: the first frame is decoded (a GIF's
 * first frame, a WebP's only one) and returned as a PNG scaled down to at most `maxSide` pixels a side. Headers
 * can lie — a PNG of only its IHDR chunk claims 100×100 and has no pixels, and made ffmpeg spin for ever — so an
 * upload is accepted only when this succeeds, within a short time budget.
 */

import { RunFailed, runKillable } from './child-process.js';
import { InvalidInput } from './errors.js';
import { withReason } from './reasons.js';

export interface DecodeOptions {
  /** @defaultValue 15 000 */
  timeoutMs?: number;
  /** The longest side of the returned frame. @defaultValue 1920 */
  maxSide?: number;
  signal?: AbortSignal;
}

/**
 * The first frame of the image file at `path`, as PNG bytes no larger than `maxSide` a side.
 * @throws InvalidInput `UNSUPPORTED_MEDIA` when ffmpeg cannot decode a frame (or not within the time budget).
 */
export async function decodeFirstFrame(ffmpegPath: string, path: string, options: DecodeOptions = {}): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const side = options.maxSide ?? 1920;
  const args = [
    ...['-v', 'error', '-nostdin', '-timelimit', String(Math.ceil(timeoutMs / 1000) + 5)],
    ...['-i', path, '-frames:v', '1', '-an'],
    ...['-vf', `scale='min(iw,${side})':'min(ih,${side})':force_original_aspect_ratio=decrease`],
    ...['-f', 'image2pipe', '-c:v', 'png', 'pipe:1'],
  ];
  try {
    const { stdout } = await runKillable(ffmpegPath, args, { timeoutMs, graceMs: 1000, signal: options.signal });
    if (stdout.length > 0) return stdout;
  } catch (error) {
    if (!(error instanceof RunFailed)) throw error;
    if (options.signal?.aborted) throw error;
  }
  const error = new InvalidInput(
    'the image could not be decoded (it is damaged or truncated); send a complete JPEG, PNG, WebP, GIF or BMP',
    'UNSUPPORTED_MEDIA',
  );
  throw withReason(error, 'IMAGE_UNREADABLE');
}
