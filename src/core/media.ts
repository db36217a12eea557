/**
 * Media kept on disk under DATA_DIR: uploaded images (`images/`, checked by their magic bytes, not their names)
 * and re-hosted videos (`videos/<task id>.mp4`, always H.264: see transcode.ts), so users keep their video after
 * the upstream link expires.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageSize } from 'image-size';
import type { Logger } from 'pino';
import { InvalidInput, UpstreamError } from './errors.js';
import { type DownloadOptions, downloadLimited, formatBytes } from './safe-fetch.js';
import { ensurePlayable } from './transcode.js';

const IMAGE_TYPES: Record<string, { ext: string; mime: string }> = {
  jpg: { ext: 'jpg', mime: 'image/jpeg' },
  png: { ext: 'png', mime: 'image/png' },
  webp: { ext: 'webp', mime: 'image/webp' },
  gif: { ext: 'gif', mime: 'image/gif' },
  bmp: { ext: 'bmp', mime: 'image/bmp' },
};

/** An image's facts, read from its bytes. */
export interface ImageInfo {
  ext: string;
  mime: string;
  width: number;
  height: number;
}

/**
 * Checks that `bytes` is a JPEG, PNG, WebP, GIF or BMP of at most `maxBytes`.
 * @throws InvalidInput `TOO_LARGE` or `UNSUPPORTED_MEDIA`, with the limit or the accepted types stated.
 */
export function inspectImage(bytes: Uint8Array, maxBytes: number): ImageInfo {
  if (bytes.length === 0) throw new InvalidInput('the image is empty');
  if (bytes.length > maxBytes) {
    throw new InvalidInput(`the image is larger than the ${formatBytes(maxBytes)} limit`, 'TOO_LARGE');
  }
  let size: ReturnType<typeof imageSize> | undefined;
  try {
    size = imageSize(bytes);
  } catch {
    size = undefined;
  }
  const type = size?.type && IMAGE_TYPES[size.type];
  if (!size || !type || !size.width || !size.height) {
    throw new InvalidInput('the file is not a JPEG, PNG, WebP, GIF or BMP image', 'UNSUPPORTED_MEDIA');
  }
  return { ...type, width: size.width, height: size.height };
}

/** A stored upload: `key` names it in later requests (the seed's attachment `key`). */
export interface StoredImage extends ImageInfo {
  key: string;
  path: string;
  size: number;
}

const KEY_PATTERN = /^[0-9a-f-]{36}\.(jpg|png|webp|gif|bmp)$/;

export interface MediaStoreOptions {
  /** Converts re-hosted videos that are not H.264; without it videos are kept as downloaded. */
  ffmpegPath?: string;
  log?: Logger;
}

export class MediaStore {
  readonly imagesDir: string;
  readonly videosDir: string;
  readonly #opts: MediaStoreOptions;

  constructor(dataDir: string, options: MediaStoreOptions = {}) {
    this.imagesDir = join(dataDir, 'images');
    this.videosDir = join(dataDir, 'videos');
    this.#opts = options;
  }

  async init(): Promise<void> {
    await mkdir(this.imagesDir, { recursive: true });
    await mkdir(this.videosDir, { recursive: true });
  }

  /** Checks and keeps an image; the returned key is safe to hand to clients. */
  async saveImage(bytes: Uint8Array, maxBytes: number): Promise<StoredImage> {
    const info = inspectImage(bytes, maxBytes);
    const key = `${randomUUID()}.${info.ext}`;
    const path = join(this.imagesDir, key);
    await writeFile(path, bytes);
    return { ...info, key, path, size: bytes.length };
  }

  /** Resolves a key handed out by `saveImage`. @throws InvalidInput for unknown or malformed keys. */
  async imageByKey(key: string): Promise<{ path: string; bytes: Buffer }> {
    if (!KEY_PATTERN.test(key))
      throw new InvalidInput(`unknown image key "${key.slice(0, 80)}"; upload the image first`);
    const path = join(this.imagesDir, key);
    try {
      return { path, bytes: await readFile(path) };
    } catch {
      throw new InvalidInput(`unknown image key "${key}"; upload the image first`);
    }
  }

  async removeImage(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  videoPath(taskId: string): string {
    return join(this.videosDir, `${taskId}.mp4`);
  }

  /**
   * Copies the first reachable video of `urls` to `videos/<taskId>.mp4` and returns the file name. `file:` URLs
   * (from the local provider, never from users) are copied; others are downloaded with the given limits.
   */
  async rehostVideo(taskId: string, urls: string[], limits: DownloadOptions): Promise<string> {
    const target = this.videoPath(taskId);
    const partial = `${target}.part`;
    let lastError: unknown = new InvalidInput('the provider returned no video URL');
    for (const url of urls) {
      try {
        if (url.startsWith('file:')) await copyFile(fileURLToPath(url), partial);
        else await writeFile(partial, await downloadVideo(url, limits));
        if ((await stat(partial)).size === 0) throw new InvalidInput('the video file is empty');
        await rename(partial, target);
        await this.#makePlayable(taskId, target, limits.timeoutMs);
        return `${taskId}.mp4`;
      } catch (error) {
        lastError = error;
      }
    }
    await rm(partial, { force: true });
    throw lastError;
  }

  /** Where the download is kept when the re-hosted copy had to be converted. */
  originalVideoPath(taskId: string): string {
    return join(this.videosDir, `${taskId}.original.mp4`);
  }

  /**
   * Converts a re-hosted video to H.264 when it is not. A conversion that fails leaves the download in place and
   * is logged: a video some players cannot show beats no video.
   */
  async #makePlayable(taskId: string, path: string, timeoutMs: number): Promise<void> {
    const { ffmpegPath, log } = this.#opts;
    if (!ffmpegPath) return;
    try {
      const done = await ensurePlayable(path, { ffmpegPath, originalPath: this.originalVideoPath(taskId), timeoutMs });
      if (done.originalPath) log?.info({ taskId, codec: done.codec }, 'video converted to H.264; original kept');
    } catch (err) {
      log?.warn({ err, taskId }, 'video kept as downloaded: conversion to H.264 failed');
    }
  }
}

/**
 * Content types a video may come with: Doubao's video hosts serve play URLs whose path ends in `/`, so the
 * answer itself (its type, then the MP4 `ftyp` box) says whether it is a video, not the URL.
 */
const VIDEO_TYPES = /^(video\/|application\/octet-stream|binary\/octet-stream)/i;

/** Downloads a video URL and checks it is an MP4 (an `ftyp` box at offset 4). */
async function downloadVideo(url: string, limits: DownloadOptions): Promise<Buffer> {
  const bytes = await downloadLimited(url, { ...limits, what: 'the video', acceptType: VIDEO_TYPES });
  if (bytes.length > 0 && (bytes.length < 8 || bytes.subarray(4, 8).toString('latin1') !== 'ftyp')) {
    throw new UpstreamError('could not download the video: the file is not an MP4', true);
  }
  return bytes;
}
