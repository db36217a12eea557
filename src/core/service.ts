/**
 * GenerationService is what every adapter talks to: it accepts requests for videos (`submit`), answers questions
 * about them (`get`, `list`, `stats`), lets owners and admins `cancel` and `retry`, and emits a typed event on
 * every state change. It checks input and per-user limits; the Scheduler does the upstream work.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { VideoProvider } from '../providers/provider.js';
import type { Delivery } from './delivery.js';
import { Conflict, InvalidInput, isDiskFull, NotFound, StorageFull } from './errors.js';
import type { TaskEventBus, TaskEventName, TaskEvents } from './events.js';
import type { ImageLimits, MediaStore, MediaUsage, StoredImage } from './media.js';
import { checkOptions, NO_CAPABILITIES, sameOptions, type VideoCapabilities, type VideoOptions } from './options.js';
import type { PromptBlocklist } from './prompt-blocklist.js';
import { withReason } from './reasons.js';
import type { Scheduler } from './scheduler.js';
import type { NewTask, QuotaReads, TaskStoreAsync } from './store/contract.js';
import { DuplicateRequest, type TaskFilter } from './store.js';
import { isFinal, lookTimesMs, type Platform, type Task, type TaskRequest, type TaskStatus } from './task.js';
import { type UserQuota, UserQuotas } from './user-quotas.js';
import { estimateWaitMs, RECENT_COMPLETIONS, type WaitInfo } from './wait-estimate.js';

export interface ServiceLimits {
  maxImageBytes: number;
  /** Width × height, from the image's header: a small file may claim a huge size (an image bomb). */
  maxImagePixels: number;
  maxPromptChars: number;
  /** Unfinished tasks one chat user may have at once. */
  userMaxActive: number;
  /** Tasks one chat user may create in 24 hours. */
  userDailyLimit: number;
  /** Platforms whose users the per-user limits apply to (trusted API clients are exempt). */
  limitedPlatforms: ReadonlySet<Platform>;
  /** Prompts refused on every platform (PROMPT_BLOCKLIST_FILE); none when absent. */
  blocklist?: PromptBlocklist;
}

/** One task of the seed service's `video_links.json`, in our words. */
export interface SeedImport {
  conversationId: string;
  messageId: string;
  status: TaskStatus;
  videoUrls: string[];
  attempts: number;
  maxAttempts: number;
  error: string | null;
}

/** Who asks for a cancel or retry: the owner (checked against the task's origin) or an admin (any task). */
export type Actor = { admin: true } | { admin?: false; platform: Platform; userId: string };

/** Owners control their own tasks (cancel, retry, again); admins control every task. */
export function mayControl(task: Task, actor: Actor): boolean {
  return actor.admin === true || (task.origin.platform === actor.platform && task.origin.userId === actor.userId);
}

/** One upstream account as operators see it in the bots' /stats (state since when, until when, last code). */
export interface AccountHealth {
  label: string;
  state: string;
  since?: string;
  until?: string;
  lastCode?: string;
}

export class GenerationService {
  readonly #store: TaskStoreAsync;
  readonly #media: MediaStore;
  readonly #provider: VideoProvider;
  readonly #scheduler: Scheduler;
  readonly #events: TaskEventBus;
  readonly #limits: ServiceLimits;
  readonly #now: () => number;
  readonly #quotas: UserQuotas;

  constructor(
    deps: {
      store: TaskStoreAsync;
      media: MediaStore;
      provider: VideoProvider;
      scheduler: Scheduler;
      events: TaskEventBus;
    },
    limits: ServiceLimits,
    now: () => number = Date.now,
  ) {
    this.#store = deps.store;
    this.#media = deps.media;
    this.#provider = deps.provider;
    this.#scheduler = deps.scheduler;
    this.#events = deps.events;
    this.#limits = limits;
    this.#now = now;
    this.#quotas = new UserQuotas(deps.store, limits, now);
  }

  get providerName(): string {
    return this.#provider.name;
  }

  /** The generation options the running provider can honour (adapters offer these choices). */
  get capabilities(): VideoCapabilities {
    return this.#provider.capabilities ?? NO_CAPABILITIES;
  }

  get limits(): Readonly<ServiceLimits> {
    return this.#limits;
  }

  on<E extends TaskEventName>(event: E, listener: TaskEvents[E]): void {
    this.#events.on(event, listener);
  }

  off<E extends TaskEventName>(event: E, listener: TaskEvents[E]): void {
    this.#events.off(event, listener);
  }

  /**
   * Checks and keeps an uploaded image for an hour; its `key` can be passed to `submit` as `imageKey`, by as many
   * tasks as wish (each takes its own copy). @throws InvalidInput, StorageFull
   */
  storeImage(bytes: Uint8Array): Promise<StoredImage> {
    return this.#media.saveUpload(bytes, this.#imageLimits());
  }

  /**
   * Accepts a request: checks it, stores a `pending` task, and tries to start its upstream job right away.
   * Resolves with the task as it stands after that first step (started, waiting, or failed for good), or once stored
   * when `request.startInBackground` asks so.
   * @throws InvalidInput for a bad prompt or image; QuotaExceeded when a per-user limit refuses it; StorageFull
   *   when the disk is full (nothing is kept then).
   */
  async submit(request: TaskRequest): Promise<Task> {
    const prompt = this.#checkPrompt(request.prompt);
    this.#checkBlocklist(prompt, request.origin.platform);
    const options = checkOptions(request.options, this.capabilities, this.#provider.name);
    const known = request.requestKey && (await this.#store.findByRequestKey(request.requestKey));
    if (known) return sameRequest(known, prompt, options, request);
    const { platform, userId } = request.origin;
    // Refuse early what is over the limit already; the check that counts is the one inside the insert.
    await this.#quotas.check(platform, userId);
    const id = randomBytes(6).toString('base64url');
    const imagePath = request.image
      ? await this.#media.saveTaskImage(id, request.image.bytes, this.#imageLimits())
      : request.imageKey
        ? await this.#media.taskImageFromUpload(id, request.imageKey)
        : null;
    const { task, created } = await this.#insertOnce({
      id,
      provider: this.#provider.name,
      kind: imagePath ? 'i2v' : 't2v',
      prompt,
      guest: request.guest ?? false,
      options,
      imagePath,
      imageRef: null,
      conversationId: seedId(),
      messageId: seedId(),
      sectionId: null,
      upstream: null,
      status: 'pending',
      attempts: 0,
      maxAttempts: this.#scheduler.policy.maxAttempts,
      nextAttemptAt: this.#now(),
      leaseUntil: null,
      progress: null,
      videoUrls: [],
      videoFile: null,
      error: null,
      origin: request.origin,
      requestKey: request.requestKey ?? null,
      deliveredAt: null,
    });
    if (!created) return task;
    this.#events.emit('queued', task);
    if (request.startInBackground) {
      this.#scheduler.kickSoon();
      return task;
    }
    try {
      await this.#scheduler.runNow(task.id);
    } catch (error) {
      // The task is stored: the retry loop takes it up once there is room again.
      if (!isDiskFull(error)) throw error;
    }
    return this.get(task.id);
  }

  /**
   * Inserts within the per-user limits, or — when the same request key won a race meanwhile — returns the task
   * stored first. Whatever is not inserted takes its image file with it.
   */
  async #insertOnce(task: NewTask): Promise<{ task: Task; created: boolean }> {
    const check = (reads: QuotaReads) => this.#quotas.check(task.origin.platform, task.origin.userId, reads);
    try {
      return { task: await this.#store.insertChecked(task, check), created: true };
    } catch (error) {
      if (task.imagePath) await this.#media.removeImage(task.imagePath);
      if (isDiskFull(error)) throw new StorageFull('the task', { cause: error });
      if (!(error instanceof DuplicateRequest)) throw error;
      return { task: (await this.#store.findByRequestKey(task.requestKey!))!, created: false };
    }
  }

  /**
   * The prompt without NULs and surrounding space. One of only invisible characters (controls, zero-width and
   * other format characters) is empty; the limit counts characters (code points), not UTF-16 units.
   */
  #checkPrompt(raw: unknown): string {
    const prompt = typeof raw === 'string' ? raw.replaceAll('\0', '').trim() : '';
    if (!prompt.replace(/[\p{Cc}\p{Cf}\p{Z}\s]/gu, '')) {
      throw withReason(new InvalidInput('the prompt is empty; describe the video you want'), 'PROMPT_EMPTY');
    }
    const chars = [...prompt].length;
    const limit = this.#limits.maxPromptChars;
    if (chars > limit) {
      throw withReason(
        new InvalidInput(`the prompt is ${chars} characters; the limit is ${limit}`),
        'PROMPT_TOO_LONG',
        {
          chars,
          limit,
        },
      );
    }
    return prompt;
  }

  /** Refuses a prompt on the block-list; the refusal never says which entry matched. */
  #checkBlocklist(prompt: string, platform: Platform): void {
    if (!this.#limits.blocklist?.check(prompt, platform)) return;
    throw withReason(
      new InvalidInput('the prompt contains words this service does not accept; please rephrase it'),
      'PROMPT_BLOCKED',
    );
  }

  /** @throws NotFound */
  async get(id: string): Promise<Task> {
    const task = await this.#store.get(id);
    if (!task) throw withReason(new NotFound(`no task with id "${id}"`), 'TASK_NOT_FOUND', { id });
    return task;
  }

  /** The task a seed-API client knows by its conversation and message ids. @throws NotFound */
  async getBySeedIds(conversationId: string, messageId: string): Promise<Task> {
    const task = await this.#store.findBySeedIds(conversationId, messageId);
    if (!task) throw new NotFound('未找到该视频任务');
    return task;
  }

  /** @throws InvalidInput when `limit` or `offset` is not a whole number SQLite can take (Infinity, 1e20…). */
  async list(filter: TaskFilter = {}): Promise<{ total: number; tasks: Task[] }> {
    for (const key of ['limit', 'offset'] as const) {
      const value = filter[key];
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
        throw new InvalidInput(`${key} must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
      }
    }
    return this.#store.list(filter);
  }

  /** When the first and the last look are due, for "usually ready in 3–15 minutes". */
  estimateWindowS(): { firstS: number; lastS: number } {
    const looks = lookTimesMs(this.#scheduler.policy);
    return { firstS: (looks[0] ?? 0) / 1000, lastS: (looks.at(-1) ?? 0) / 1000 };
  }

  /** Task counts, the provider, and its upstream accounts' health (Doubao's sessions; never a secret). */
  async stats(): Promise<{ byStatus: Record<TaskStatus, number>; provider: string; accounts: AccountHealth[] }> {
    return { byStatus: await this.#store.countByStatus(), provider: this.#provider.name, accounts: this.#accounts() };
  }

  /** The provider's `status().sessions`, read defensively: only the fields operators see, as text. */
  #accounts(): AccountHealth[] {
    let sessions: unknown;
    try {
      sessions = this.#provider.status?.().sessions;
    } catch {
      return [];
    }
    if (!Array.isArray(sessions)) return [];
    const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    return sessions.flatMap((raw) => {
      const s = (raw ?? {}) as Record<string, unknown>;
      const label = text(s.label) ?? text(s.id);
      const state = text(s.state);
      if (!label || !state) return [];
      const [since, until, lastCode] = [text(s.since), text(s.until), text(s.lastCode)];
      return [{ label, state, ...(since && { since }), ...(until && { until }), ...(lastCode && { lastCode }) }];
    });
  }

  /** Bytes kept on disk: re-hosted videos, tasks' images, uploads. */
  storageUsage(): Promise<MediaUsage> {
    return this.#media.usage(this.#now());
  }

  /**
   * Why `/videos/<file>` cannot be served: 'expired' when retention removed that task's video, else 'unknown'.
   * Asked only for files that are not on disk.
   */
  async missingVideo(file: string): Promise<'expired' | 'unknown'> {
    const id = /^([\w-]+)\.mp4$/.exec(file)?.[1];
    const task = id ? await this.#store.get(id) : undefined;
    return task?.videoFile === file && (await this.#store.videoRemovedAt(task.id)) ? 'expired' : 'unknown';
  }

  /**
   * Fails, at start-up, the unfinished tasks made for a provider this process does not run (PROVIDER changed),
   * so they do not wait forever nor count against their users' limits. They keep their upstream reference: run
   * their provider again and `retry` them to go on.
   */
  async failUnservedTasks(): Promise<Task[]> {
    const failed = await this.#store.failOtherProviders(this.#provider.name, (other) =>
      notServed(other, this.#provider.name),
    );
    for (const task of failed) this.#events.emit('failed', task);
    return failed;
  }

  /**
   * Cancels an unfinished task, upstream too when the provider supports it. A step under way keeps its lease and
   * finds the task cancelled when it writes (a job it started meanwhile is cancelled upstream by the scheduler).
   * @throws NotFound (also for another user's task), Conflict when already finished, UpstreamError when the
   *   upstream refuses (the task then goes on).
   */
  async cancel(id: string, actor: Actor): Promise<Task> {
    const task = await this.#owned(id, actor);
    if (isFinal(task.status)) {
      throw withReason(new Conflict(`task ${id} is already ${task.status}`), 'TASK_ALREADY_FINAL', {
        id,
        status: task.status,
      });
    }
    const endedUpstream = !!(task.upstream && this.#provider.cancel);
    if (task.upstream && this.#provider.cancel) await this.#provider.cancel(task.upstream);
    const cancelled = await this.#store.update(id, {
      status: 'cancelled',
      nextAttemptAt: null,
      error: 'cancelled',
      ...(endedUpstream && { upstreamEnded: true }),
    });
    this.#events.emit('cancelled', cancelled);
    this.#scheduler.kick();
    return cancelled;
  }

  /**
   * Runs a failed or cancelled task again with fresh attempts: a started upstream job is looked at again, unless
   * it ended upstream (failed or cancelled there), then a new one is started, as for an unstarted task. A step
   * still under way (a start after a cancel) keeps its lease, so the task is not started twice.
   * @throws NotFound, Conflict when the task is not failed or cancelled.
   */
  async retry(id: string, actor: Actor): Promise<Task> {
    const task = await this.#owned(id, actor);
    if (task.status !== 'failed' && task.status !== 'cancelled') {
      const error = new Conflict(`task ${id} is ${task.status}; only failed or cancelled tasks can be retried`);
      throw withReason(error, 'TASK_NOT_RETRYABLE', { id, status: task.status });
    }
    if (task.provider !== this.#provider.name) {
      const error = new Conflict(notServed(task.provider, this.#provider.name));
      throw withReason(error, 'PROVIDER_NOT_SERVED', { provider: task.provider, running: this.#provider.name });
    }
    const startAgain = task.upstreamEnded;
    if (task.kind === 'i2v' && (startAgain || !task.imageRef)) {
      await readFile(task.imagePath ?? '').catch(() => {
        const error = new Conflict(`the image of task ${id} is no longer kept; submit it again`);
        throw withReason(error, 'IMAGE_NO_LONGER_KEPT', { id });
      });
    }
    const retried = await this.#store.update(
      id,
      {
        status: 'pending',
        attempts: 0,
        error: null,
        errorReason: null,
        nextAttemptAt: this.#now(),
        deliveredAt: null,
        ...(startAgain && { upstream: null, upstreamEnded: false, imageRef: null, progress: null }),
      },
      { status: task.status },
    );
    this.#events.emit('queued', retried);
    this.#scheduler.kick();
    return retried;
  }

  /** Final tasks of a platform whose asker has not been told the current outcome yet (the outbox's backlog). */
  undelivered(platform: Platform): Promise<Task[]> {
    return this.#store.undelivered(platform);
  }

  /** Every delivery of a task's outcomes (one per generation that ended), oldest first: what was sent, and why not. */
  deliveries(id: string): Promise<Delivery[]> {
    return this.#store.deliveries({ taskId: id });
  }

  /** Lets an adapter record where it answered (status message ids…), so delivery survives a restart. */
  async updateOrigin(id: string, reply: Record<string, unknown>): Promise<Task> {
    const task = await this.get(id);
    return this.#store.update(id, { origin: { ...task.origin, reply: { ...task.origin.reply, ...reply } } });
  }

  /**
   * Moves the next look at an upstream job's task to now (an upstream callback said the job changed). Only the id
   * is taken from the caller; what happened is read from the upstream by the look itself.
   * @throws NotFound when no task of this provider has that upstream job.
   */
  async lookNow(upstreamId: string): Promise<Task> {
    const task = await this.#store.findByUpstreamId(this.#provider.name, upstreamId);
    if (!task) throw new NotFound(`no task with upstream id "${upstreamId}"`);
    if (isFinal(task.status)) return task;
    const due = await this.#store.update(task.id, { nextAttemptAt: this.#now() });
    this.#scheduler.kick();
    return due;
  }

  /**
   * Adopts a task the seed service tracked in its `video_links.json`: a Doubao conversation. Unfinished ones are
   * looked at again by the doubao provider; a service running another provider fails them at once, as it fails
   * them at start-up (see `failUnservedTasks`), and `retry` takes them up once it runs doubao. Finished ones keep
   * their links.
   * Nobody is notified. Returns undefined when a task with these ids exists already.
   */
  async importSeedTask(seed: SeedImport): Promise<Task | undefined> {
    if (await this.#store.findBySeedIds(seed.conversationId, seed.messageId)) return undefined;
    const served = this.#provider.name === 'doubao';
    const unfinished = seed.status === 'pending' || seed.status === 'processing';
    const waits = unfinished && served;
    const task = await this.#store.insert({
      id: randomBytes(6).toString('base64url'),
      provider: 'doubao',
      kind: 't2v',
      prompt: '(imported from video_links.json)',
      guest: false,
      imagePath: null,
      imageRef: null,
      conversationId: seed.conversationId,
      messageId: seed.messageId,
      sectionId: null,
      upstream: { id: seed.conversationId, conversationId: seed.conversationId, messageId: seed.messageId },
      status: waits ? 'pending' : unfinished ? 'failed' : seed.status,
      attempts: unfinished ? 0 : seed.attempts,
      maxAttempts: Math.max(seed.maxAttempts, 1),
      nextAttemptAt: waits ? this.#now() : null,
      leaseUntil: null,
      progress: null,
      videoUrls: seed.videoUrls,
      videoFile: null,
      error: unfinished && !served ? notServed('doubao', this.#provider.name) : seed.error,
      origin: { platform: 'cli', userId: 'import' },
      deliveredAt: new Date(this.#now()).toISOString(),
    });
    if (waits) this.#scheduler.kick();
    return task;
  }

  /**
   * One look at a task's upstream job now, outside the retry loop (the seed's `get_url`). A completed task with
   * our own copy is answered from what is known: its job is over, and the local provider's file is ours now.
   */
  async probe(task: Task): ReturnType<VideoProvider['poll']> {
    if (task.status === 'completed' && task.videoFile) return { state: 'succeeded', videoUrls: task.videoUrls };
    if (!task.upstream || task.provider !== this.#provider.name) return { state: 'running' };
    const result = await this.#provider.poll(task.upstream);
    if (result.state !== 'succeeded' || !result.videoUrls.some((u) => u.startsWith('file:'))) return result;
    // A `file:` video is ours only once the scheduler has moved it into the media store: make its look due now,
    // take that step, and answer with our copy (or "running" when the loop holds the task this moment).
    const current = await this.get(task.id);
    if (current.leaseUntil !== null || isFinal(current.status)) return { state: 'running' };
    try {
      await this.#store.update(
        task.id,
        { nextAttemptAt: this.#now() },
        { status: current.status, token: current.leaseToken },
      );
    } catch {
      return { state: 'running' }; // claimed or changed meanwhile: the loop is on it
    }
    await this.#scheduler.runNow(task.id);
    const now = await this.get(task.id);
    return now.status === 'completed' && now.videoFile
      ? { state: 'succeeded', videoUrls: now.videoUrls }
      : { state: 'running' };
  }

  #imageLimits(): ImageLimits {
    return { maxBytes: this.#limits.maxImageBytes, maxPixels: this.#limits.maxImagePixels };
  }

  async #owned(id: string, actor: Actor): Promise<Task> {
    const task = await this.get(id);
    if (!mayControl(task, actor)) throw withReason(new NotFound(`no task with id "${id}"`), 'TASK_NOT_FOUND', { id });
    return task;
  }

  // ── Per-user limits and the block-list (issue 15) ──────────────────────────────────────────────────────────────

  /** A chat user's limits as they apply now (an admin's, else the configured defaults) and how much is used. */
  userQuota(platform: Platform, userId: string): Promise<UserQuota> {
    return this.#quotas.of(platform, userId);
  }

  /** Sets one user's own limits (an admin's `/quota`; 0 pauses them, nulls restore the defaults). @throws InvalidInput */
  setUserQuota(platform: Platform, userId: string, limits: { maxActive: number | null; dailyLimit: number | null }) {
    return this.#quotas.set(platform, userId, limits);
  }

  /** Forgets the tasks a user made so far today: they may submit again up to their daily limit. */
  resetUserDaily(platform: Platform, userId: string): Promise<UserQuota> {
    return this.#quotas.resetDaily(platform, userId);
  }

  /** Prompts the block-list refused since start-up, per platform (for /metrics). */
  promptsBlocked(): Partial<Record<Platform, number>> {
    return Object.fromEntries(this.#limits.blocklist?.blocked ?? []);
  }

  // ── Control and live queue (issue 15) ──────────────────────────────────────────────────────────────────────────

  /**
   * A new task with the same prompt (and the same image: the task's own stored copy) as task `id`, for its owner
   * or an admin, under the per-user limits like any submit.
   * @throws NotFound (also for another user's task), Conflict when the image is no longer kept, and what `submit`
   *   throws.
   */
  async again(id: string, actor: Actor, request: Pick<TaskRequest, 'origin' | 'requestKey'>): Promise<Task> {
    const task = await this.#owned(id, actor);
    const bytes =
      task.kind === 'i2v'
        ? await readFile(task.imagePath ?? '').catch(() => {
            throw withReason(
              new Conflict(`the image of task ${id} is no longer kept; send it again`),
              'IMAGE_NO_LONGER_KEPT',
              {
                id,
              },
            );
          })
        : undefined;
    return this.submit({
      prompt: task.prompt,
      guest: task.guest,
      ...(task.options && { options: task.options }),
      ...(bytes && { image: { bytes } }),
      ...request,
    });
  }

  /** Where the task stands in line and when its video may be ready (see wait-estimate.ts). */
  async waitInfo(task: Task): Promise<WaitInfo> {
    if (isFinal(task.status)) return { ahead: 0, etaMs: null };
    const [ahead, recent] = await Promise.all([this.#store.countAhead(task), this.#recentTimes(task.provider)]);
    return this.#waitInfo(task, ahead, recent);
  }

  /**
   * The first `limit` unfinished tasks of one platform in line order, each with its wait: what the bots need to
   * keep the status messages' positions current. One query for the line, one per task returned.
   */
  async waitingLine(platform: Platform, limit: number): Promise<{ task: Task; wait: WaitInfo }[]> {
    const line = await this.#store.activeLine(this.#provider.name);
    const recent = await this.#recentTimes(this.#provider.name);
    const result: { task: Task; wait: WaitInfo }[] = [];
    let ahead = 0;
    for (const [index, entry] of line.entries()) {
      // Tasks created in the same millisecond are not ahead of each other (as `countAhead` counts).
      if (index > 0 && entry.createdAt !== line[index - 1]!.createdAt) ahead = index;
      if (entry.platform !== platform) continue;
      const task = await this.#store.get(entry.id);
      if (task) result.push({ task, wait: await this.#waitInfo(task, ahead, recent) });
      if (result.length >= limit) break;
    }
    return result;
  }

  /**
   * One user's view of the line (the bots' `/queue`): how many unfinished tasks there are, and each of the user's
   * own unfinished tasks (oldest first) with its wait; `ahead` of the first is what stands before their oldest.
   */
  async queueOf(
    platform: Platform,
    userId: string,
  ): Promise<{ total: number; mine: { task: Task; wait: WaitInfo }[] }> {
    const line = await this.#store.activeLine(this.#provider.name);
    const recent = await this.#recentTimes(this.#provider.name);
    const mine: { task: Task; wait: WaitInfo }[] = [];
    let ahead = 0;
    for (const [index, entry] of line.entries()) {
      if (index > 0 && entry.createdAt !== line[index - 1]!.createdAt) ahead = index;
      if (entry.platform !== platform || entry.userId !== userId) continue;
      const task = await this.#store.get(entry.id);
      if (task) mine.push({ task, wait: await this.#waitInfo(task, ahead, recent) });
    }
    return { total: line.length, mine };
  }

  #recentTimes(provider: string): Promise<number[]> {
    return this.#store.recentVideoTimesMs(provider, RECENT_COMPLETIONS);
  }

  async #waitInfo(task: Task, ahead: number, recentMs: number[]): Promise<WaitInfo> {
    const startedAt = task.upstream ? await this.#store.videoStartedAt(task.id) : undefined;
    const slots = this.#provider.maxRunning ?? Number.POSITIVE_INFINITY;
    return {
      ahead,
      etaMs: estimateWaitMs({
        recentMs,
        ahead,
        slots,
        now: this.#now(),
        ...(startedAt !== undefined && { startedAt }),
      }),
    };
  }

  /** Keeps what an adapter needs to continue a request later (a photo waiting for its prompt) for `ttlMs`. */
  keepPendingPhoto(key: string, userId: string, photo: unknown, ttlMs: number): Promise<void> {
    return this.#store.keepPendingPhoto(key, userId, photo, this.#now() + ttlMs);
  }

  /** Takes back what `keepPendingPhoto` kept under `key` for this user; undefined when unknown or expired. */
  takePendingPhoto(key: string, userId: string): Promise<unknown> {
    return this.#store.takePendingPhoto(key, userId);
  }
}

/**
 * A re-sent request (same key) gets its first task; the same key with another request is a client error, as
 * payment APIs answer it. Compared: the prompt, the guest flag, the options, and whether an image was given.
 */
function sameRequest(known: Task, prompt: string, options: VideoOptions | null, request: TaskRequest): Task {
  const withImage = Boolean(request.image || request.imageKey);
  if (
    known.prompt === prompt &&
    known.guest === (request.guest ?? false) &&
    sameOptions(known.options, options) &&
    (known.kind === 'i2v') === withImage
  ) {
    return known;
  }
  throw new InvalidInput(
    'this request key (Idempotency-Key) was already used for a different request; use a new key for a new request',
    'REQUEST_KEY_REUSED',
  );
}

/** The reason given for a task whose provider this process does not run. */
function notServed(taskProvider: string, running: string): string {
  return `this task was made for the ${taskProvider} provider, which is no longer configured (the service now runs ${running}); set PROVIDER=${taskProvider} and retry it to go on`;
}

/** Seed clients expect numeric-string conversation and message ids. */
function seedId(): string {
  return `${randomInt(1e7, 1e8)}${String(randomInt(0, 1e8)).padStart(8, '0')}`;
}
