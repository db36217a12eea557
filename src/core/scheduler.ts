/**
 * The Scheduler is the retry loop: it starts each task's upstream job, then looks at it `firstAttemptDelay` later
 * and every `retryInterval` after that, at most `maxAttempts` times, and moves the task to its next state.
 *
 * Guarantees, in the plain words of a job queue:
 * - One timer, set for the earliest due task of the provider, not one per task.
 * - A task is worked on only under a lease (compare-and-set in the store) that covers the step's worst case and
 *   is renewed between its sub-steps; every write of a step states the lease's fencing token, so a step whose
 *   lease was claimed again writes nothing (and cancels upstream the job it created for nothing).
 * - At start the leases of dead processes are released (`TaskStore.takeOverLeases`): their tasks are due at once,
 *   not when the lease would have lapsed. Interrupted starts are first offered to the provider's `recover`.
 * - The loop never dies: a database error (disk full, busy) is logged once, and the loop tries again with backoff.
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
import type { Metrics } from './metrics.js';
import { type Reason, reasonOf, withReason } from './reasons.js';
import type { DownloadOptions } from './safe-fetch.js';
import { recoverInterruptedStarts } from './start-recovery.js';
import type { TaskStoreAsync } from './store/contract.js';
import { type Stage, StaleTask } from './store.js';
import { isFinal, nextAttemptDelayMs, type RetryPolicy, type Task } from './task.js';

export interface SchedulerOptions {
  policy: RetryPolicy;
  /** A step (upload + start, or one look + download) that takes longer fails as a transient error. */
  attemptTimeoutMs: number;
  /** How many steps may run at once. */
  concurrency: number;
  videoDownload: Omit<DownloadOptions, 'what'>;
  /**
   * How often this process says it is alive (`TaskStore.heartbeat`) and takes over the leases of processes gone
   * silent (a shared store's owners time out after three missed beats). @defaultValue 15 000
   */
  heartbeatMs?: number;
  now?: () => number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** Added to every lease: the time a step needs around its upstream calls (database writes, a busy event loop). */
const LEASE_SLACK_MS = 5_000;
/** The loop's back-off after a database error: from the first to the longest wait. */
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

export class Scheduler {
  readonly #store: TaskStoreAsync;
  readonly #provider: VideoProvider;
  readonly #media: MediaStore;
  readonly #events: TaskEventBus;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #opts: SchedulerOptions;
  readonly #now: () => number;
  readonly #limiter: Bottleneck;
  readonly #running = new Set<Promise<void>>();
  /** Starts claimed and under way: not yet counted by `countRunning` (no upstream id yet), but holding a slot. */
  #starting = 0;
  #timer: NodeJS.Timeout | undefined;
  #kickPending: NodeJS.Immediate | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #stopped = true;
  /** False until the dead processes' leases were taken over (retried by the loop if the database refused). */
  #tookOver = false;
  #recovering: Promise<void> = Promise.resolve();
  /** The loop's current back-off after a database error; undefined while the database answers. */
  #backoffMs: number | undefined;
  /** The pass of the loop under way (claims never overlap), and whether another was asked for meanwhile. */
  #pass: Promise<void> | undefined;
  #passAgain = false;
  /** The tail of the claims: one at a time, so two never both count the same free room or slot. */
  #claiming: Promise<unknown> = Promise.resolve();

  constructor(
    deps: {
      store: TaskStoreAsync;
      provider: VideoProvider;
      media: MediaStore;
      events: TaskEventBus;
      log: Logger;
      /** Counts looks and upstream errors. */
      metrics?: Metrics;
    },
    options: SchedulerOptions,
  ) {
    this.#store = deps.store;
    this.#provider = deps.provider;
    this.#media = deps.media;
    this.#events = deps.events;
    this.#log = deps.log;
    this.#metrics = deps.metrics;
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

  /** How long a claimed look stays owned: its time limit plus the video download and some slack. */
  get leaseMs(): number {
    return this.#opts.attemptTimeoutMs + this.#opts.videoDownload.timeoutMs + LEASE_SLACK_MS;
  }

  /** How long a claimed start stays owned: an image upload and the start, each up to the time limit, and slack. */
  get startLeaseMs(): number {
    return 2 * this.#opts.attemptTimeoutMs + LEASE_SLACK_MS;
  }

  #leaseFor(stage: Stage): number {
    return stage === 'started' ? this.leaseMs : this.startLeaseMs;
  }

  /**
   * Takes over the leases of dead processes and starts the loop. Resolves once the starts they interrupted were
   * offered to the provider's `recover` (adopted, or left to be started again); never rejects.
   */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#heartbeat = setInterval(() => void this.#beat(), this.#opts.heartbeatMs ?? 15_000);
    this.#heartbeat.unref?.();
    this.kick();
    await this.#settled();
    await this.#recovering;
  }

  /** Stops taking work and waits for the steps under way; their leases are released by their own end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearImmediate(this.#kickPending);
    clearInterval(this.#heartbeat);
    await Promise.allSettled([this.#pass, this.#claiming]);
    await Promise.allSettled([...this.#running, this.#recovering]);
  }

  /**
   * Kicks once the current burst of events is handled: a burst of submits (500 Discord commands at once) then costs
   * one claim instead of one each, and their answers do not wait behind the claims.
   */
  kickSoon(): void {
    if (this.#kickPending || this.#stopped) return;
    this.#kickPending = setImmediate(() => {
      this.#kickPending = undefined;
      this.kick();
    });
  }

  /**
   * Looks for due work now (after a submit, a retry, or a freed slot) and re-arms the timer. Never throws: a
   * database error is logged once and the loop tries again after a growing pause, until the database answers.
   */
  kick(): void {
    if (this.#stopped) return;
    if (this.#pass) {
      this.#passAgain = true;
      return;
    }
    this.#pass = this.#onePass().finally(() => {
      this.#pass = undefined;
      if (!this.#passAgain) return;
      this.#passAgain = false;
      this.kick();
    });
  }

  /** Resolves once the loop's pass under way (if any) and those asked for meanwhile are over. */
  async #settled(): Promise<void> {
    while (this.#pass) await this.#pass;
  }

  async #onePass(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      if (!this.#tookOver) await this.#takeOver();
      await this.#claimAndRun();
      await this.#arm();
      if (this.#backoffMs !== undefined) this.#log.info('the scheduler reaches the database again');
      this.#backoffMs = undefined;
    } catch (err) {
      if (this.#backoffMs === undefined) {
        this.#log.error({ err }, 'the scheduler cannot use the database; it keeps trying with a growing pause');
      }
      this.#backoffMs = Math.min(
        BACKOFF_MAX_MS,
        this.#backoffMs === undefined ? BACKOFF_FIRST_MS : this.#backoffMs * 2,
      );
      this.#timer = setTimeout(() => this.kick(), this.#backoffMs);
      this.#timer.unref?.();
    }
  }

  /**
   * Runs the due step of one task now, if it can start (a step is free, and for a start a provider slot); resolves
   * when that step is over. Otherwise the loop takes it in turn: nothing is claimed to wait in a queue, where its
   * lease would run out before it even began.
   */
  async runNow(taskId: string): Promise<void> {
    if (this.#stopped || !this.#tookOver || this.#room() <= 0) return;
    const stage: Stage = (await this.#store.get(taskId))?.upstream ? 'started' : 'unstarted';
    const step = await this.#exclusively(async () => {
      if (this.#room() <= 0) return undefined;
      const max = this.#provider.maxRunning;
      const [task] = await this.#store.claimDue(this.#provider.name, stage, this.#leaseFor(stage), 1, taskId, max);
      // Wrapped: an async function returning the step's promise would hold the claims until the step is over.
      return task && { step: this.#run(task) };
    });
    await step?.step;
    this.kick();
  }

  /** Runs `claim` once the claims before it are over (see `#claiming`). */
  #exclusively<T>(claim: () => Promise<T>): Promise<T> {
    const result = this.#claiming.then(claim);
    this.#claiming = result.catch(() => undefined);
    return result;
  }

  /**
   * Releases the leases of the processes that are gone, so their tasks are due now. Unstarted tasks among them are
   * held for the provider's `recover` when it has one (their upstream job may exist unrecorded), then adopted or
   * released by `recoverInterruptedStarts`.
   */
  async #takeOver(): Promise<void> {
    const held = await this.#store.takeOverLeases({
      provider: this.#provider.name,
      holdUnstarted: !!this.#provider.recover,
      leaseMs: this.startLeaseMs,
    });
    this.#tookOver = true;
    if (!held.length) return;
    const earlier = this.#recovering;
    const deps = {
      store: this.#store,
      provider: this.#provider,
      events: this.#events,
      log: this.#log,
      startWindowMs: this.startLeaseMs,
      firstLookAt: () => this.#now() + nextAttemptDelayMs(this.policy, 0),
      now: this.#now,
      limit: <T>(work: Promise<T>) => this.#withTimeout(work),
    };
    const recovering = recoverInterruptedStarts(deps, held).finally(() => this.kick());
    this.#recovering = Promise.allSettled([earlier, recovering]).then(() => undefined);
  }

  /**
   * Says this process is alive, then lets the next pass take over the leases of the processes that are gone: with
   * a shared store, a process killed meanwhile leaves its tasks to the others within a few beats.
   */
  async #beat(): Promise<void> {
    // The loop reports database errors; a missed heartbeat only matters to a shared store.
    await this.#store.heartbeat().catch(() => undefined);
    this.#tookOver = false;
    this.kick();
  }

  async #hasFreeSlot(): Promise<boolean> {
    const max = this.#provider.maxRunning;
    return max === undefined || (await this.#runningJobs()) < max;
  }

  /** Upstream jobs started and unfinished, and the starts under way that will add to them. */
  async #runningJobs(): Promise<number> {
    return (await this.#store.countRunning(this.#provider.name)) + this.#starting;
  }

  /** Steps that may begin now: `concurrency` minus the steps claimed and not yet over. */
  #room(): number {
    return this.#opts.concurrency - this.#running.size;
  }

  /** Claims what there is room for, the longest-waiting first (see `TaskStore.claimOldestDue`), and runs it. */
  #claimAndRun(): Promise<void> {
    return this.#exclusively(async () => {
      const room = this.#room();
      if (room <= 0) return;
      // The provider's slots are counted by the store, under its lock, for every process sharing it.
      const max = this.#provider.maxRunning;
      const claimed = await this.#store.claimOldestDue(
        this.#provider.name,
        { limit: room, startLimit: room, ...(max !== undefined && { maxRunning: max }) },
        { started: this.leaseMs, unstarted: this.startLeaseMs },
      );
      for (const task of claimed) void this.#run(task).then(() => this.kick());
    });
  }

  /** Sets the timer for the next due task. With no room it sets none: the end of a step kicks the loop. */
  async #arm(): Promise<void> {
    if (this.#room() <= 0) return;
    const name = this.#provider.name;
    const candidates = [await this.#store.nextDueAt(name, 'started')];
    if (await this.#hasFreeSlot()) candidates.push(await this.#store.nextDueAt(name, 'unstarted'));
    if (this.#stopped || this.#room() <= 0) return;
    const at = Math.min(...candidates.filter((c): c is number => c !== undefined));
    if (!Number.isFinite(at)) return;
    const delay = Math.min(Math.max(at - this.#now(), 0), MAX_TIMER_MS);
    this.#timer = setTimeout(() => this.kick(), delay);
    this.#timer.unref?.();
  }

  #run(task: Task): Promise<void> {
    const starting = !task.upstream;
    if (starting) this.#starting++;
    const step = this.#limiter
      .schedule(() => (task.upstream ? this.#look(task) : this.#begin(task)))
      .catch((error: unknown) => this.#onStepError(task, error))
      .catch((err: unknown) => this.#log.error({ err, taskId: task.id }, "could not record a step's end"));
    this.#running.add(step);
    return step.finally(() => {
      this.#running.delete(step);
      if (starting) this.#starting--;
    });
  }

  /**
   * Uploads the image when there is one, then starts the upstream job. The lease is renewed (and checked) before
   * the start, so a step that lost its lease never starts a second job; a job whose reference cannot be written
   * (the task was cancelled, or claimed again meanwhile) is cancelled upstream.
   */
  async #begin(task: Task): Promise<void> {
    const token = task.leaseToken;
    let imageRef = task.imageRef;
    if (task.kind === 'i2v' && !imageRef) {
      const missing = () => withReason(new InvalidInput('the image of this task is missing'), 'IMAGE_MISSING');
      if (!task.imagePath) throw missing();
      const bytes = await readFile(task.imagePath).catch(() => {
        throw missing();
      });
      imageRef = await this.#withTimeout(
        this.#provider.uploadImage({ bytes, fileName: basename(task.imagePath), mime: mimeOf(task.imagePath) }),
      );
      await this.#store.update(task.id, { imageRef }, { token });
    }
    await this.#store.renewLease(task.id, token, this.#opts.attemptTimeoutMs + LEASE_SLACK_MS);
    const ref = await this.#withTimeout(
      this.#provider.start({
        prompt: task.prompt,
        image: imageRef ?? undefined,
        guest: task.guest,
        ...(task.options && { options: task.options }),
      }),
    );
    let started: Task;
    try {
      started = await this.#store.update(
        task.id,
        {
          upstream: ref,
          upstreamEnded: false,
          conversationId: ref.conversationId ?? task.conversationId,
          messageId: ref.messageId ?? task.messageId,
          sectionId: ref.sectionId ?? task.sectionId,
          nextAttemptAt: this.#now() + nextAttemptDelayMs(this.policy, 0),
          leaseUntil: null,
        },
        { status: 'pending', token },
      );
    } catch (error) {
      if (error instanceof StaleTask) await this.#cancelOrphan(task, ref, error);
      throw error;
    }
    this.#events.emit('started', started);
  }

  /** A job was started for a task that no longer wants it: cancels it upstream when the provider can. */
  async #cancelOrphan(task: Task, ref: UpstreamRef, why: Error): Promise<void> {
    const context = { taskId: task.id, upstreamId: ref.id, why: why.message };
    if (!this.#provider.cancel) {
      this.#log.warn(context, 'an upstream job was started for a task that no longer wants it; it cannot be cancelled');
      return;
    }
    try {
      await this.#withTimeout(this.#provider.cancel(ref));
      this.#log.info(context, 'cancelled upstream a job started for a task that no longer wants it');
    } catch (err) {
      this.#log.warn({ ...context, err }, 'could not cancel upstream a job started for a task that no longer wants it');
    }
  }

  /** One look at the upstream job: done → re-host the video; not yet → next look, or fail when out of attempts. */
  async #look(task: Task): Promise<void> {
    const attempts = task.attempts + 1;
    const looking = await this.#store.update(
      task.id,
      { status: 'processing', attempts },
      { status: task.status, token: task.leaseToken },
    );
    this.#metrics?.look(this.#provider.name);
    const result = await this.#withTimeout(this.#provider.poll(task.upstream!));
    if (result.state === 'failed') this.#metrics?.jobFailed(this.#provider.name);
    if (result.state === 'succeeded') {
      // The download, then a conversion to H.264 bounded by the same limit (see MediaStore.rehostVideo).
      await this.#store.renewLease(task.id, task.leaseToken, 2 * this.#opts.videoDownload.timeoutMs + LEASE_SLACK_MS);
      await this.#complete(looking, result.videoUrls);
    } else if (result.state === 'failed' && result.ended) {
      await this.#finish(looking, 'failed', {
        error: result.reason,
        errorReason: upstreamReason(result, false),
        upstreamEnded: true,
      });
    } else if (result.state === 'failed') {
      await this.#failedAttempt(looking, result.reason, result.retryable, upstreamReason(result, result.retryable));
    } else if (attempts >= task.maxAttempts) {
      // A transient error of an earlier look (a full disk, say) is the likelier reason: say it.
      const last = task.error ? `; the last error was: ${task.error}` : '';
      await this.#finish(looking, 'failed', {
        error: `video not ready after ${attempts} attempts${last}`,
        errorReason: { code: 'NOT_READY', params: { attempts } },
      });
    } else {
      await this.#nextLook(looking, null, result.progress);
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
      if (error instanceof UpstreamError) this.#metrics?.upstreamError(this.#provider.name, error);
      const reason = error instanceof Error ? error.message : String(error);
      const mayWorkLater = isDiskFull(error) || (error instanceof UpstreamError && error.retryable);
      if (urls.length === 0 || (mayWorkLater && task.attempts < task.maxAttempts)) {
        await this.#failedAttempt(task, reason, mayWorkLater, reasonOf(error));
        return;
      }
      this.#log.warn({ taskId: task.id, reason }, 'could not re-host a finished video; handing out its upstream link');
      note = `the video could not be copied to this server (${reason.replace(/[.;]\s*$/, '')}), so its link is the provider's and may expire`;
    }
    await this.#finish(task, 'completed', { videoUrls: urls, videoFile, error: note, progress: 1 });
  }

  /**
   * An attempt (`task.attempts` counts it) ended in an error: a permanent one fails the task now; a transient one
   * costs the attempt, and the task fails with that reason once no attempt is left.
   */
  async #failedAttempt(task: Task, reason: string, retryable: boolean, why?: Reason): Promise<void> {
    const { attempts } = task;
    const errorReason = why ?? { code: retryable ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_REFUSED', params: {} };
    if (!retryable) await this.#finish(task, 'failed', { attempts, error: reason, errorReason });
    else if (attempts >= task.maxAttempts) {
      const error = `${reason} (gave up after ${attempts} attempts)`;
      await this.#finish(task, 'failed', { attempts, error, errorReason });
    } else await this.#nextLook(task, reason);
  }

  async #nextLook(task: Task, error: string | null, progress?: number): Promise<void> {
    const updated = await this.#store.update(
      task.id,
      {
        attempts: task.attempts,
        nextAttemptAt: this.#now() + nextAttemptDelayMs(this.policy, task.attempts),
        leaseUntil: null,
        error,
        progress: progress ?? task.progress,
      },
      { status: task.status, token: task.leaseToken },
    );
    this.#events.emit('progress', updated);
  }

  async #finish(task: Task, status: 'completed' | 'failed', patch: Partial<Task>): Promise<void> {
    // A final task keeps its image for a while (see Retention): `retry` may start a failed one again, and "again"
    // (issue 15) makes a new task from a finished one's image.
    const done = await this.#store.update(
      task.id,
      { ...patch, status, nextAttemptAt: null, leaseUntil: null },
      { status: task.status, token: task.leaseToken },
    );
    if (status === 'failed' && task.upstream) this.#abandon(task.upstream);
    this.#events.emit(status, done);
  }

  /** Tells the provider nobody waits for a job any more, so it stops spending on it (a local render). */
  #abandon(ref: UpstreamRef): void {
    this.#provider.abandon?.(ref).catch((err: unknown) => {
      this.#log.warn({ err, upstreamId: ref.id }, 'could not stop an abandoned upstream job');
    });
  }

  /**
   * A step threw: it counts as a failed attempt (see `#failedAttempt`). A step refused because the task was
   * cancelled, retried or claimed again meanwhile lets its lease go (if still its own) and writes nothing else.
   */
  async #onStepError(task: Task, error: unknown): Promise<void> {
    if (error instanceof StaleTask) {
      await this.#release(task);
      return;
    }
    if (error instanceof UpstreamError) this.#metrics?.upstreamError(this.#provider.name, error);
    if (!(error instanceof UpstreamError || error instanceof InvalidInput)) {
      this.#log.error({ err: error, taskId: task.id }, 'unexpected error in a scheduler step');
    }
    const permanent = error instanceof InvalidInput || (error instanceof UpstreamError && !error.retryable);
    const reason = error instanceof Error ? error.message : String(error);
    try {
      const current = await this.#store.get(task.id);
      if (!current || current.leaseToken !== task.leaseToken || current.leaseUntil === null) return;
      if (isFinal(current.status)) {
        await this.#release(task);
        return;
      }
      // A failed start costs an attempt too; a failed look has already counted its own.
      const attempts = current.attempts > task.attempts ? current.attempts : current.attempts + 1;
      await this.#failedAttempt({ ...current, attempts }, reason, !permanent, reasonOf(error));
    } catch (inner) {
      if (!(inner instanceof StaleTask)) this.#log.error({ err: inner, taskId: task.id }, 'could not record a failure');
    }
  }

  async #release(task: Task): Promise<void> {
    try {
      await this.#store.releaseLease(task.id, task.leaseToken);
    } catch (err) {
      this.#log.error({ err, taskId: task.id }, 'could not release a lease; it will lapse');
    }
  }

  #withTimeout<T>(work: Promise<T>): Promise<T> {
    const ms = this.#opts.attemptTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            withReason(
              new UpstreamError(`the upstream did not answer within ${ms / 1000} s`, true, { upstreamCode: 'timeout' }),
              'UPSTREAM_TIMEOUT',
              { seconds: ms / 1000 },
            ),
          ),
        ms,
      );
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

/**
 * A provider's failed look as a reason users are shown: its own code when it gave one (an expired session), else
 * refused (for good) or unavailable (after the last try); a refusal keeps the provider's words as `detail`.
 */
function upstreamReason(result: { reason: string; reasonCode?: Reason['code'] }, retryable: boolean): Reason {
  if (result.reasonCode) return { code: result.reasonCode, params: {} };
  return retryable
    ? { code: 'UPSTREAM_UNAVAILABLE', params: {} }
    : { code: 'UPSTREAM_REFUSED', params: { detail: result.reason } };
}

function mimeOf(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1);
  return ext === 'jpg' ? 'image/jpeg' : `image/${ext}`;
}
