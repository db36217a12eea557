/**
 * The store contract every task store honours, asynchronous so a networked database (PostgreSQL) can implement it:
 * the public methods of the SQLite `TaskStore` (src/core/store.ts) with the same names and meaning, each returning a
 * Promise. `SqliteTaskStoreAsync` (sqlite-async.ts) gives the SQLite store this shape; `PostgresTaskStore`
 * (postgres.ts) implements it for several processes sharing one database. test/store-conformance.test.ts runs one
 * list of cases against both.
 *
 * Where the two differ, the contract says what holds for both:
 * - An owner is gone when the store knows it cannot be running: for SQLite (one process per file) every other owner;
 *   for PostgreSQL an owner whose heartbeat is older than the store's owner timeout. `takeOverLeases` and
 *   `releaseDeliveryLeases` free the leases of gone owners only.
 * - `insertChecked` runs its check with reads that see every insert of the same user that committed before it, and
 *   no other insert of that user commits between the check and the insert (a per-user lock).
 * - `subscribeTaskWakeups` tells a listener when a task is created or retried, in this process or (PostgreSQL,
 *   LISTEN/NOTIFY) in any process sharing the database, so a scheduler need not poll for them.
 */
import type { ProviderIncident } from '../../providers/provider.js';
import type { DayCount, TaskEventRecord, TaskSearch, VideoTiming } from '../admin-reads.js';
import type { Delivery, DeliveryKind, RecordedIncident } from '../delivery.js';
import type { ClaimLimits, Expect, NewTask, Stage, TaskFilter, TaskPatch, UserLimits } from '../store.js';
import type { Platform, Task, TaskStatus } from '../task.js';

export type { ClaimLimits, Expect, NewTask, Stage, TaskFilter, TaskPatch, UserLimits } from '../store.js';
export { DuplicateRequest, LeaseLost, StaleTask } from '../store.js';

/** The per-user limits and counts a submit is checked against, read inside `insertChecked`'s lock. */
export interface QuotaReads {
  userLimits(platform: Platform, userId: string): Promise<UserLimits | undefined>;
  countActiveByUser(platform: Platform, userId: string): Promise<number>;
  countCreatedByUserSince(platform: Platform, userId: string, sinceIso: string): Promise<number>;
}

/** A task that may be due now: created, or retried (final → pending). */
export interface TaskWakeup {
  id: string;
  provider: string;
}

export interface TakeOverOptions {
  provider: string;
  holdUnstarted: boolean;
  leaseMs: number;
}

export interface TaskStoreAsync {
  /** This process instance: the owner named by every lease it claims. */
  readonly owner: string;

  // Tasks
  insert(task: NewTask): Promise<Task>;
  insertChecked(task: NewTask, check: (reads: QuotaReads) => void | Promise<void>): Promise<Task>;
  get(id: string): Promise<Task | undefined>;
  findByRequestKey(requestKey: string): Promise<Task | undefined>;
  findBySeedIds(conversationId: string, messageId: string): Promise<Task | undefined>;
  findByUpstreamId(provider: string, upstreamId: string): Promise<Task | undefined>;
  list(filter?: TaskFilter): Promise<{ total: number; tasks: Task[] }>;
  update(id: string, patch: TaskPatch, expect?: Expect): Promise<Task>;
  failOtherProviders(provider: string, reason: (other: string) => string): Promise<Task[]>;

  // Claims and leases
  /** With `maxRunning`, starts are held to the provider's slots left, as `claimOldestDue` holds them. */
  claimDue(
    provider: string,
    which: Stage,
    leaseMs: number,
    limit: number,
    onlyId?: string,
    maxRunning?: number,
  ): Promise<Task[]>;
  /** With `limits.maxRunning`, the slots are counted under a lock of the provider's claims, for every process. */
  claimOldestDue(provider: string, limits: ClaimLimits, leaseMs: Record<Stage, number>): Promise<Task[]>;
  nextDueAt(provider: string, which: Stage): Promise<number | undefined>;
  takeOverLeases(options: TakeOverOptions): Promise<Task[]>;
  heartbeat(): Promise<void>;
  renewLease(id: string, token: number, leaseMs: number): Promise<void>;
  releaseLease(id: string, token: number): Promise<boolean>;
  /** Calls `listener` for every task created or retried; resolves to the function that stops it. */
  subscribeTaskWakeups(listener: (wakeup: TaskWakeup) => void): Promise<() => Promise<void>>;

  // Counts
  countRunning(provider: string): Promise<number>;
  countActiveByUser(platform: Platform, userId: string): Promise<number>;
  countCreatedByUserSince(platform: Platform, userId: string, sinceIso: string): Promise<number>;
  countAhead(task: Task): Promise<number>;
  countByStatus(): Promise<Record<TaskStatus, number>>;

  // Provider state
  getProviderState<T>(provider: string, key: string): Promise<T | undefined>;
  setProviderState(provider: string, key: string, value: unknown): Promise<void>;
  providerStateEntries<T>(provider: string, prefix: string): Promise<[string, T][]>;

  // Retention
  keptVideosBefore(beforeIso: string, limit: number): Promise<{ id: string; videoFile: string }[]>;
  markVideoRemoved(id: string): Promise<void>;
  videoRemovedAt(id: string): Promise<string | undefined>;
  releasableImages(retryBeforeIso: string, limit: number): Promise<{ id: string; imagePath: string }[]>;
  releaseImage(id: string, imagePath: string): Promise<boolean>;
  imagePathsInUse(): Promise<Set<string>>;

  // Deliveries and incidents
  undelivered(platform: Platform): Promise<Task[]>;
  claimDeliveries(
    platform: Platform,
    kinds: readonly DeliveryKind[],
    leaseMs: number,
    limit: number,
  ): Promise<Delivery[]>;
  nextDeliveryAt(platform: Platform, kinds: readonly DeliveryKind[]): Promise<number | undefined>;
  deliverySent(id: number): Promise<boolean>;
  deliveryFailed(id: number, claim: number, error: string, nextTryAt: number): Promise<boolean>;
  deliveryGivenUp(id: number, claim: number, reason: string): Promise<boolean>;
  deliverySuperseded(id: number): Promise<void>;
  releaseDeliveryLeases(): Promise<number>;
  expediteDeliveries(platform: Platform): Promise<number>;
  delivery(id: number): Promise<Delivery | undefined>;
  deliveries(of: { taskId: string } | { incidentId: number }): Promise<Delivery[]>;
  recordIncident(
    incident: ProviderIncident,
    recipients: readonly { platform: Platform; recipient: string }[],
  ): Promise<RecordedIncident | undefined>;
  incident(id: number): Promise<RecordedIncident | undefined>;

  // Admin page reads (issue 17)
  /** Appends a row to a task's history; a `completed` row keeps how long its run took from the run's `queued` row. */
  recordTaskEvent(event: string, task: Task, note: string | null): Promise<void>;
  /** A task's history, oldest first: at most its latest `limit` rows (default 200). */
  taskEvents(taskId: string, limit?: number): Promise<TaskEventRecord[]>;
  /** Tasks created per UTC day and provider since `sinceIso`, by how they stand now; by day, then provider. */
  tasksPerDay(sinceIso: string): Promise<DayCount[]>;
  /** Per provider (in order), videos made since `sinceIso` and the median and p95 run by nearest rank. */
  timeToVideo(sinceIso: string): Promise<VideoTiming[]>;
  /** Deliveries failed at least once and still tried, or given up since `sinceIso`; the latest `limit`, newest first. */
  failingDeliveries(
    sinceIso: string,
    limit: number,
  ): Promise<{ retrying: number; givenUp: number; recent: Delivery[] }>;
  /** Unfinished started tasks of a provider counted by one field of their upstream reference. */
  liveTasksByUpstreamField(provider: string, field: string): Promise<Map<string, number>>;
  /** Newest first, with the admin page's filters; `text` finds prompts containing it literally (ASCII in any case). */
  searchTasks(filter: TaskSearch): Promise<{ total: number; tasks: Task[] }>;

  // Per-user limits (issue 15)
  /** One user's own limits (null: the configured default) and last daily reset; undefined when none was ever set. */
  userLimits(platform: Platform, userId: string): Promise<UserLimits | undefined>;
  /** Sets (or with nulls, goes back to the defaults for) one user's limits; a daily reset already made stays. */
  setUserLimits(
    platform: Platform,
    userId: string,
    limits: { maxActive: number | null; dailyLimit: number | null },
  ): Promise<void>;
  /** From now on (1 ms on), only tasks created after this moment count against the user's daily limit. */
  resetUserDaily(platform: Platform, userId: string): Promise<void>;

  // Control and live queue (issue 15)
  /** The task's upstream job started at `at` (epoch ms; after a retry the newer start counts). */
  videoStarted(taskId: string, provider: string, at: number): Promise<void>;
  /** The task's video is ready (`startedAt` when no start was seen); keeps the provider's latest `keep` (100). */
  videoDone(taskId: string, provider: string, at: number, startedAt: number, keep?: number): Promise<void>;
  /** When the task's current upstream job started, while its video is not ready. */
  videoStartedAt(taskId: string): Promise<number | undefined>;
  /** A task that ended without a video leaves no time behind. */
  forgetVideoTime(taskId: string): Promise<void>;
  /** Start-to-video times (ms) of the provider's last `limit` completed tasks, newest first (ties: latest kept first). */
  recentVideoTimesMs(provider: string, limit: number): Promise<number[]>;
  /** The provider's unfinished tasks in line order: oldest first, then by id. */
  activeLine(provider: string): Promise<{ id: string; platform: Platform; userId: string; createdAt: string }[]>;
  /** Keeps a photo waiting for its prompt until `expiresAt` (epoch ms), removing the ones whose time is over. */
  keepPendingPhoto(key: string, userId: string, photo: unknown, expiresAt: number): Promise<void>;
  /** Removes and returns the photo kept under `key` for this user, unless it expired. */
  takePendingPhoto(key: string, userId: string): Promise<unknown>;
  /** How many photos wait for a prompt (expired ones not yet removed included). */
  countPendingPhotos(): Promise<number>;

  // Admin page sessions (issue 16: every process knows them)
  /** Keeps a session by the hash of its id until `expiresAt`; drops expired ones and all but the newest 1 000. */
  keepAdminSession(idHash: string, csrf: string, expiresAt: number): Promise<void>;
  /** The session with this id hash, unless it expired or ended. */
  adminSession(idHash: string): Promise<{ csrf: string; expiresAt: number } | undefined>;
  endAdminSession(idHash: string): Promise<void>;

  // Health
  /** 'ok' when the database is sound (SQLite: `PRAGMA integrity_check`; PostgreSQL: schema at the current version). */
  integrityCheck(): Promise<string>;
  /** Rewrites one row; rejects when the database takes no writes. */
  probeWrite(): Promise<void>;
  close(): Promise<void>;
}
