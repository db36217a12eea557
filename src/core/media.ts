/**
 * Media kept on disk under DATA_DIR, in three folders whose sizes `/metrics` reports:
 * - `uploads/`: images uploaded ahead of a request (the seed's `/api/file/upload`); the returned key names one.
 *   An upload is only a source: every task takes its own copy, so uploads can be swept after an hour.
 * - `images/<task id>.<ext>`: the image of one task, kept until the task no longer needs it.
 * - `videos/<task id>.mp4`: re-hosted videos (always H.264: see transcode.ts), so users keep their video after the
 *   upstream link expires.
 * Images are checked by their magic bytes, not their names, and kept only when they decode. A write that fails
 * leaves no partial file, and one that fails for lack of space throws StorageFull.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageSize } from 'image-size';
import type { Logger } from 'pino';
import { InvalidInput, isDiskFull, StorageFull, UpstreamError } from './errors.js';
import { withReason } from './reasons.js';
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

/** The size limits of an image: bytes, and pixels (width × height) as its header states them. */
export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
}

/**
 * Checks that `bytes` is a JPEG, PNG, WebP, GIF or BMP within the limits (a bare number: bytes only).
 * @throws InvalidInput `TOO_LARGE` or `UNSUPPORTED_MEDIA`, with the limit or the accepted types stated.
 */
export function inspectImage(bytes: Uint8Array, limits: ImageLimits | number): ImageInfo {
  const { maxBytes, maxPixels } = typeof limits === 'number' ? { maxBytes: limits, maxPixels: Infinity } : limits;
  if (bytes.length === 0) throw withReason(new InvalidInput('the image is empty'), 'IMAGE_EMPTY');
  if (bytes.length > maxBytes) {
    const limit = formatBytes(maxBytes);
    throw withReason(new InvalidInput(`the image is larger than the ${limit} limit`, 'TOO_LARGE'), 'IMAGE_TOO_LARGE', {
      limit,
    });
  }
  let size: ReturnType<typeof imageSize> | undefined;
  try {
    size = imageSize(bytes);
  } catch {
    size = undefined;
  }
  const type = size?.type && IMAGE_TYPES[size.type];
  if (!size || !type || !size.width || !size.height) {
    const error = new InvalidInput('the file is not a JPEG, PNG, WebP, GIF or BMP image', 'UNSUPPORTED_MEDIA');
    throw withReason(error, 'IMAGE_NOT_IMAGE');
  }
  if (size.width * size.height > maxPixels) {
    const mp = (n: number) => `${Math.round(n / 100_000) / 10} megapixels`;
    const error = new InvalidInput(
      `the image is ${size.width}×${size.height} (${mp(size.width * size.height)}); the limit is ${mp(maxPixels)}`,
      'TOO_LARGE',
    );
    throw withReason(error, 'IMAGE_TOO_MANY_PIXELS', {
      width: size.width,
      height: size.height,
      limitMegapixels: Math.round(maxPixels / 100_000) / 10,
    });
  }
  return { ...type, width: size.width, height: size.height };
}

/** A stored upload: `key` names it in later requests (the seed's attachment `key`). */
export interface StoredImage extends ImageInfo {
  key: string;
  path: string;
  size: number;
}

/** Bytes kept in each media folder. */
export interface MediaUsage {
  videos: number;
  images: number;
  uploads: number;
}

/** A file in one of the media folders, for the retention sweep. */
export interface MediaFile {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/** How bytes reach the disk; tests replace it to make a write fail as a full disk would. */
export type WriteBytes = (path: string, bytes: Uint8Array) => Promise<void>;
/** Proves that the image file at `path` decodes (see image-decode.ts); throws InvalidInput when it does not. */
export type VerifyImage = (path: string) => Promise<unknown>;

const KEY_PATTERN = /^[0-9a-f-]{36}\.(jpg|png|webp|gif|bmp)$/;
/** `/metrics` may be scraped every few seconds; walking the folders that often is not worth it. */
const USAGE_CACHE_MS = 30_000;

export interface MediaStoreOptions {
  /** Converts re-hosted videos that are not H.264; without it videos are kept as downloaded. */
  ffmpegPath?: string;
  log?: Logger;
  /** How bytes reach the disk (tests make it fail as a full disk would). */
  write?: WriteBytes;
  /** Refuses an image that does not decode; without it images are checked by their header only. */
  verify?: VerifyImage;
}

export class MediaStore {
  readonly imagesDir: string;
  readonly videosDir: string;
  readonly uploadsDir: string;
  readonly #write: WriteBytes;
  readonly #opts: MediaStoreOptions;
  #usage: { at: number; value: Promise<MediaUsage> } | undefined;

  constructor(dataDir: string, options: MediaStoreOptions = {}) {
    this.imagesDir = join(dataDir, 'images');
    this.videosDir = join(dataDir, 'videos');
    this.uploadsDir = join(dataDir, 'uploads');
    this.#write = options.write ?? ((path, bytes) => writeFile(path, bytes));
    this.#opts = options;
  }

  async init(): Promise<void> {
    for (const dir of [this.imagesDir, this.videosDir, this.uploadsDir]) await mkdir(dir, { recursive: true });
  }

  /** Checks and keeps an uploaded image; the returned key is safe to hand to clients. */
  async saveUpload(bytes: Uint8Array, limits: ImageLimits): Promise<StoredImage> {
    const info = inspectImage(bytes, limits);
    const key = `${randomUUID()}.${info.ext}`;
    const path = join(this.uploadsDir, key);
    await this.#writeWhole(path, bytes, 'the image');
    await this.#decodes(path);
    return { ...info, key, path, size: bytes.length };
  }

  /** Checks and keeps the image of one task; returns its path. */
  async saveTaskImage(taskId: string, bytes: Uint8Array, limits: ImageLimits): Promise<string> {
    const info = inspectImage(bytes, limits);
    const path = join(this.imagesDir, `${taskId}.${info.ext}`);
    await this.#writeWhole(path, bytes, 'the image');
    await this.#decodes(path);
    return path;
  }

  /**
   * Gives a task its own copy of an upload (a hard link when the file system allows, else a copy), so tasks made
   * from the same key never share a file. @throws InvalidInput for unknown or malformed keys.
   */
  async taskImageFromUpload(taskId: string, key: string): Promise<string> {
    if (!KEY_PATTERN.test(key))
      throw new InvalidInput(`unknown image key "${key.slice(0, 80)}"; upload the image first`);
    const source = join(this.uploadsDir, key);
    const path = join(this.imagesDir, `${taskId}${key.slice(key.lastIndexOf('.'))}`);
    try {
      await link(source, path).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw error;
        await copyFile(source, path);
      });
      return path;
    } catch (error) {
      await rm(path, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new InvalidInput(`unknown image key "${key}"; upload the image first (uploads are kept for an hour)`);
      }
      throw isDiskFull(error) ? new StorageFull('the image', { cause: error }) : error;
    }
  }

  async removeImage(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  videoPath(taskId: string): string {
    return join(this.videosDir, `${taskId}.mp4`);
  }

  /** Removes a re-hosted video, and the download it was converted from when there is one. */
  async removeVideo(file: string): Promise<void> {
    await rm(join(this.videosDir, file), { force: true });
    if (file.endsWith('.mp4')) await rm(join(this.videosDir, file.replace(/\.mp4$/, '.original.mp4')), { force: true });
  }

  /**
   * Puts the first reachable video of `urls` at `videos/<taskId>.mp4` and returns the file name. A `file:` URL
   * (from the local provider, never from users) hands its file over: it is moved, so one copy is kept. Others are
   * downloaded with the given limits. @throws StorageFull when the disk is full, else the last URL's error.
   */
  async rehostVideo(taskId: string, urls: string[], limits: DownloadOptions): Promise<string> {
    const target = this.videoPath(taskId);
    const partial = `${target}.part`;
    let lastError: unknown = new InvalidInput('the provider returned no video URL');
    for (const url of urls) {
      try {
        if (url.startsWith('file:')) await moveFile(fileURLToPath(url), partial);
        else await this.#write(partial, await downloadVideo(url, limits));
        if ((await stat(partial)).size === 0) throw new InvalidInput('the video file is empty');
        await rename(partial, target);
        await this.#makePlayable(taskId, target, limits.timeoutMs);
        this.#usage = undefined;
        return `${taskId}.mp4`;
      } catch (error) {
        await rm(partial, { force: true });
        lastError = isDiskFull(error) ? new StorageFull('the video', { cause: error }) : error;
      }
    }
    throw lastError;
  }

  /** The files of one folder (missing folder: none). */
  async list(kind: keyof MediaUsage): Promise<MediaFile[]> {
    const dir = { videos: this.videosDir, images: this.imagesDir, uploads: this.uploadsDir }[kind];
    const names = await readdir(dir).catch(() => [] as string[]);
    const files = await Promise.all(
      names.map(async (name) => {
        const path = join(dir, name);
        const info = await stat(path).catch(() => undefined);
        return info?.isFile() ? { name, path, size: info.size, mtimeMs: info.mtimeMs } : undefined;
      }),
    );
    return files.filter((f) => f !== undefined);
  }

  /** Bytes kept per folder, recounted at most every 30 s (and after a sweep). */
  usage(now = Date.now()): Promise<MediaUsage> {
    if (!this.#usage || now - this.#usage.at > USAGE_CACHE_MS) {
      const total = async (kind: keyof MediaUsage) => (await this.list(kind)).reduce((n, f) => n + f.size, 0);
      const value = Promise.all([total('videos'), total('images'), total('uploads')]).then(
        ([videos, images, uploads]) => ({ videos, images, uploads }),
      );
      this.#usage = { at: now, value };
    }
    return this.#usage.value;
  }

  /** Forgets the counted usage, after files were removed. */
  recount(): void {
    this.#usage = undefined;
  }

  /** Keeps an image only when it decodes: a header can claim pixels the file does not have. */
  async #decodes(path: string): Promise<void> {
    try {
      await this.#opts.verify?.(path);
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
  }

  /** Writes all of `bytes` or nothing: a failed write removes what it left (a full disk leaves 0-byte files). */
  async #writeWhole(path: string, bytes: Uint8Array, what: string): Promise<void> {
    try {
      await this.#write(path, bytes);
    } catch (error) {
      await rm(path, { force: true });
      throw isDiskFull(error) ? new StorageFull(what, { cause: error }) : error;
    }
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

/** Renames, or copies and removes the source when it lies on another file system. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
    await rm(from, { force: true });
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
