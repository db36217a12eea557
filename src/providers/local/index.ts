/**
 * The `local` provider: the offline default, honestly labelled "local preview, no AI". It renders a real MP4
 * with ffmpeg (see render.ts) so the whole product — scheduler, bots, API, re-hosting — runs with no network and
 * no account. `renderDelayS` keeps a video "not ready" for a while, to imitate a slow upstream.
 * A render takes about a second, so the local provider brings its own timing (a first look after a few seconds,
 * then frequent looks) and is queue-aware: at most `concurrency` jobs are started at once (`maxRunning`), so a
 * task waiting for the renderer waits in `pending` and spends no attempts.
 * A finished video's `file:` URL hands the file over to the core, which moves it into its media store (one copy
 * per video). A render or upload that failed for lack of disk space is a transient failure: it is tried again.
 * It honours every ratio and duration a task may ask for (render.ts's `shapeFor`); it has no resolution choice.
 * Several processes may share DATA_DIR (issue 16), and any of them may look at a job: a render is claimed through
 * a lock file (render-lock.ts), so each job is rendered once; the others answer "running" until the video is there.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Bottleneck from 'bottleneck';
import { RunFailed } from '../../core/child-process.js';
import { isDiskFull, UpstreamError } from '../../core/errors.js';
import { decodeFirstFrame } from '../../core/image-decode.js';
import { DURATIONS_S, RATIOS, type VideoCapabilities, type VideoOptions } from '../../core/options.js';
import type {
  ImageInput,
  ImageRef,
  PollResult,
  PollTiming,
  StartRequest,
  UpstreamRef,
  VideoProvider,
} from '../provider.js';
import { type CaptionFont, captionFilter, captionText, findCaptionFont } from './caption.js';
import { imageScene, renderVideo, type Shape, sceneSize, shapeFor, textScene } from './render.js';
import { claimRender, DEFAULT_LOCK_TIMING } from './render-lock.js';

/** Every ratio and duration; the preview has one quality, so no resolution. */
export const LOCAL_CAPABILITIES: VideoCapabilities = { ratios: RATIOS, durationsS: DURATIONS_S, resolutions: [] };

export interface LocalProviderOptions {
  /** Where uploads and renders are kept (DATA_DIR/local). */
  workDir: string;
  ffmpegPath: string;
  /** Seconds after the start before a video counts as ready. @defaultValue 0 */
  renderDelayS?: number;
  /** Renders at once; ffmpeg uses about one core each. @defaultValue 1 */
  concurrency?: number;
  /** How long one render may take before its ffmpeg is stopped. @defaultValue 120 000 */
  renderTimeoutMs?: number;
  /** The font of the text-to-video caption (caption.ts); absent → the best one installed, null → no caption. */
  captionFont?: CaptionFont | null;
  /** How often a render's lock file is touched while it is queued or runs. @defaultValue 2 000 */
  lockRefreshMs?: number;
  /** How long an untouched lock still counts as held; then its process is taken for dead. @defaultValue 10 000 */
  lockStaleMs?: number;
  /** When the scheduler looks at a render (see `localTiming`); absent → the configured seed timing. */
  timing?: PollTiming;
  now?: () => number;
}

/**
 * The local provider's timing: the first look after `firstCheckS`, then one every `pollIntervalS`, with enough
 * looks to cover `renderDelayS` and a render slowed down by a busy machine (a render's own limit is RENDER_TIMEOUT_MS, 120 s).
 */
export function localTiming(o: { firstCheckS: number; pollIntervalS: number; renderDelayS: number }): PollTiming {
  const coveredS = o.renderDelayS + 180;
  return {
    firstAttemptDelayS: o.firstCheckS,
    retryIntervalS: o.pollIntervalS,
    maxAttempts: Math.max(5, Math.ceil(coveredS / Math.max(o.pollIntervalS, 0.5))),
  };
}

interface LocalRef extends UpstreamRef {
  prompt: string;
  imagePath?: string;
  startedAt: number;
  /** The task's ratio and duration, kept in the ref so a render after a restart has them too. */
  options?: VideoOptions;
}

/**
 * How one render runs: its length, stopped when `signal` aborts or after `timeoutMs` (render.ts's default when
 * absent).
 */
interface RenderRun {
  signal: AbortSignal;
  timeoutMs?: number;
  seconds: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createLocalProvider(options: LocalProviderOptions): VideoProvider {
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 1;
  const limiter = new Bottleneck({ maxConcurrent: concurrency });
  const renders = new Map<string, { done: Promise<void>; stop: AbortController }>();
  const failures = new Map<string, { reason: string; retryable: boolean }>();
  const videoPath = (id: string) => join(options.workDir, 'videos', `${id}.mp4`);
  const lockPath = (id: string) => join(options.workDir, 'videos', `${id}.lock`);
  const lockTiming = {
    refreshMs: options.lockRefreshMs ?? DEFAULT_LOCK_TIMING.refreshMs,
    staleMs: options.lockStaleMs ?? DEFAULT_LOCK_TIMING.staleMs,
  };
  /** Our job ids are UUIDs; any other id (an imported task's, say) must never become a path. */
  const isOurs = (id: unknown) => typeof id === 'string' && UUID.test(id);
  /** Aborted by `close`: stops every ffmpeg still running and every render still queued. */
  const shutdown = new AbortController();
  const font = options.captionFont === undefined ? findCaptionFont() : options.captionFont;

  /**
   * Renders one job. An image is first decoded once into a PNG of its first frame, at most 1920 pixels a side:
   * the zoom then loops over that small, known-good file, never over the upload itself (a GIF has no `-loop`
   * option, a huge image would be decoded for every frame, and one without pixel data made ffmpeg spin).
   * Its helper files are named per render, so a second render of the job elsewhere never removes them.
   */
  async function renderJob(ref: LocalRef, signal: AbortSignal): Promise<void> {
    const shape = shapeFor(ref.options);
    const run: RenderRun = {
      signal,
      seconds: shape.seconds,
      ...(options.renderTimeoutMs && { timeoutMs: options.renderTimeoutMs }),
    };
    if (!ref.imagePath) return renderText(ref, shape, run);
    const frame = join(options.workDir, 'frames', `${ref.id}.${randomUUID()}.png`);
    try {
      const bytes = await decodeFirstFrame(options.ffmpegPath, ref.imagePath, { maxSide: 1920, signal });
      await mkdir(dirname(frame), { recursive: true });
      await writeFile(frame, bytes);
      await renderVideo(options.ffmpegPath, imageScene(frame, shape), videoPath(ref.id), run);
    } finally {
      await rm(frame, { force: true });
    }
  }

  /**
   * Renders a text-to-video with its caption; a caption that ffmpeg cannot draw never fails it: no caption then.
   * A render that was stopped (cancelled, shut down, out of time) or ran out of disk is not tried again without
   * the caption: that one would fare no better, and a timed-out retry would double the time the job may take.
   */
  async function renderText(ref: LocalRef, shape: Shape, run: RenderRun): Promise<void> {
    const plain = () =>
      renderVideo(options.ffmpegPath, textScene(ref.prompt, undefined, shape), videoPath(ref.id), run);
    if (!font) return plain();
    const textFile = join(options.workDir, 'captions', `${ref.id}.${randomUUID()}.txt`);
    const captioned = await mkdir(dirname(textFile), { recursive: true })
      .then(() => writeFile(textFile, captionText(ref.prompt, font, sceneSize(shape).width)))
      .then(
        () => true,
        () => false, // no room for the caption (a full disk): the render says why, if it fails too
      );
    if (!captioned) return plain();
    try {
      await renderVideo(
        options.ffmpegPath,
        textScene(ref.prompt, captionFilter(font, textFile), shape),
        videoPath(ref.id),
        run,
      );
    } catch (error) {
      if (isDiskFull(error) || run.signal.aborted || (error instanceof RunFailed && error.killed)) throw error;
      await plain();
    } finally {
      await rm(textFile, { force: true });
    }
  }

  /**
   * Starts (or, after a restart, restarts) the render of a job; idempotent while one runs. The render is claimed
   * first, before it waits for a renderer, so that a job queued here is not rendered by another process too; when
   * another process holds the claim, nothing is done: that one renders, and a later look finds its video (or, when
   * it died, takes the render over).
   */
  function render(ref: LocalRef): void {
    if (renders.has(ref.id)) return;
    const stop = new AbortController();
    const signal = AbortSignal.any([shutdown.signal, stop.signal]);
    const claimedRender = async () => {
      const lock = await claimRender(lockPath(ref.id), lockTiming);
      if (!lock) return;
      try {
        // Finished elsewhere between the caller's look and our claim: nothing left to do.
        if (existsSync(videoPath(ref.id))) return;
        await limiter.schedule(() => renderJob(ref, signal));
      } finally {
        await lock.release();
      }
    };
    const done = claimedRender()
      .catch((error: Error & { stderr?: string }) => {
        if (signal.aborted) return; // stopped on purpose: nobody waits for this video
        const retryable = isDiskFull(error);
        const detail = (error.stderr || error.message).trim().split('\n').pop();
        const reason = retryable
          ? 'the local renderer could not write the video: the disk is full (no space left on device)'
          : `the local renderer failed: ${detail}`;
        failures.set(ref.id, { reason, retryable });
      })
      .finally(() => renders.delete(ref.id));
    renders.set(ref.id, { done, stop });
  }

  /** Stops a job's render, running or queued; its ffmpeg group gets SIGTERM now, SIGKILL after the grace. */
  function stopRender(id: string): void {
    renders.get(id)?.stop.abort();
  }

  return {
    name: 'local',
    ...(options.timing && { timing: options.timing }),
    maxRunning: concurrency,
    capabilities: LOCAL_CAPABILITIES,

    async uploadImage(image: ImageInput): Promise<ImageRef> {
      const dir = join(options.workDir, 'images');
      await mkdir(dir, { recursive: true });
      const ext = image.fileName.includes('.') ? image.fileName.slice(image.fileName.lastIndexOf('.')) : '.img';
      const path = join(dir, `${randomUUID()}${ext}`);
      await writeFile(path, image.bytes).catch(async (error: unknown) => {
        await rm(path, { force: true });
        if (!isDiskFull(error)) throw error;
        throw new UpstreamError('the local provider could not keep the image: the disk is full', true, {
          cause: error,
        });
      });
      return { path, name: image.fileName, mime: image.mime };
    },

    async start(req: StartRequest): Promise<UpstreamRef> {
      const imagePath = typeof req.image?.path === 'string' ? req.image.path : undefined;
      const ref: LocalRef = {
        id: randomUUID(),
        prompt: req.prompt,
        startedAt: now(),
        ...(imagePath && { imagePath }),
        ...(req.options && { options: req.options }),
      };
      render(ref);
      return ref;
    },

    async poll(upstream: UpstreamRef): Promise<PollResult> {
      const ref = upstream as LocalRef;
      if (!isOurs(ref.id)) return { state: 'failed', reason: 'not a job of the local renderer', retryable: false };
      const failure = failures.get(ref.id);
      if (failure) {
        if (failure.retryable) {
          // Render again now; this look reports why the last render failed.
          failures.delete(ref.id);
          render(ref);
        }
        return { state: 'failed', ...failure };
      }
      const file = videoPath(ref.id);
      if (!existsSync(file)) {
        render(ref); // after a restart the render in memory is gone: do it again
        return { state: 'running' };
      }
      const waitedS = (now() - ref.startedAt) / 1000;
      const delayS = options.renderDelayS ?? 0;
      if (waitedS < delayS) return { state: 'running', progress: waitedS / delayS };
      return { state: 'succeeded', videoUrls: [pathToFileURL(file).href] };
    },

    /** A cancelled job renders no more (a retry of its task starts a new one). */
    async cancel(upstream: UpstreamRef): Promise<void> {
      stopRender(upstream.id);
    },

    /** The core gave up waiting (the task failed for good): stop rendering; a retry's look renders again. */
    async abandon(upstream: UpstreamRef): Promise<void> {
      stopRender(upstream.id);
    },

    async close(): Promise<void> {
      shutdown.abort();
      await Promise.allSettled([...renders.values()].map((r) => r.done));
    },
  };
}
