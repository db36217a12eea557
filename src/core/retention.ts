/**
 * Retention keeps DATA_DIR from growing forever. A sweep — at start-up and then every hour — removes:
 * - re-hosted videos of tasks that finished more than `videoRetentionDays` ago (0 keeps them); the task remembers
 *   the removal, so its link answers 410 Gone instead of 404;
 * - images of final tasks after `retryWindowMs`: the time `retry` may start a failed or cancelled one again with
 *   its image, and "again" may make a new task from any finished one's image (issue 15);
 * - uploads older than `uploadTtlMs` (a task takes its own copy of an upload when it is made);
 * - files no task refers to (crashes between a write and its record, partial downloads), once older than
 *   `uploadTtlMs`, so a request writing its file just now is never disturbed.
 * A sweep never throws: a file or database error is logged and the rest of the sweep goes on.
 */
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { MediaStore } from './media.js';
import type { TaskStoreAsync } from './store/contract.js';

export interface RetentionOptions {
  /** Days a completed task's re-hosted video is kept; 0 keeps it forever. */
  videoRetentionDays: number;
  /** @defaultValue one hour */
  uploadTtlMs?: number;
  /** @defaultValue one day */
  retryWindowMs?: number;
  /** @defaultValue one hour */
  sweepIntervalMs?: number;
  now?: () => number;
}

export interface SweepResult {
  videos: number;
  images: number;
  uploads: number;
  strays: number;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Rows handled per database question, so one sweep over a long history never holds much in memory. */
const BATCH = 500;

export class Retention {
  readonly #store: TaskStoreAsync;
  readonly #media: MediaStore;
  readonly #log: Logger;
  readonly #videoRetentionMs: number;
  readonly #uploadTtlMs: number;
  readonly #retryWindowMs: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  #sweeping: Promise<SweepResult> | undefined;

  constructor(deps: { store: TaskStoreAsync; media: MediaStore; log: Logger }, options: RetentionOptions) {
    this.#store = deps.store;
    this.#media = deps.media;
    this.#log = deps.log;
    this.#videoRetentionMs = options.videoRetentionDays * DAY_MS;
    this.#uploadTtlMs = options.uploadTtlMs ?? HOUR_MS;
    this.#retryWindowMs = options.retryWindowMs ?? DAY_MS;
    this.#intervalMs = options.sweepIntervalMs ?? HOUR_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Sweeps now, then every interval; the timer does not keep the process alive. */
  start(): void {
    this.#stopped = false;
    void this.sweep().finally(() => this.#arm());
  }

  /** Stops the timer and waits for a sweep under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.sweep().finally(() => this.#arm()), this.#intervalMs);
    this.#timer.unref?.();
  }

  /** One sweep (a sweep already under way is joined, not doubled). */
  sweep(): Promise<SweepResult> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<SweepResult> {
    const result: SweepResult = { videos: 0, images: 0, uploads: 0, strays: 0 };
    const steps: [string, () => Promise<void>][] = [
      ['videos', () => this.#expireVideos(result)],
      ['images', () => this.#releaseImages(result)],
      ['files', () => this.#removeOldFiles(result)],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        this.#log.warn({ err }, `the retention sweep could not finish its ${what}; it tries again within the hour`);
      }
    }
    this.#media.recount();
    if (result.videos + result.images + result.uploads + result.strays > 0) {
      this.#log.info(result, 'retention sweep removed old media');
    }
    return result;
  }

  async #expireVideos(result: SweepResult): Promise<void> {
    if (this.#videoRetentionMs <= 0) return;
    const before = new Date(this.#now() - this.#videoRetentionMs).toISOString();
    for (let batch = await this.#store.keptVideosBefore(before, BATCH); batch.length > 0; ) {
      for (const { id, videoFile } of batch) {
        await this.#media.removeVideo(videoFile);
        await this.#store.markVideoRemoved(id);
        result.videos += 1;
      }
      batch = await this.#store.keptVideosBefore(before, BATCH);
    }
  }

  async #releaseImages(result: SweepResult): Promise<void> {
    const retryBefore = new Date(this.#now() - this.#retryWindowMs).toISOString();
    for (let batch = await this.#store.releasableImages(retryBefore, BATCH); batch.length > 0; ) {
      for (const { id, imagePath } of batch) {
        // Forget first: a retry that took the task meanwhile keeps its image.
        if (!(await this.#store.releaseImage(id, imagePath))) continue;
        await this.#media.removeImage(imagePath);
        result.images += 1;
      }
      batch = await this.#store.releasableImages(retryBefore, BATCH);
    }
  }

  /** Old uploads, and files of `images/` and `videos/` that no task refers to (left by a crash). */
  async #removeOldFiles(result: SweepResult): Promise<void> {
    const oldBefore = this.#now() - this.#uploadTtlMs;
    for (const file of await this.#media.list('uploads')) {
      if (file.mtimeMs >= oldBefore) continue;
      await this.#media.removeImage(file.path);
      result.uploads += 1;
    }
    // By name: a path stored while DATA_DIR was spelled differently (relative, say) still names the same file.
    const inUse = new Set([...(await this.#store.imagePathsInUse())].map((path) => basename(path)));
    for (const file of await this.#media.list('images')) {
      if (file.mtimeMs >= oldBefore || inUse.has(file.name)) continue;
      await this.#media.removeImage(file.path);
      result.strays += 1;
    }
    for (const file of await this.#media.list('videos')) {
      if (file.mtimeMs >= oldBefore || !file.name.endsWith('.part')) continue;
      await this.#media.removeVideo(file.name);
      result.strays += 1;
    }
  }
}
