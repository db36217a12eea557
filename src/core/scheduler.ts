/**
 * The Scheduler is the retry loop: it starts each task's upstream job, then looks at it `firstAttemptDelay` later
 * and every `retryInterval` after that, at most `maxAttempts` times, and moves the task to its next state.
 *
 * Guarantees, in the plain words of a job queue:
 * - One timer, set for the earliest due task of the provider, not one per task.
 * - A task is worked on only under a lease (compare-and-set in the store). A worker that dies leaves the lease to
 *   lapse, and the task is due again: after a crash nothing is lost, and nothing stays `processing` for good.
 * - A permanent upstream error fails the task at once with its reason; a transient one (timeout, 5xx, rate limit)
 *   costs one attempt.
 * - At most `concurrency` steps run at once (bottleneck), and at most `provider.maxRunning` upstream jobs are
 *   started and unfinished; further tasks wait in `pending`.
 * - `stop()` stops taking work and waits for the steps under way.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import Bottleneck from 'bottleneck';
import type { Logger } from 'pino';
import type { UpstreamRef, VideoProvider } from '../providers/provider.js';
import { InvalidInput, isDiskFull, UpstreamError } from './errors.js';
import type { TaskEventBus } from './events.js';
import type { MediaStore } from './media.js';
import type { DownloadOptions } from './safe-fetch.js';
import { type Stage, StaleTask, type TaskStore } from './store.js';
import { nextAttemptDelayMs, type RetryPolicy, type Task } from './task.js';

export interface SchedulerOptions {
  policy: RetryPolicy;
  /** A step (upload + start, or one look + download) that takes longer fails as a transient error. */
  attemptTimeoutMs: number;
  /** How many steps may run at once. */
  concurrency: number;
  videoDownload: Omit<DownloadOptions, 'what'>;
  now?: () => number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class Scheduler {
  readonly #store: TaskStore;
  readonly #provider: VideoProvider;
  readonly #media: MediaStore;
  readonly #events: TaskEventBus;
  readonly #log: Logger;
  readonly #opts: SchedulerOptions;
  readonly #now: () => number;
  readonly #limiter: Bottleneck;
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(
    deps: { store: TaskStore; provider: VideoProvider; media: MediaStore; events: TaskEventBus; log: Logger },
    options: SchedulerOptions,
  ) {
    this.#store = deps.store;
    this.#provider = deps.provider;
    this.#media = deps.media;
    this.#events = deps.events;
    this.#log = deps.log;
    this.#opts = options;
    this.#now = options.now ?? Date.now;
    this.#limiter = new Bottleneck({ maxConcurrent: options.concurrency });
  }

  /** The policy in force for this provider: its own timing when it has one, else the configured one. */
  get policy(): RetryPolicy {
    const t = this.#provider.timing;
    return t
      ? {
          ...this.#opts.policy,
          firstAttemptDelayMs: t.firstAttemptDelayS * 1000,
          retryIntervalMs: t.retryIntervalS * 1000,
          maxAttempts: t.maxAttempts ?? this.#opts.policy.maxAttempts,
        }
      : this.#opts.policy;
  }

  /** How long a claimed task stays owned: a step's time limit plus the video download and some slack. */
  get leaseMs(): number {
    return this.#opts.attemptTimeoutMs + this.#opts.videoDownload.timeoutMs + 5_000;
  }

  start(): void {
    this.#stopped = false;
    this.kick();
  }

  /**
   * Asks the provider (when it can tell) for upstream jobs of starts the previous process did not live to record,
   * and adopts them instead of starting those tasks again. Runs before `start`, so every lease on an unstarted
   * task is a dead process's. Failing to ask is logged and leaves the tasks to be started as usual.
   */
  async recover(): Promise<void> {
    const provider = this.#provider;
    const tasks = provider.recover ? this.#store.interruptedStarts(provider.name) : [];
    if (!provider.recover || tasks.length === 0) return;
    const interrupted = tasks.map((t) => {
      const claimedAt = t.leaseUntil! - this.leaseMs;
      return { taskId: t.id, kind: t.kind, from: claimedAt, until: claimedAt + this.#opts.attemptTimeoutMs };
    });
    let found: Map<string, UpstreamRef>;
    try {
      found = await provider.recover(interrupted, (id) => !!this.#store.findByUpstreamId(provider.name, id));
    } catch (err) {
      this.#log.warn({ err, tasks: tasks.length }, 'could not look for upstream jobs of interrupted starts');
      return;
    }
    for (const task of tasks) {
      const ref = found.get(task.id);
      if (!ref) continue;
      const adopted = this.#store.update(
        task.id,
        { upstream: ref, nextAttemptAt: this.#now() + nextAttemptDelayMs(this.policy, 0), leaseUntil: null },
        { status: task.status },
      );
      this.#log.info({ taskId: task.id, upstreamId: ref.id }, 'adopted the upstream job of an interrupted start');
      this.#events.emit('started', adopted);
    }
  }

  /** Stops taking work and waits for the steps under way; their leases are released by their own end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.allSettled([...this.#running]);
  }

  /** Looks for due work now (after a submit, a retry, or a freed slot) and re-arms the timer. */
  kick(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#claimAndRun();
    this.#arm();
  }

  /** Runs the due step of one task now, if it can start; resolves when that step is over. */
  async runNow(taskId: string): Promise<void> {
    if (this.#stopped) return;
    const stage: Stage = this.#store.get(taskId)?.upstream ? 'started' : 'unstarted';
    if (stage === 'unstarted' && !this.#hasFreeSlot()) return;
    const [task] = this.#store.claimDue(this.#provider.name, stage, this.leaseMs, 1, taskId);
    if (task) await this.#run(task);
    this.kick();
  }

  #hasFreeSlot(): boolean {
    const max = this.#provider.maxRunning;
    return max === undefined || this.#store.countRunning(this.#provider.name) < max;
  }

  #claimAndRun(): void {
    const counts = this.#limiter.counts();
    let room = this.#opts.concurrency - counts.RUNNING - counts.EXECUTING - counts.QUEUED - counts.RECEIVED;
    if (room <= 0) return;
    const claimed = this.#store.claimDue(this.#provider.name, 'started', this.leaseMs, room);
    room -= claimed.length;
    const max = this.#provider.maxRunning;
    if (room > 0) {
      const free = max === undefined ? room : Math.min(room, max - this.#store.countRunning(this.#provider.name));
      if (free > 0) claimed.push(...this.#store.claimDue(this.#provider.name, 'unstarted', this.leaseMs, free));
    }
    for (const task of claimed) void this.#run(task).then(() => this.kick());
  }

  #arm(): void {
    const name = this.#provider.name;
    const candidates = [this.#store.nextDueAt(name, 'started')];
    if (this.#hasFreeSlot()) candidates.push(this.#store.nextDueAt(name, 'unstarted'));
    const at = Math.min(...candidates.filter((c): c is number => c !== undefined));
    if (!Number.isFinite(at)) return;
    const delay = Math.min(Math.max(at - this.#now(), 0), MAX_TIMER_MS);
    this.#timer = setTimeout(() => this.kick(), delay);
    this.#timer.unref?.();
  }

  #run(task: Task): Promise<void> {
    const step = this.#limiter
      .schedule(() => (task.upstream ? this.#look(task) : this.#begin(task)))
      .catch((error: unknown) => this.#onStepError(task, error));
    this.#running.add(step);
    return step.finally(() => this.#running.delete(step));
  }

  /** Uploads the image when there is one, then starts the upstream job. */
  async #begin(task: Task): Promise<void> {
    let imageRef = task.imageRef;
    if (task.kind === 'i2v' && !imageRef) {
      if (!task.imagePath) throw new InvalidInput('the image of this task is missing');
      const bytes = await readFile(task.imagePath).catch(() => {
        throw new InvalidInput('the image of this task is missing');
      });
      imageRef = await this.#withTimeout(
        this.#provider.uploadImage({ bytes, fileName: basename(task.imagePath), mime: mimeOf(task.imagePath) }),
      );
      this.#store.update(task.id, { imageRef });
    }
    const ref = await this.#withTimeout(
      this.#provider.start({ prompt: task.prompt, image: imageRef ?? undefined, guest: task.guest }),
    );
    const started = this.#store.update(
      task.id,
      {
        upstream: ref,
        conversationId: ref.conversationId ?? task.conversationId,
        messageId: ref.messageId ?? task.messageId,
        sectionId: ref.sectionId ?? task.sectionId,
        nextAttemptAt: this.#now() + nextAttemptDelayMs(this.policy, 0),
        leaseUntil: null,
      },
      { status: 'pending' },
    );
    this.#events.emit('started', started);
  }

  /** One look at the upstream job: done → re-host the video; not yet → next look, or fail when out of attempts. */
  async #look(task: Task): Promise<void> {
    const attempts = task.attempts + 1;
    const looking = this.#store.update(task.id, { status: 'processing', attempts }, { status: task.status });
    const result = await this.#withTimeout(this.#provider.poll(task.upstream!));
    if (result.state === 'succeeded') {
      await this.#complete(looking, result.videoUrls);
    } else if (result.state === 'failed') {
      this.#failedAttempt(looking, result.reason, result.retryable);
    } else if (attempts >= task.maxAttempts) {
      // A transient error of an earlier look (a full disk, say) is the likelier reason: say it.
      const last = task.error ? `; the last error was: ${task.error}` : '';
      this.#finish(looking, 'failed', { error: `video not ready after ${attempts} attempts${last}` });
    } else {
      this.#nextLook(looking, null, result.progress);
    }
  }

  /**
   * Re-hosts a finished video and completes the task. A video that cannot be re-hosted still completes it with
   * the upstream link (and a note saying so) once copying cannot work (too large, refused) or no attempt is left;
   * a copy that may work later (disk full, timeout) costs the attempt instead. Only a video with no link to hand
   * out fails the task.
   */
  async #complete(task: Task, videoUrls: string[]): Promise<void> {
    const urls = videoUrls.filter((u) => !u.startsWith('file:'));
    let videoFile: string | null = null;
    let note: string | null = null;
    try {
      videoFile = await this.#media.rehostVideo(task.id, videoUrls, { ...this.#opts.videoDownload });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const mayWorkLater = isDiskFull(error) || (error instanceof UpstreamError && error.retryable);
      if (urls.length === 0 || (mayWorkLater && task.attempts < task.maxAttempts)) {
        this.#failedAttempt(task, reason, mayWorkLater);
        return;
      }
      this.#log.warn({ taskId: task.id, reason }, 'could not re-host a finished video; handing out its upstream link');
      note = `the video could not be copied to this server (${reason.replace(/[.;]\s*$/, '')}), so its link is the provider's and may expire`;
    }
    this.#finish(task, 'completed', { videoUrls: urls, videoFile, error: note, progress: 1 });
  }

  /**
   * An attempt (`task.attempts` counts it) ended in an error: a permanent one fails the task now; a transient one
   * costs the attempt, and the task fails with that reason once no attempt is left.
   */
  #failedAttempt(task: Task, reason: string, retryable: boolean): void {
    const { attempts } = task;
    if (!retryable) this.#finish(task, 'failed', { attempts, error: reason });
    else if (attempts >= task.maxAttempts) {
      this.#finish(task, 'failed', { attempts, error: `${reason} (gave up after ${attempts} attempts)` });
    } else this.#nextLook(task, reason);
  }

  #nextLook(task: Task, error: string | null, progress?: number): void {
    const updated = this.#store.update(
      task.id,
      {
        attempts: task.attempts,
        nextAttemptAt: this.#now() + nextAttemptDelayMs(this.policy, task.attempts),
        leaseUntil: null,
        error,
        progress: progress ?? task.progress,
      },
      { status: task.status },
    );
    this.#events.emit('progress', updated);
  }

  #finish(task: Task, status: 'completed' | 'failed', patch: Partial<Task>): void {
    // A failed task keeps its image for a while (see Retention) so that `retry` can start it again.
    const release = status === 'completed' ? task.imagePath : null;
    const done = this.#store.update(
      task.id,
      { ...patch, status, nextAttemptAt: null, leaseUntil: null, ...(release && { imagePath: null }) },
      { status: task.status },
    );
    if (release) void this.#media.removeImage(release);
    this.#events.emit(status, done);
  }

  /** A step threw: it counts as a failed attempt (see `#failedAttempt`). */
  #onStepError(task: Task, error: unknown): void {
    if (error instanceof StaleTask) return; // cancelled or changed meanwhile: its new state stands
    if (!(error instanceof UpstreamError || error instanceof InvalidInput)) {
      this.#log.error({ err: error, taskId: task.id }, 'unexpected error in a scheduler step');
    }
    const permanent = error instanceof InvalidInput || (error instanceof UpstreamError && !error.retryable);
    const reason = error instanceof Error ? error.message : String(error);
    try {
      const current = this.#store.get(task.id);
      if (!current || current.leaseUntil === null || current.status === 'completed') return;
      // A failed start costs an attempt too; a failed look has already counted its own.
      const attempts = current.attempts > task.attempts ? current.attempts : current.attempts + 1;
      this.#failedAttempt({ ...current, attempts }, reason, !permanent);
    } catch (inner) {
      if (!(inner instanceof StaleTask)) this.#log.error({ err: inner, taskId: task.id }, 'could not record a failure');
    }
  }

  #withTimeout<T>(work: Promise<T>): Promise<T> {
    const ms = this.#opts.attemptTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new UpstreamError(`the upstream did not answer within ${ms / 1000} s`, true)),
        ms,
      );
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

function mimeOf(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1);
  return ext === 'jpg' ? 'image/jpeg' : `image/${ext}`;
}
