/**
 * The SQLite `TaskStore` (src/core/store.ts) behind the async store contract, unchanged underneath: each method
 * answers what the synchronous one answers, as a Promise (a throw becomes a rejection). Two things the synchronous
 * store cannot do by itself are added here, for one process (SQLite's case: one process per DATA_DIR):
 * `insertChecked` with an async check runs under a per-user lock in this process, and `subscribeTaskWakeups` hears
 * the creations and retries made through this wrapper.
 */
import type { ProviderIncident } from '../../providers/provider.js';
import type { TaskSearch } from '../admin-reads.js';
import type { DeliveryKind } from '../delivery.js';
import type { ClaimLimits, Expect, NewTask, Stage, TaskFilter, TaskPatch, TaskStore } from '../store.js';
import { isFinal, type Platform, type Task } from '../task.js';
import type { QuotaReads, TakeOverOptions, TaskStoreAsync, TaskWakeup } from './contract.js';

export class SqliteTaskStoreAsync implements TaskStoreAsync {
  readonly #store: TaskStore;
  readonly #listeners = new Set<(wakeup: TaskWakeup) => void>();
  /** The tail of each user's queue of checked inserts (`platform\0userId`). */
  readonly #userQueues = new Map<string, Promise<unknown>>();

  constructor(store: TaskStore) {
    this.#store = store;
  }

  get owner(): string {
    return this.#store.owner;
  }

  #wake(task: Task): void {
    for (const listener of this.#listeners) {
      try {
        listener({ id: task.id, provider: task.provider });
      } catch {
        // A listener's own failure is its business; the others still hear.
      }
    }
  }

  // Tasks
  async insert(task: NewTask): Promise<Task> {
    const stored = this.#store.insert(task);
    this.#wake(stored);
    return stored;
  }

  /** The check and the insert of one user run one after another in this process (the only one on the file). */
  insertChecked(task: NewTask, check: (reads: QuotaReads) => void | Promise<void>): Promise<Task> {
    const key = `${task.origin.platform}\u0000${task.origin.userId}`;
    const reads: QuotaReads = {
      userLimits: async (platform, userId) => this.#store.userLimits(platform, userId),
      countActiveByUser: async (platform, userId) => this.#store.countActiveByUser(platform, userId),
      countCreatedByUserSince: async (platform, userId, since) =>
        this.#store.countCreatedByUserSince(platform, userId, since),
    };
    const run = (this.#userQueues.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        await check(reads);
        return this.insert(task);
      });
    this.#userQueues.set(key, run);
    void run
      .catch(() => undefined)
      .finally(() => {
        if (this.#userQueues.get(key) === run) this.#userQueues.delete(key);
      });
    return run;
  }

  get = async (id: string) => this.#store.get(id);
  findByRequestKey = async (key: string) => this.#store.findByRequestKey(key);
  findBySeedIds = async (conversationId: string, messageId: string) =>
    this.#store.findBySeedIds(conversationId, messageId);
  findByUpstreamId = async (provider: string, upstreamId: string) => this.#store.findByUpstreamId(provider, upstreamId);
  list = async (filter?: TaskFilter) => this.#store.list(filter);

  async update(id: string, patch: TaskPatch, expect?: Expect): Promise<Task> {
    const retried =
      patch.status !== undefined && !isFinal(patch.status) && isFinal(this.#store.get(id)?.status ?? 'pending');
    const updated = this.#store.update(id, patch, expect);
    if (retried) this.#wake(updated);
    return updated;
  }

  failOtherProviders = async (provider: string, reason: (other: string) => string) =>
    this.#store.failOtherProviders(provider, reason);

  // Claims and leases
  claimDue = async (
    provider: string,
    which: Stage,
    leaseMs: number,
    limit: number,
    onlyId?: string,
    maxRunning?: number,
  ) => this.#store.claimDue(provider, which, leaseMs, limit, onlyId, maxRunning);
  claimOldestDue = async (provider: string, limits: ClaimLimits, leaseMs: Record<Stage, number>) =>
    this.#store.claimOldestDue(provider, limits, leaseMs);
  nextDueAt = async (provider: string, which: Stage) => this.#store.nextDueAt(provider, which);
  takeOverLeases = async (options: TakeOverOptions) => this.#store.takeOverLeases(options);
  heartbeat = async () => this.#store.heartbeat();
  renewLease = async (id: string, token: number, leaseMs: number) => this.#store.renewLease(id, token, leaseMs);
  releaseLease = async (id: string, token: number) => this.#store.releaseLease(id, token);

  async subscribeTaskWakeups(listener: (wakeup: TaskWakeup) => void): Promise<() => Promise<void>> {
    const own = (wakeup: TaskWakeup) => listener(wakeup);
    this.#listeners.add(own);
    return async () => {
      this.#listeners.delete(own);
    };
  }

  // Counts
  countRunning = async (provider: string) => this.#store.countRunning(provider);
  countActiveByUser = async (platform: Platform, userId: string) => this.#store.countActiveByUser(platform, userId);
  countCreatedByUserSince = async (platform: Platform, userId: string, sinceIso: string) =>
    this.#store.countCreatedByUserSince(platform, userId, sinceIso);
  countAhead = async (task: Task) => this.#store.countAhead(task);
  countByStatus = async () => this.#store.countByStatus();

  // Provider state
  getProviderState = async <T>(provider: string, key: string) => this.#store.getProviderState<T>(provider, key);
  setProviderState = async (provider: string, key: string, value: unknown) =>
    this.#store.setProviderState(provider, key, value);
  providerStateEntries = async <T>(provider: string, prefix: string) =>
    this.#store.providerStateEntries<T>(provider, prefix);

  // Retention
  keptVideosBefore = async (beforeIso: string, limit: number) => this.#store.keptVideosBefore(beforeIso, limit);
  markVideoRemoved = async (id: string) => this.#store.markVideoRemoved(id);
  videoRemovedAt = async (id: string) => this.#store.videoRemovedAt(id);
  releasableImages = async (retryBeforeIso: string, limit: number) =>
    this.#store.releasableImages(retryBeforeIso, limit);
  releaseImage = async (id: string, imagePath: string) => this.#store.releaseImage(id, imagePath);
  imagePathsInUse = async () => this.#store.imagePathsInUse();

  // Deliveries and incidents
  undelivered = async (platform: Platform) => this.#store.undelivered(platform);
  claimDeliveries = async (platform: Platform, kinds: readonly DeliveryKind[], leaseMs: number, limit: number) =>
    this.#store.claimDeliveries(platform, kinds, leaseMs, limit);
  nextDeliveryAt = async (platform: Platform, kinds: readonly DeliveryKind[]) =>
    this.#store.nextDeliveryAt(platform, kinds);
  deliverySent = async (id: number) => this.#store.deliverySent(id);
  deliveryFailed = async (id: number, claim: number, error: string, nextTryAt: number) =>
    this.#store.deliveryFailed(id, claim, error, nextTryAt);
  deliveryGivenUp = async (id: number, claim: number, reason: string) => this.#store.deliveryGivenUp(id, claim, reason);
  deliverySuperseded = async (id: number) => this.#store.deliverySuperseded(id);
  releaseDeliveryLeases = async () => this.#store.releaseDeliveryLeases();
  expediteDeliveries = async (platform: Platform) => this.#store.expediteDeliveries(platform);
  delivery = async (id: number) => this.#store.delivery(id);
  deliveries = async (of: { taskId: string } | { incidentId: number }) => this.#store.deliveries(of);
  recordIncident = async (
    incident: ProviderIncident,
    recipients: readonly { platform: Platform; recipient: string }[],
  ) => this.#store.recordIncident(incident, recipients);
  incident = async (id: number) => this.#store.incident(id);

  // Admin page reads
  recordTaskEvent = async (event: string, task: Task, note: string | null) =>
    this.#store.recordTaskEvent(event, task, note);
  taskEvents = async (taskId: string, limit?: number) => this.#store.taskEvents(taskId, limit);
  tasksPerDay = async (sinceIso: string) => this.#store.tasksPerDay(sinceIso);
  timeToVideo = async (sinceIso: string) => this.#store.timeToVideo(sinceIso);
  failingDeliveries = async (sinceIso: string, limit: number) => this.#store.failingDeliveries(sinceIso, limit);
  liveTasksByUpstreamField = async (provider: string, field: string) =>
    this.#store.liveTasksByUpstreamField(provider, field);
  searchTasks = async (filter: TaskSearch) => this.#store.searchTasks(filter);

  // Per-user limits
  userLimits = async (platform: Platform, userId: string) => this.#store.userLimits(platform, userId);
  setUserLimits = async (
    platform: Platform,
    userId: string,
    limits: { maxActive: number | null; dailyLimit: number | null },
  ) => this.#store.setUserLimits(platform, userId, limits);
  resetUserDaily = async (platform: Platform, userId: string) => this.#store.resetUserDaily(platform, userId);

  // Control and live queue
  videoStarted = async (taskId: string, provider: string, at: number) => this.#store.videoStarted(taskId, provider, at);
  videoDone = async (taskId: string, provider: string, at: number, startedAt: number, keep?: number) =>
    this.#store.videoDone(taskId, provider, at, startedAt, keep);
  videoStartedAt = async (taskId: string) => this.#store.videoStartedAt(taskId);
  forgetVideoTime = async (taskId: string) => this.#store.forgetVideoTime(taskId);
  recentVideoTimesMs = async (provider: string, limit: number) => this.#store.recentVideoTimesMs(provider, limit);
  activeLine = async (provider: string) => this.#store.activeLine(provider);
  keepPendingPhoto = async (key: string, userId: string, photo: unknown, expiresAt: number) =>
    this.#store.keepPendingPhoto(key, userId, photo, expiresAt);
  takePendingPhoto = async (key: string, userId: string) => this.#store.takePendingPhoto(key, userId);
  countPendingPhotos = async () => this.#store.countPendingPhotos();

  // Admin page sessions
  keepAdminSession = async (idHash: string, csrf: string, expiresAt: number) =>
    this.#store.keepAdminSession(idHash, csrf, expiresAt);
  adminSession = async (idHash: string) => this.#store.adminSession(idHash);
  endAdminSession = async (idHash: string) => this.#store.endAdminSession(idHash);

  // Health
  integrityCheck = async () => this.#store.integrityCheck();
  probeWrite = async () => this.#store.probeWrite();
  close = async () => this.#store.close();
}
