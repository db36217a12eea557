/**
 * The PostgreSQL task store: the async store contract (contract.ts) for any number of processes sharing one
 * database through a connection pool. `PostgresTaskStore.open(url)` migrates the schema (once, whoever starts
 * first) and registers this process as a lease owner. The SQL lives beside it: tasks (postgres-tasks.ts), claims and
 * leases (postgres-leases.ts), deliveries and incidents (postgres-deliveries.ts), the schema
 * (postgres-migrations.ts). Task creations and retries are announced with NOTIFY; `subscribeTaskWakeups` LISTENs on a
 * connection of its own, reconnecting after a drop (a scheduler's timer covers what is announced meanwhile).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ProviderIncident } from '../../providers/provider.js';
import type { TaskSearch } from '../admin-reads.js';
import type { DeliveryKind } from '../delivery.js';
import type { ClaimLimits, Expect, NewTask, Stage, TaskFilter, TaskPatch } from '../store.js';
import type { Platform, Task } from '../task.js';
import type { QuotaReads, TakeOverOptions, TaskStoreAsync, TaskWakeup } from './contract.js';
import * as adminReads from './postgres-admin-reads.js';
import * as adminSessions from './postgres-admin-sessions.js';
import { type PgContext, WAKEUP_CHANNEL } from './postgres-db.js';
import * as deliveries from './postgres-deliveries.js';
import * as leases from './postgres-leases.js';
import { migrate, PG_MIGRATIONS, schemaVersion } from './postgres-migrations.js';
import { NulFreeClient } from './postgres-nul.js';
import * as queue from './postgres-queue.js';
import { PG_TYPES } from './postgres-rows.js';
import * as tasks from './postgres-tasks.js';
import * as userLimits from './postgres-user-limits.js';

export interface PostgresStoreOptions {
  /** The clock (epoch ms); tests pass a fake one. */
  now?: () => number;
  /** An owner silent for longer than this is taken for gone. @defaultValue 45 000 (three missed 15 s heartbeats) */
  ownerTimeoutMs?: number;
  /** Connections in the pool. @defaultValue 10 */
  poolSize?: number;
  /**
   * This process's owner id (main.ts gives its upstream limiter the same one, so a process that hangs loses its
   * upstream slots with its leases). @defaultValue a fresh UUID
   */
  owner?: string;
}

export class PostgresTaskStore implements TaskStoreAsync {
  readonly owner: string;
  readonly #db: PgContext;
  readonly #url: string;
  readonly #listeners = new Set<{ stop(): Promise<void> }>();

  private constructor(url: string, db: PgContext) {
    this.#url = url;
    this.#db = db;
    this.owner = db.owner;
  }

  /** Connects, brings the schema up to date and registers this process as an owner. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresTaskStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      types: PG_TYPES,
      Client: NulFreeClient,
    });
    // An idle connection that breaks (server restart) is dropped by the pool; the next query reports the problem.
    pool.on('error', () => undefined);
    const db: PgContext = {
      pool,
      now: options.now ?? Date.now,
      owner: options.owner ?? randomUUID(),
      ownerTimeoutMs: options.ownerTimeoutMs ?? 45_000,
    };
    try {
      await migrate(pool);
      await leases.register(db);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresTaskStore(url, db);
  }

  // Tasks
  insert = (task: NewTask) => tasks.insert(this.#db, task);
  insertChecked = (task: NewTask, check: (reads: QuotaReads) => void | Promise<void>) =>
    tasks.insertChecked(this.#db, task, check);
  get = (id: string) => tasks.get(this.#db.pool, id);
  findByRequestKey = (key: string) => tasks.findByRequestKey(this.#db.pool, key);
  findBySeedIds = (conversationId: string, messageId: string) =>
    tasks.findBySeedIds(this.#db.pool, conversationId, messageId);
  findByUpstreamId = (provider: string, upstreamId: string) =>
    tasks.findByUpstreamId(this.#db.pool, provider, upstreamId);
  list = (filter?: TaskFilter) => tasks.list(this.#db.pool, filter);
  update = (id: string, patch: TaskPatch, expect?: Expect) => tasks.update(this.#db, id, patch, expect);
  failOtherProviders = (provider: string, reason: (other: string) => string) =>
    tasks.failOtherProviders(this.#db, provider, reason);

  // Claims and leases
  claimDue = (provider: string, which: Stage, leaseMs: number, limit: number, onlyId?: string, maxRunning?: number) =>
    leases.claimDue(this.#db, provider, which, leaseMs, limit, onlyId, maxRunning);
  claimOldestDue = (provider: string, limits: ClaimLimits, leaseMs: Record<Stage, number>) =>
    leases.claimOldestDue(this.#db, provider, limits, leaseMs);
  nextDueAt = (provider: string, which: Stage) => leases.nextDueAt(this.#db, provider, which);
  takeOverLeases = (options: TakeOverOptions) => leases.takeOverLeases(this.#db, options);
  heartbeat = () => leases.heartbeat(this.#db);
  renewLease = (id: string, token: number, leaseMs: number) => leases.renewLease(this.#db, id, token, leaseMs);
  releaseLease = (id: string, token: number) => leases.releaseLease(this.#db, id, token);

  // Counts
  countRunning = (provider: string) => tasks.countRunning(this.#db.pool, provider);
  countActiveByUser = (platform: Platform, userId: string) => tasks.countActiveByUser(this.#db.pool, platform, userId);
  countCreatedByUserSince = (platform: Platform, userId: string, sinceIso: string) =>
    tasks.countCreatedByUserSince(this.#db.pool, platform, userId, sinceIso);
  countAhead = (task: Task) => tasks.countAhead(this.#db.pool, task);
  countByStatus = () => tasks.countByStatus(this.#db.pool);

  // Provider state
  getProviderState = <T>(provider: string, key: string) => tasks.getProviderState<T>(this.#db.pool, provider, key);
  setProviderState = (provider: string, key: string, value: unknown) =>
    tasks.setProviderState(this.#db, provider, key, value);
  providerStateEntries = <T>(provider: string, prefix: string) =>
    tasks.providerStateEntries<T>(this.#db.pool, provider, prefix);

  // Retention
  keptVideosBefore = (beforeIso: string, limit: number) => tasks.keptVideosBefore(this.#db.pool, beforeIso, limit);
  markVideoRemoved = (id: string) => tasks.markVideoRemoved(this.#db, id);
  videoRemovedAt = (id: string) => tasks.videoRemovedAt(this.#db.pool, id);
  releasableImages = (retryBeforeIso: string, limit: number) =>
    tasks.releasableImages(this.#db.pool, retryBeforeIso, limit);
  releaseImage = (id: string, imagePath: string) => tasks.releaseImage(this.#db.pool, id, imagePath);
  imagePathsInUse = () => tasks.imagePathsInUse(this.#db.pool);

  // Deliveries and incidents
  undelivered = (platform: Platform) => deliveries.undelivered(this.#db.pool, platform);
  claimDeliveries = (platform: Platform, kinds: readonly DeliveryKind[], leaseMs: number, limit: number) =>
    deliveries.claimDeliveries(this.#db, platform, kinds, leaseMs, limit);
  nextDeliveryAt = (platform: Platform, kinds: readonly DeliveryKind[]) =>
    deliveries.nextDeliveryAt(this.#db, platform, kinds);
  deliverySent = (id: number) => deliveries.deliverySent(this.#db, id);
  deliveryFailed = (id: number, claim: number, error: string, nextTryAt: number) =>
    deliveries.deliveryFailed(this.#db, id, claim, error, nextTryAt);
  deliveryGivenUp = (id: number, claim: number, reason: string) =>
    deliveries.deliveryGivenUp(this.#db, id, claim, reason);
  deliverySuperseded = (id: number) => deliveries.deliverySuperseded(this.#db, id);
  releaseDeliveryLeases = () => deliveries.releaseDeliveryLeases(this.#db);
  expediteDeliveries = (platform: Platform) => deliveries.expediteDeliveries(this.#db, platform);
  delivery = (id: number) => deliveries.delivery(this.#db.pool, id);
  deliveries = (of: { taskId: string } | { incidentId: number }) => deliveries.deliveries(this.#db.pool, of);
  recordIncident = (incident: ProviderIncident, recipients: readonly { platform: Platform; recipient: string }[]) =>
    deliveries.recordIncident(this.#db, incident, recipients);
  incident = (id: number) => deliveries.incident(this.#db.pool, id);

  // Admin page reads
  recordTaskEvent = (event: string, task: Task, note: string | null) =>
    adminReads.recordTaskEvent(this.#db, event, task, note);
  taskEvents = (taskId: string, limit?: number) => adminReads.taskEvents(this.#db.pool, taskId, limit);
  tasksPerDay = (sinceIso: string) => adminReads.tasksPerDay(this.#db.pool, sinceIso);
  timeToVideo = (sinceIso: string) => adminReads.timeToVideo(this.#db.pool, sinceIso);
  failingDeliveries = (sinceIso: string, limit: number) => adminReads.failingDeliveries(this.#db.pool, sinceIso, limit);
  liveTasksByUpstreamField = (provider: string, field: string) =>
    adminReads.liveTasksByUpstreamField(this.#db.pool, provider, field);
  searchTasks = (filter: TaskSearch) => adminReads.searchTasks(this.#db.pool, filter);

  // Per-user limits
  userLimits = (platform: Platform, userId: string) => userLimits.userLimits(this.#db.pool, platform, userId);
  setUserLimits = (
    platform: Platform,
    userId: string,
    limits: { maxActive: number | null; dailyLimit: number | null },
  ) => userLimits.setUserLimits(this.#db, platform, userId, limits);
  resetUserDaily = (platform: Platform, userId: string) => userLimits.resetUserDaily(this.#db, platform, userId);

  // Control and live queue
  videoStarted = (taskId: string, provider: string, at: number) => queue.videoStarted(this.#db, taskId, provider, at);
  videoDone = (taskId: string, provider: string, at: number, startedAt: number, keep?: number) =>
    queue.videoDone(this.#db, taskId, provider, at, startedAt, keep);
  videoStartedAt = (taskId: string) => queue.videoStartedAt(this.#db.pool, taskId);
  forgetVideoTime = (taskId: string) => queue.forgetVideoTime(this.#db.pool, taskId);
  recentVideoTimesMs = (provider: string, limit: number) => queue.recentVideoTimesMs(this.#db.pool, provider, limit);
  activeLine = (provider: string) => queue.activeLine(this.#db.pool, provider);
  keepPendingPhoto = (key: string, userId: string, photo: unknown, expiresAt: number) =>
    queue.keepPendingPhoto(this.#db, key, userId, photo, expiresAt);
  takePendingPhoto = (key: string, userId: string) => queue.takePendingPhoto(this.#db, key, userId);
  countPendingPhotos = () => queue.countPendingPhotos(this.#db.pool);

  // Admin page sessions
  keepAdminSession = (idHash: string, csrf: string, expiresAt: number) =>
    adminSessions.keepAdminSession(this.#db, idHash, csrf, expiresAt);
  adminSession = (idHash: string) => adminSessions.adminSession(this.#db, idHash);
  endAdminSession = (idHash: string) => adminSessions.endAdminSession(this.#db, idHash);

  // Health

  /** 'ok' when the schema is at the version this build knows; otherwise what is wrong. */
  async integrityCheck(): Promise<string> {
    const version = await schemaVersion(this.#db.pool);
    return version === PG_MIGRATIONS.length
      ? 'ok'
      : `schema at version ${version}, this build needs ${PG_MIGRATIONS.length}`;
  }

  async probeWrite(): Promise<void> {
    await this.#db.pool.query(
      `INSERT INTO health_probe (id, written_at) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at`,
      [new Date(this.#db.now()).toISOString()],
    );
  }

  /** Listens for task creations and retries from every process sharing the database. */
  async subscribeTaskWakeups(listener: (wakeup: TaskWakeup) => void): Promise<() => Promise<void>> {
    let client: pg.Client | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    // A dropped connection (or a failed reconnect) tries again a second later, until the subscription stops.
    const reconnect = () => {
      if (!stopped) retry = setTimeout(() => connect().catch(reconnect), 1_000);
    };
    const connect = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: this.#url });
      next.on('notification', (message) => {
        if (message.channel !== WAKEUP_CHANNEL || !message.payload) return;
        try {
          listener(JSON.parse(message.payload) as TaskWakeup);
        } catch {
          // A listener's own failure is its business; the subscription goes on.
        }
      });
      next.on('error', () => {
        void next.end().catch(() => undefined);
        if (client !== next) return; // still connecting: the rejected connect() schedules the retry
        client = undefined;
        reconnect();
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${WAKEUP_CHANNEL}`);
      } catch (error) {
        await next.end().catch(() => undefined);
        throw error;
      }
      if (stopped) await next.end();
      else client = next;
    };
    await connect();
    const subscription = {
      stop: async () => {
        stopped = true;
        clearTimeout(retry);
        this.#listeners.delete(subscription);
        await client?.end().catch(() => undefined);
      },
    };
    this.#listeners.add(subscription);
    return subscription.stop;
  }

  /** Ends the subscriptions and the pool. The owner row stays: other processes see it go silent and take over. */
  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((l) => l.stop()));
    await this.#db.pool.end();
  }
}
