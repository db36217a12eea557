/**
 * TaskStore keeps tasks in SQLite (better-sqlite3, WAL) and is the only module that talks to the database, behind
 * this narrow API, so another store (PostgreSQL) can be added without touching the scheduler or the adapters.
 *
 * Guarantees: every state change is one transaction, and an illegal transition (see `TRANSITIONS`) is refused.
 * A worker claims a task by setting a lease with compare-and-set; the lease names its owner (this store's process
 * instance) and carries a fencing token bumped on every claim, and a write stating an older token is refused
 * (`LeaseLost`). One process owns a SQLite `DATA_DIR` (a lock held for the store's lifetime, released by the
 * kernel when the process dies), so at start-up every other owner's lease is a dead process's and is released at
 * once. What the service owes people (results, alerts) is kept in the `deliveries` table: see the "Deliveries"
 * block near the end of the class; admins' per-user limits are the "Per-user limits" block after it.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ProviderIncident } from '../providers/provider.js';
import {
  type DayCount,
  type TaskEventRecord,
  type TaskSearch,
  taskEventFromRow,
  type VideoTiming,
} from './admin-reads.js';
import type { Delivery, DeliveryKind, DeliveryState, RecordedIncident } from './delivery.js';
import { MIGRATIONS } from './migrations.js';
import { deliveryFromRow, incidentFromRow } from './store/outbox-rows.js';
import { FIELD_TO_COLUMN, TASK_COLUMNS } from './store/task-columns.js';
import {
  FINAL_STATUSES,
  isFinal,
  owesDelivery,
  type Platform,
  type Task,
  type TaskStatus,
  TRANSITIONS,
} from './task.js';

export interface TaskFilter {
  status?: TaskStatus;
  userId?: string;
  platform?: Platform;
  conversationId?: string;
  limit?: number;
  offset?: number;
}

/** Lease fields only claims and releases write (see the leases block of TaskStore). */
type LeaseFields = 'leaseOwner' | 'leaseToken' | 'claimedAt';

/**
 * Fields a state change may set; `status` is checked against the transition table. Setting `leaseUntil` to null
 * releases the lease (its owner too).
 */
export type TaskPatch = Partial<Omit<Task, 'id' | 'createdAt' | 'updatedAt' | 'origin' | LeaseFields>> & {
  origin?: Task['origin'];
};

/** What `insert` takes: a task as the service makes it; lease fields only when a test fakes a dead claim. */
export type NewTask = Omit<
  Task,
  'createdAt' | 'updatedAt' | 'requestKey' | LeaseFields | 'upstreamEnded' | 'generation' | 'options'
> &
  Partial<Pick<Task, 'requestKey' | LeaseFields | 'upstreamEnded' | 'generation' | 'options'>>;

/** What a step's write states: the status it read, and the fencing token of the lease it holds. */
export interface Expect {
  status?: TaskStatus;
  token?: number;
}

/** Tasks waiting for their upstream job to start, or started ones waiting for their next look. */
export type Stage = 'unstarted' | 'started';

/** How much `claimOldestDue` may claim: in all, as starts, and (optionally) within the provider's job slots. */
export interface ClaimLimits {
  limit: number;
  startLimit: number;
  /** The provider's running-job slots (Ark's ARK_MAX_CONCURRENT), held across every process sharing the store. */
  maxRunning?: number;
}

type Row = Record<string, unknown>;

const FINAL_SQL = FINAL_STATUSES.map((s) => `'${s}'`).join(',');
const ACTIVE = `status NOT IN (${FINAL_SQL})`;
/** Written as the `tasks_wake`/`tasks_leases` index expressions so SQLite answers from those indexes. */
const STAGE_SQL: Record<Stage, string> = { unstarted: '(upstream IS NULL) = 1', started: '(upstream IS NULL) = 0' };

function toRow(fields: Partial<Task>): Row {
  const row: Row = {};
  for (const [key, value] of Object.entries(fields)) {
    const col = FIELD_TO_COLUMN.get(key);
    if (!col) continue;
    const spec = TASK_COLUMNS[col]!;
    row[col] = spec.json ? (value == null ? null : JSON.stringify(value)) : spec.bool ? (value ? 1 : 0) : value;
  }
  if (fields.origin) {
    row.platform = fields.origin.platform;
    row.user_id = fields.origin.userId;
  }
  if ('upstream' in fields) row.upstream_id = fields.upstream?.id ?? null;
  if (fields.leaseUntil === null) row.lease_owner = null;
  return row;
}

function fromRow(row: Row): Task {
  const task: Record<string, unknown> = {};
  for (const [col, spec] of Object.entries(TASK_COLUMNS)) {
    const value = row[col];
    task[spec.field] = spec.json ? (value == null ? null : JSON.parse(String(value))) : spec.bool ? !!value : value;
  }
  return task as unknown as Task;
}

export class TaskStore {
  readonly #db: Database.Database;
  readonly #lock: Database.Database | undefined;
  readonly #now: () => number;
  readonly #statements = new Map<string, Database.Statement>();
  /** This process instance, minted when the store opens: the owner named by every lease it claims. */
  readonly owner: string = randomUUID();

  /**
   * Opens (creating if needed) the database file and brings its schema up to date.
   * @throws DataDirInUse when another live process has the same file open as its store; DatabaseUnusable when
   *   the file is corrupt, not a database, or cannot be opened.
   */
  constructor(file: string, now: () => number = Date.now) {
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true });
      this.#lock = lockDatabase(file);
    }
    this.#now = now;
    try {
      this.#db = new Database(file);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma('busy_timeout = 5000');
      this.#migrate();
    } catch (error) {
      this.#lock?.close();
      throw unusable(file, error);
    }
  }

  #migrate(): void {
    const current = this.#db.pragma('user_version', { simple: true }) as number;
    for (const [index, sql] of MIGRATIONS.entries()) {
      if (index < current) continue;
      this.#db.transaction(() => {
        this.#db.exec(sql);
        this.#db.pragma(`user_version = ${index + 1}`);
      })();
    }
  }

  /** A prepared statement, compiled once per distinct SQL text: the scheduler asks the same few questions all the time. */
  #sql(text: string): Database.Statement {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  /** Stores a new task. @throws DuplicateRequest when a task with the same `requestKey` exists. */
  insert(task: NewTask): Task {
    const now = this.#iso();
    const row = toRow({ requestKey: null, generation: 0, options: null, ...task, createdAt: now, updatedAt: now });
    const cols = Object.keys(row);
    try {
      this.#sql(`INSERT INTO tasks (${cols.join(',')}) VALUES (${cols.map((c) => `@${c}`).join(',')})`).run(row);
    } catch (error) {
      const duplicate = (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && task.requestKey;
      throw duplicate ? new DuplicateRequest(`request ${task.requestKey} exists`, { cause: error }) : error;
    }
    return this.get(task.id)!;
  }

  findByRequestKey(requestKey: string): Task | undefined {
    const row = this.#sql('SELECT * FROM tasks WHERE request_key = ?').get(requestKey) as Row | undefined;
    return row && fromRow(row);
  }

  get(id: string): Task | undefined {
    const row = this.#sql('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  findBySeedIds(conversationId: string, messageId: string): Task | undefined {
    const row = this.#sql(
      'SELECT * FROM tasks WHERE conversation_id = ? AND message_id = ? ORDER BY created_at DESC LIMIT 1',
    ).get(conversationId, messageId) as Row | undefined;
    return row && fromRow(row);
  }

  /** The task of a provider's upstream job, by the job's id (an upstream callback names only that): one index probe. */
  findByUpstreamId(provider: string, upstreamId: string): Task | undefined {
    const row = this.#sql('SELECT * FROM tasks WHERE provider = ? AND upstream_id = ? LIMIT 1').get(
      provider,
      upstreamId,
    ) as Row | undefined;
    return row && fromRow(row);
  }

  /** Newest first. `total` counts every match, ignoring limit/offset. */
  list(filter: TaskFilter = {}): { total: number; tasks: Task[] } {
    const conditions: [string, unknown][] = [
      ['status = ?', filter.status],
      ['user_id = ?', filter.userId],
      ['platform = ?', filter.platform],
      ['conversation_id = ?', filter.conversationId],
    ];
    const used = conditions.filter(([, value]) => value !== undefined);
    const where = used.map(([sql]) => sql);
    const params = used.map(([, value]) => value);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const { n } = this.#sql(`SELECT count(*) AS n FROM tasks ${clause}`).get(...params) as { n: number };
    const rows = this.#sql(`SELECT * FROM tasks ${clause} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`).all(
      ...params,
      filter.limit ?? -1,
      filter.offset ?? 0,
    ) as Row[];
    return { total: n, tasks: rows.map(fromRow) };
  }

  /**
   * Applies a state change in one transaction. Refuses an illegal status transition, and (when `expect` is
   * given) a task whose status moved since it was read, or whose lease was claimed again since `expect.token`.
   * @throws StaleTask, LeaseLost (a StaleTask)
   */
  update(id: string, patch: TaskPatch, expect?: Expect): Task {
    return this.#db.transaction(() => {
      const current = this.get(id);
      if (!current) throw new Error(`task ${id} does not exist`);
      if (expect?.token !== undefined && current.leaseToken !== expect.token) {
        throw new LeaseLost(
          `task ${id} was claimed again (token ${current.leaseToken}, this step holds ${expect.token})`,
        );
      }
      if (expect?.status && current.status !== expect.status) {
        throw new StaleTask(`task ${id} is ${current.status}, expected ${expect.status}`);
      }
      if (patch.status && !TRANSITIONS[current.status].includes(patch.status)) {
        throw new StaleTask(`task ${id} cannot go from ${current.status} to ${patch.status}`);
      }
      const row = toRow({ ...patch, updatedAt: this.#iso() } as Partial<Task>);
      const sets = Object.keys(row).map((c) => `${c} = @${c}`);
      this.#sql(`UPDATE tasks SET ${sets.join(', ')} WHERE id = @id`).run({ ...row, id });
      if (patch.status) this.#onStatusChange(current, patch.status);
      return this.get(id)!;
    })();
  }

  /**
   * Claims up to `limit` due tasks for `leaseMs` (compare-and-set, safe across processes): each claim names this
   * store's `owner` and bumps the task's fencing token. A task is due when its next look has come and nobody holds
   * a live lease on it. `which` picks tasks waiting to start, or started ones; `onlyId` restricts the claim to one.
   */
  claimDue(
    provider: string,
    which: Stage,
    leaseMs: number,
    limit: number,
    onlyId?: string,
    maxRunning?: number,
  ): Task[] {
    const now = this.#now();
    return this.#db.transaction(() => {
      const free =
        which === 'unstarted' && maxRunning !== undefined ? maxRunning - this.#busySlots(provider, now) : limit;
      if (Math.min(limit, free) <= 0) return [];
      return this.#dueIds(provider, which, Math.min(limit, free), now, onlyId).map(({ id }) =>
        this.#claim(id, now, leaseMs),
      );
    })();
  }

  #dueIds(provider: string, which: Stage, limit: number, now: number, onlyId?: string): { id: string; at: number }[] {
    return this.#sql(
      `SELECT id, next_attempt_at AS at FROM tasks
         WHERE ${ACTIVE} AND next_attempt_at IS NOT NULL AND provider = ? AND ${STAGE_SQL[which]}
           AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) ${onlyId ? 'AND id = ?' : ''}
         ORDER BY next_attempt_at LIMIT ?`,
    ).all(provider, now, now, ...(onlyId ? [onlyId] : []), limit) as { id: string; at: number }[];
  }

  #claim(id: string, now: number, leaseMs: number): Task {
    this.#sql(
      'UPDATE tasks SET lease_until = ?, lease_owner = ?, lease_token = lease_token + 1, claimed_at = ? WHERE id = ?',
    ).run(now + leaseMs, this.owner, now, id);
    return this.get(id)!;
  }

  /** Epoch ms when the next task of a stage becomes due (its next look, or its lapsed lease); undefined if none. */
  nextDueAt(provider: string, which: Stage): number | undefined {
    const now = this.#now();
    const look = this.#sql(
      `SELECT next_attempt_at AS at FROM tasks
         WHERE ${ACTIVE} AND next_attempt_at IS NOT NULL AND provider = ? AND ${STAGE_SQL[which]}
           AND (lease_until IS NULL OR lease_until < ?)
         ORDER BY next_attempt_at LIMIT 1`,
    ).get(provider, now) as { at: number } | undefined;
    const lease = this.#sql(
      `SELECT min(lease_until) AS at FROM tasks
         WHERE ${ACTIVE} AND lease_until IS NOT NULL AND provider = ? AND ${STAGE_SQL[which]} AND lease_until >= ?`,
    ).get(provider, now) as { at: number | null };
    const candidates = [look?.at, lease.at === null ? undefined : lease.at + 1].filter((c) => c !== undefined);
    return candidates.length ? Math.min(...candidates) : undefined;
  }

  /** Unfinished tasks whose upstream job has started: what a provider's `maxRunning` limits (live rows only). */
  countRunning(provider: string): number {
    // Named, or SQLite prefers the index of every upstream id (finished ones too) for `upstream_id IS NOT NULL`.
    return (
      this.#sql(
        `SELECT count(*) AS n FROM tasks INDEXED BY tasks_live WHERE ${ACTIVE} AND provider = ? AND upstream_id IS NOT NULL`,
      ).get(provider) as { n: number }
    ).n;
  }

  countActiveByUser(platform: Platform, userId: string): number {
    return this.#count(`${ACTIVE} AND platform = ? AND user_id = ?`, platform, userId);
  }

  countCreatedByUserSince(platform: Platform, userId: string, sinceIso: string): number {
    return this.#count('platform = ? AND user_id = ? AND created_at >= ?', platform, userId, sinceIso);
  }

  /** How many unfinished tasks of the same provider were created before this one (0 = next in line). */
  countAhead(task: Task): number {
    return this.#count(`${ACTIVE} AND provider = ? AND created_at < ?`, task.provider, task.createdAt);
  }

  countByStatus(): Record<TaskStatus, number> {
    const rows = this.#sql('SELECT status, count(*) AS n FROM tasks GROUP BY status').all() as {
      status: TaskStatus;
      n: number;
    }[];
    const counts = { pending: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const { status, n } of rows) counts[status] = n;
    return counts;
  }

  /** A provider's durable value under `key` (JSON), or undefined. */
  getProviderState<T>(provider: string, key: string): T | undefined {
    const row = this.#sql('SELECT value FROM provider_state WHERE provider = ? AND key = ?').get(provider, key) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  setProviderState(provider: string, key: string, value: unknown): void {
    this.#sql(
      `INSERT INTO provider_state (provider, key, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (provider, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ).run(provider, key, JSON.stringify(value ?? null), this.#iso());
  }

  /** Every durable value of a provider whose key starts with `prefix`. */
  providerStateEntries<T>(provider: string, prefix: string): [string, T][] {
    const rows = this.#sql(
      'SELECT key, value FROM provider_state WHERE provider = ? AND substr(key, 1, length(?)) = ? ORDER BY key',
    ).all(provider, prefix, prefix) as { key: string; value: string }[];
    return rows.map(({ key, value }) => [key, JSON.parse(value) as T]);
  }

  // ---- Leases: owners, fencing tokens, take-over (issue 12) -------------------------------------------------
  // An owner is a process instance (`owner`, a row of `owners` with a heartbeat). Here one process owns the file
  // (the lock), so every other owner is gone; a store shared by processes would count an owner gone when its
  // heartbeat is older than a lease, and release its leases the same way.

  /**
   * Start-up: records this owner and releases every lease of the owners that are gone (the tasks are due again at
   * once), except — when `holdUnstarted` — the unstarted tasks of `provider`: a start was under way, the upstream
   * job may exist unrecorded, so they are claimed for this owner for `leaseMs` (a new token, `claimedAt` kept: the
   * moment that start began) and returned, for the provider to look for their jobs.
   */
  takeOverLeases(options: { provider: string; holdUnstarted: boolean; leaseMs: number }): Task[] {
    const now = this.#now();
    return this.#db.transaction(() => {
      this.#sql(
        `INSERT INTO owners (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      ).run(this.owner, process.pid, hostname(), now, now);
      const gone = `lease_until IS NOT NULL AND (lease_owner IS NULL OR lease_owner != ?)`;
      const held = options.holdUnstarted
        ? (this.#sql(`SELECT id FROM tasks WHERE ${gone} AND ${ACTIVE} AND provider = ? AND upstream IS NULL`).all(
            this.owner,
            options.provider,
          ) as { id: string }[])
        : [];
      const hold = this.#sql(
        'UPDATE tasks SET lease_until = ?, lease_owner = ?, lease_token = lease_token + 1 WHERE id = ?',
      );
      for (const { id } of held) hold.run(now + options.leaseMs, this.owner, id);
      this.#sql(`UPDATE tasks SET lease_until = NULL, lease_owner = NULL WHERE ${gone}`).run(this.owner);
      this.#sql('DELETE FROM owners WHERE id != ?').run(this.owner);
      return held.map(({ id }) => this.get(id)!);
    })();
  }

  /**
   * Claims the due tasks that waited longest, looks and starts alike (so neither starves the other, and the tasks
   * a dead process held, due since before it died, come first): at most `limit` in all, of them at most
   * `startLimit` starts; each for its stage's lease. With `maxRunning`, starts are also held to the provider's
   * slots left: its started, unfinished jobs and the starts under way (leased, not yet started) count.
   */
  claimOldestDue(provider: string, limits: ClaimLimits, leaseMs: Record<Stage, number>): Task[] {
    const now = this.#now();
    return this.#db.transaction(() => {
      const looks = this.#dueIds(provider, 'started', limits.limit, now).map((d) => ({ ...d, stage: 'started' }));
      const startLimit =
        limits.maxRunning === undefined
          ? limits.startLimit
          : Math.min(limits.startLimit, limits.maxRunning - this.#busySlots(provider, now));
      const starts = startLimit > 0 ? this.#dueIds(provider, 'unstarted', Math.min(limits.limit, startLimit), now) : [];
      const oldest = [...looks, ...starts.map((d) => ({ ...d, stage: 'unstarted' }))]
        .sort((a, b) => a.at - b.at)
        .slice(0, limits.limit);
      return oldest.map(({ id, stage }) => this.#claim(id, now, leaseMs[stage as Stage]));
    })();
  }

  /** Upstream jobs started and unfinished, and starts under way (leased, no upstream job yet). */
  #busySlots(provider: string, now: number): number {
    const starting = this.#sql(
      `SELECT count(*) AS n FROM tasks WHERE ${ACTIVE} AND provider = ? AND upstream_id IS NULL AND lease_until >= ?`,
    ).get(provider, now) as { n: number };
    return this.countRunning(provider) + starting.n;
  }

  /** Marks this owner alive (a shared store tells live owners from gone ones by this). */
  heartbeat(): void {
    this.#sql('UPDATE owners SET heartbeat_at = ? WHERE id = ?').run(this.#now(), this.owner);
  }

  /**
   * Extends a lease this owner holds to `leaseMs` from now, between the sub-steps of a long step.
   * @throws LeaseLost when the task was claimed again since `token`.
   */
  renewLease(id: string, token: number, leaseMs: number): void {
    const { changes } = this.#sql('UPDATE tasks SET lease_until = ? WHERE id = ? AND lease_token = ?').run(
      this.#now() + leaseMs,
      id,
      token,
    );
    if (changes !== 1) throw new LeaseLost(`task ${id} was claimed again; this step's token ${token} is stale`);
  }

  /** Ends a lease if `token` still holds it (a step that was refused or cancelled lets go); false otherwise. */
  releaseLease(id: string, token: number): boolean {
    return (
      this.#sql('UPDATE tasks SET lease_until = NULL, lease_owner = NULL WHERE id = ? AND lease_token = ?').run(
        id,
        token,
      ).changes === 1
    );
  }

  // ── Data lifecycle: limits checked with the insert, tasks of providers no longer run, retention ──────────────

  /**
   * Stores a new task once `check` — run in the same immediate transaction, so concurrent submits cannot all pass
   * a per-user limit counted there — accepted it. @throws what `check` throws; DuplicateRequest as `insert`.
   */
  insertChecked(task: Parameters<TaskStore['insert']>[0], check: () => void): Task {
    return this.#db
      .transaction(() => {
        check();
        return this.insert(task);
      })
      .immediate();
  }

  /** Fails every unfinished task made for another provider than `provider`, with `reason(its provider)`. */
  failOtherProviders(provider: string, reason: (other: string) => string): Task[] {
    return this.#db.transaction(() => {
      const rows = this.#sql(`SELECT id, provider FROM tasks WHERE ${ACTIVE} AND provider <> ?`).all(provider) as {
        id: string;
        provider: string;
      }[];
      // Through `update`, so each failure owes its asker a delivery like any other.
      return rows.map((row) =>
        this.update(row.id, {
          status: 'failed',
          error: reason(row.provider),
          errorReason: { code: 'PROVIDER_NOT_SERVED', params: { provider: row.provider, running: provider } },
          nextAttemptAt: null,
          leaseUntil: null,
        }),
      );
    })();
  }

  /** Completed tasks that finished before `beforeIso` and whose re-hosted video is still kept, oldest first. */
  keptVideosBefore(beforeIso: string, limit: number): { id: string; videoFile: string }[] {
    return this.#sql(
      `SELECT id, video_file AS videoFile FROM tasks
         WHERE video_file IS NOT NULL AND video_removed_at IS NULL AND updated_at < ? ORDER BY updated_at LIMIT ?`,
    ).all(beforeIso, limit) as { id: string; videoFile: string }[];
  }

  markVideoRemoved(id: string): void {
    this.#sql('UPDATE tasks SET video_removed_at = ? WHERE id = ?').run(this.#iso(), id);
  }

  /** When retention removed the task's re-hosted video; undefined while it is kept (or for unknown tasks). */
  videoRemovedAt(id: string): string | undefined {
    const row = this.#sql('SELECT video_removed_at AS at FROM tasks WHERE id = ?').get(id) as
      | { at: string | null }
      | undefined;
    return row?.at ?? undefined;
  }

  /**
   * Final tasks holding an image no longer needed: those that finished before `retryBeforeIso` (until then a retry
   * may start a failed or cancelled one again, and "again" may reuse any one's image).
   */
  releasableImages(retryBeforeIso: string, limit: number): { id: string; imagePath: string }[] {
    return this.#sql(
      `SELECT id, image_path AS imagePath FROM tasks
         WHERE image_path IS NOT NULL AND status IN (${FINAL_SQL}) AND updated_at < ?
         LIMIT ?`,
    ).all(retryBeforeIso, limit) as { id: string; imagePath: string }[];
  }

  /** Forgets a final task's image; false when the task is no longer final (a retry took it meanwhile). */
  releaseImage(id: string, imagePath: string): boolean {
    return (
      this.#sql(`UPDATE tasks SET image_path = NULL WHERE id = ? AND image_path = ? AND status IN (${FINAL_SQL})`).run(
        id,
        imagePath,
      ).changes === 1
    );
  }

  /** Every image path a task still holds. */
  imagePathsInUse(): Set<string> {
    const rows = this.#sql('SELECT image_path AS path FROM tasks WHERE image_path IS NOT NULL').all() as {
      path: string;
    }[];
    return new Set(rows.map((r) => r.path));
  }

  /** SQLite's own `PRAGMA integrity_check`; 'ok' when the file is sound. */
  integrityCheck(): string {
    return this.#db.pragma('integrity_check', { simple: true }) as string;
  }

  close(): void {
    this.#db.close();
    this.#lock?.close();
  }

  // --- Readiness -------------------------------------------------------------------------------------------------

  /** Rewrites the one probe row; throws (SQLITE_FULL, SQLITE_READONLY, SQLITE_BUSY…) when the database takes no writes. */
  probeWrite(): void {
    this.#sql(
      `INSERT INTO health_probe (id, written_at) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at`,
    ).run(this.#iso());
  }

  #count(where: string, ...params: unknown[]): number {
    return (this.#sql(`SELECT count(*) AS n FROM tasks WHERE ${where}`).get(...params) as { n: number }).n;
  }

  // ── Deliveries (issue 12) ───────────────────────────────────────────────────────────────────────────────────────
  // What the service owes people: a task's final result to its asker (`result`, one row per outcome and generation)
  // and a provider incident to each admin (`alert`). Rows are claimed under a lease like tasks; `claim` grows on
  // every claim, so a sender whose lease lapsed cannot reschedule or give up a row someone else now holds.

  /** Inside `update`'s transaction: a task that ends owes its asker the outcome; a retried one no longer does. */
  #onStatusChange(before: Task, status: TaskStatus): void {
    if (!isFinal(before.status) && isFinal(status) && owesDelivery(before.origin)) {
      this.#sql(
        `INSERT OR IGNORE INTO deliveries (kind, platform, task_id, outcome, generation, next_try_at, created_at)
           VALUES ('result', ?, ?, ?, ?, ?, ?)`,
      ).run(before.origin.platform, before.id, status, before.generation, this.#now(), this.#iso());
    } else if (isFinal(before.status) && !isFinal(status)) {
      this.#sql('UPDATE tasks SET generation = generation + 1, delivered_at = NULL WHERE id = ?').run(before.id);
      this.#sql(
        `UPDATE deliveries SET state = 'superseded', lease_until = NULL, done_at = ?
           WHERE kind = 'result' AND task_id = ? AND state = 'pending'`,
      ).run(this.#iso(), before.id);
    }
  }

  /** Final tasks of a platform whose asker was not yet told the current outcome, oldest first. */
  undelivered(platform: Platform): Task[] {
    const rows = this.#sql(
      `SELECT t.* FROM deliveries d JOIN tasks t ON t.id = d.task_id AND t.generation = d.generation
         WHERE d.state = 'pending' AND d.kind = 'result' AND d.platform = ? ORDER BY d.id`,
    ).all(platform) as Row[];
    return rows.map(fromRow);
  }

  /**
   * Claims up to `limit` due deliveries of a platform for `leaseMs`: pending, their next try come, nobody holding a
   * live lease. Each claim bumps the row's `claim` counter, which the sender quotes when it reports back.
   */
  claimDeliveries(platform: Platform, kinds: readonly DeliveryKind[], leaseMs: number, limit: number): Delivery[] {
    const now = this.#now();
    return this.#db.transaction(() => {
      const rows = this.#sql(
        `SELECT id FROM deliveries WHERE state = 'pending' AND platform = ? AND ${kindsSql(kinds)}
           AND next_try_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_try_at, id LIMIT ?`,
      ).all(platform, now, now, limit) as { id: number }[];
      const claim = this.#sql('UPDATE deliveries SET lease_until = ?, claim = claim + 1 WHERE id = ?');
      return rows.map(({ id }) => {
        claim.run(now + leaseMs, id);
        return this.delivery(id)!;
      });
    })();
  }

  /** Epoch ms when the next delivery of a platform is due (its next try, or its lapsing lease); undefined if none. */
  nextDeliveryAt(platform: Platform, kinds: readonly DeliveryKind[]): number | undefined {
    const { at } = this.#sql(
      `SELECT min(CASE WHEN lease_until >= ? THEN lease_until + 1 ELSE next_try_at END) AS at FROM deliveries
         WHERE state = 'pending' AND platform = ? AND ${kindsSql(kinds)}`,
    ).get(this.#now(), platform) as { at: number | null };
    return at ?? undefined;
  }

  /**
   * Records that a delivery's message went out. Only a row still pending becomes `sent` (a retry may have
   * superseded it during the send), and a result marks its task delivered only while the task still has that
   * outcome in that generation. Returns whether the row was marked sent.
   */
  deliverySent(id: number): boolean {
    const at = this.#iso();
    return this.#db.transaction(() => {
      const row = this.delivery(id);
      if (!row) return false;
      const told = row.state === 'pending';
      this.#sql(
        `UPDATE deliveries SET sent_at = ?, lease_until = NULL, done_at = coalesce(done_at, ?),
           state = CASE state WHEN 'pending' THEN 'sent' ELSE state END WHERE id = ?`,
      ).run(at, at, id);
      if (told && row.kind === 'result') {
        this.#sql(
          `UPDATE tasks SET delivered_at = ?
             WHERE id = ? AND generation = ? AND status = ? AND delivered_at IS NULL`,
        ).run(at, row.taskId, row.generation, row.outcome);
      }
      return told;
    })();
  }

  /** A send failed for now: counts the try, keeps the error, schedules the next try. False when the claim was lost. */
  deliveryFailed(id: number, claim: number, error: string, nextTryAt: number): boolean {
    return (
      this.#sql(
        `UPDATE deliveries SET tries = tries + 1, last_error = ?, next_try_at = ?, lease_until = NULL
           WHERE id = ? AND claim = ? AND state = 'pending'`,
      ).run(error, nextTryAt, id, claim).changes === 1
    );
  }

  /** The platform refused for good (bot blocked, chat gone): the row ends, with why. */
  deliveryGivenUp(id: number, claim: number, reason: string): boolean {
    return (
      this.#sql(
        `UPDATE deliveries SET state = 'given_up', tries = tries + 1, given_up_reason = ?, last_error = ?,
           lease_until = NULL, done_at = ? WHERE id = ? AND claim = ? AND state = 'pending'`,
      ).run(reason, reason, this.#iso(), id, claim).changes === 1
    );
  }

  /** The outcome a row tells is no longer the task's (it was retried, or is gone): the row ends unsent. */
  deliverySuperseded(id: number): void {
    this.#sql(
      `UPDATE deliveries SET state = 'superseded', lease_until = NULL, done_at = ? WHERE id = ? AND state = 'pending'`,
    ).run(this.#iso(), id);
  }

  /**
   * Frees every delivery lease. For start-up only: the SQLite store has one process per DATA_DIR, so any lease found
   * then belonged to a process that is gone. Returns how many were freed.
   */
  releaseDeliveryLeases(): number {
    return this.#sql(
      "UPDATE deliveries SET lease_until = NULL WHERE state = 'pending' AND lease_until IS NOT NULL",
    ).run().changes;
  }

  /** Moves every waiting retry of a platform to now (the platform answered again after an outage). */
  expediteDeliveries(platform: Platform): number {
    const now = this.#now();
    return this.#sql(
      "UPDATE deliveries SET next_try_at = ? WHERE state = 'pending' AND platform = ? AND tries > 0 AND next_try_at > ?",
    ).run(now, platform, now).changes;
  }

  delivery(id: number): Delivery | undefined {
    const row = this.#sql('SELECT * FROM deliveries WHERE id = ?').get(id) as Row | undefined;
    return row && deliveryFromRow(row);
  }

  /** Deliveries of one task (every outcome it was owed) or of one incident, oldest first. */
  deliveries(of: { taskId: string } | { incidentId: number }): Delivery[] {
    const rows = (
      'taskId' in of
        ? this.#sql('SELECT * FROM deliveries WHERE task_id = ? ORDER BY id').all(of.taskId)
        : this.#sql('SELECT * FROM deliveries WHERE incident_id = ? ORDER BY id').all(of.incidentId)
    ) as Row[];
    return rows.map(deliveryFromRow);
  }

  /**
   * Records a provider incident and one alert delivery per recipient, in one transaction. A report that repeats the
   * subject's latest state (same kind and code), or a recovery of a subject with no incident, is not a new incident:
   * returns undefined and queues nothing.
   */
  recordIncident(
    incident: ProviderIncident,
    recipients: readonly { platform: Platform; recipient: string }[],
  ): RecordedIncident | undefined {
    return this.#db.transaction(() => {
      const last = this.#sql(
        'SELECT kind, code FROM incidents WHERE provider = ? AND subject = ? ORDER BY id DESC LIMIT 1',
      ).get(incident.provider, incident.subject) as { kind: string; code: string | null } | undefined;
      const repeated = last
        ? last.kind === incident.kind && last.code === (incident.code ?? null)
        : incident.kind === 'recovered';
      if (repeated) return undefined;
      const at = this.#iso();
      const { lastInsertRowid } = this.#sql(
        `INSERT INTO incidents (provider, subject, kind, code, message, action, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        incident.provider,
        incident.subject,
        incident.kind,
        incident.code ?? null,
        incident.message,
        incident.action ?? null,
        at,
      );
      const id = Number(lastInsertRowid);
      const alert = this.#sql(
        `INSERT OR IGNORE INTO deliveries (kind, platform, incident_id, recipient, next_try_at, created_at)
           VALUES ('alert', ?, ?, ?, ?, ?)`,
      );
      for (const { platform, recipient } of recipients) alert.run(platform, id, recipient, this.#now(), at);
      return this.incident(id);
    })();
  }

  incident(id: number): RecordedIncident | undefined {
    const row = this.#sql('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined;
    return row && incidentFromRow(row);
  }

  // ── Admin page reads (issue 17) ─────────────────────────────────────────────────────────────────────────────────
  // What the admin web page shows: each task's event history, tasks per day, time to video per provider (the
  // percentiles computed here, not by loading tasks), failing deliveries, live tasks per upstream session, and a
  // task search with the page's filters.

  /**
   * Appends one row to a task's history (called for every task event). A `completed` row keeps how long the run took
   * from its `queued` row (a run queued before history was kept: from the task's creation).
   */
  recordTaskEvent(event: string, task: Task, note: string | null): void {
    const at = this.#iso();
    let runMs: number | null = null;
    if (event === 'completed') {
      const queued = this.#sql(
        `SELECT min(at) AS at FROM task_events WHERE task_id = ? AND generation = ? AND event = 'queued'`,
      ).get(task.id, task.generation) as { at: string | null };
      runMs = Math.max(0, Date.parse(at) - Date.parse(queued.at ?? task.createdAt));
    }
    this.#sql(
      `INSERT INTO task_events (task_id, generation, provider, event, status, attempts, progress, note, run_ms, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(task.id, task.generation, task.provider, event, task.status, task.attempts, task.progress, note, runMs, at);
  }

  /** A task's history, oldest first (at most the latest `limit` rows: a doubao task may be looked at 80 times). */
  taskEvents(taskId: string, limit = 200): TaskEventRecord[] {
    const rows = this.#sql(
      `SELECT * FROM (SELECT * FROM task_events WHERE task_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
    ).all(taskId, limit) as Row[];
    return rows.map(taskEventFromRow);
  }

  /** Tasks created per UTC day and provider since `sinceIso`, by how they stand now. */
  tasksPerDay(sinceIso: string): DayCount[] {
    return this.#sql(
      `SELECT substr(created_at, 1, 10) AS day, provider, count(*) AS total,
              sum(status = 'completed') AS completed, sum(status = 'failed') AS failed,
              sum(status = 'cancelled') AS cancelled
         FROM tasks WHERE created_at >= ? GROUP BY day, provider ORDER BY day, provider`,
    ).all(sinceIso) as DayCount[];
  }

  /**
   * Per provider, videos made since `sinceIso` and the median and 95th percentile (nearest rank) of the time from
   * the request (or the retry) to the video, ranked by SQLite over the completed rows' index only.
   */
  timeToVideo(sinceIso: string): VideoTiming[] {
    return this.#sql(
      `WITH ranked AS (
         SELECT provider, run_ms, row_number() OVER (PARTITION BY provider ORDER BY run_ms) AS rank,
                count(*) OVER (PARTITION BY provider) AS n
           FROM task_events INDEXED BY task_events_completed
          WHERE event = 'completed' AND at >= ? AND run_ms IS NOT NULL)
       SELECT provider, n AS videos,
              min(CASE WHEN rank >= 0.5 * n THEN run_ms END) AS medianMs,
              min(CASE WHEN rank >= 0.95 * n THEN run_ms END) AS p95Ms
         FROM ranked GROUP BY provider ORDER BY provider`,
    ).all(sinceIso) as VideoTiming[];
  }

  /** Deliveries that failed at least once and are still tried, or were given up since `sinceIso`; newest first. */
  failingDeliveries(sinceIso: string, limit: number): { retrying: number; givenUp: number; recent: Delivery[] } {
    const where = `(state = 'pending' AND tries > 0) OR (state = 'given_up' AND done_at >= ?)`;
    const counts = this.#sql(`SELECT state, count(*) AS n FROM deliveries WHERE ${where} GROUP BY state`).all(
      sinceIso,
    ) as { state: DeliveryState; n: number }[];
    const rows = this.#sql(`SELECT * FROM deliveries WHERE ${where} ORDER BY id DESC LIMIT ?`).all(
      sinceIso,
      limit,
    ) as Row[];
    const count = (state: DeliveryState) => counts.find((c) => c.state === state)?.n ?? 0;
    return { retrying: count('pending'), givenUp: count('given_up'), recent: rows.map(deliveryFromRow) };
  }

  /** Unfinished tasks of a provider by one field of their upstream reference (Doubao: the owning session). */
  liveTasksByUpstreamField(provider: string, field: string): Map<string, number> {
    const rows = this.#sql(
      `SELECT json_extract(upstream, ?) AS value, count(*) AS n FROM tasks INDEXED BY tasks_live
         WHERE ${ACTIVE} AND provider = ? AND upstream_id IS NOT NULL GROUP BY value`,
    ).all(`$.${field}`, provider) as { value: unknown; n: number }[];
    return new Map(rows.filter((r) => r.value !== null).map((r) => [String(r.value), r.n]));
  }

  /** Newest first, with the admin page's filters; `text` finds prompts containing it (any case, literally). */
  searchTasks(filter: TaskSearch): { total: number; tasks: Task[] } {
    const conditions: [string, unknown][] = [
      ['status = ?', filter.status],
      ['platform = ?', filter.platform],
      ['provider = ?', filter.provider],
      ['user_id = ?', filter.userId],
      ["prompt LIKE ? ESCAPE '\\'", filter.text && `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
    ];
    const used = conditions.filter(([, value]) => value !== undefined && value !== '');
    const clause = used.length ? `WHERE ${used.map(([sql]) => sql).join(' AND ')}` : '';
    const params = used.map(([, value]) => value);
    const { n } = this.#sql(`SELECT count(*) AS n FROM tasks ${clause}`).get(...params) as { n: number };
    const rows = this.#sql(`SELECT * FROM tasks ${clause} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`).all(
      ...params,
      filter.limit,
      filter.offset,
    ) as Row[];
    return { total: n, tasks: rows.map(fromRow) };
  }

  // ── Per-user limits (issue 15) ─────────────────────────────────────────────────────────────────────────────────
  // An admin's limits for one chat user, and when an admin last reset that user's daily count. A missing row (or a
  // null limit) means the configured default.

  userLimits(platform: Platform, userId: string): UserLimits | undefined {
    const row = this.#sql('SELECT * FROM user_limits WHERE platform = ? AND user_id = ?').get(platform, userId) as
      | Row
      | undefined;
    if (!row) return undefined;
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      maxActive: num(row.max_active),
      dailyLimit: num(row.daily_limit),
      dailyResetAt: row.daily_reset_at === null ? null : String(row.daily_reset_at),
    };
  }

  /** Sets (or with nulls, goes back to the defaults for) one user's limits; a daily reset already made stays. */
  setUserLimits(platform: Platform, userId: string, limits: { maxActive: number | null; dailyLimit: number | null }) {
    this.#sql(
      `INSERT INTO user_limits (platform, user_id, max_active, daily_limit, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (platform, user_id) DO UPDATE
           SET max_active = excluded.max_active, daily_limit = excluded.daily_limit, updated_at = excluded.updated_at`,
    ).run(platform, userId, limits.maxActive, limits.dailyLimit, this.#iso());
  }

  /** From now on, only tasks created after this moment count against the user's daily limit. */
  resetUserDaily(platform: Platform, userId: string): void {
    const now = this.#iso();
    // One millisecond on: a task created in the same millisecond, just before the reset, must not count either.
    const from = new Date(this.#now() + 1).toISOString();
    this.#sql(
      `INSERT INTO user_limits (platform, user_id, daily_reset_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (platform, user_id) DO UPDATE SET daily_reset_at = excluded.daily_reset_at, updated_at = excluded.updated_at`,
    ).run(platform, userId, from, now);
  }

  // ── Control and live queue (issue 15) ──────────────────────────────────────────────────────────────────────────
  // `video_times`: when each task's upstream job started and when its video was ready, the history the wait
  // estimate reads. `pending_photos`: a Telegram photo waiting for its prompt, under the question's chat:message key.

  /** The task's upstream job started now (again, after a retry: the newer start counts). */
  videoStarted(taskId: string, provider: string, at: number): void {
    this.#sql(
      `INSERT INTO video_times (task_id, provider, started_at, done_at) VALUES (?, ?, ?, NULL)
         ON CONFLICT (task_id) DO UPDATE SET provider = excluded.provider, started_at = excluded.started_at, done_at = NULL`,
    ).run(taskId, provider, at);
  }

  /**
   * The task's video is ready; `startedAt` stands in when no start was seen (a job adopted after a restart). Only
   * the provider's latest `keep` completions are kept: the estimate reads far fewer.
   */
  videoDone(taskId: string, provider: string, at: number, startedAt: number, keep = 100): void {
    this.#db.transaction(() => {
      this.#sql(
        `INSERT INTO video_times (task_id, provider, started_at, done_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (task_id) DO UPDATE SET done_at = excluded.done_at WHERE video_times.done_at IS NULL`,
      ).run(taskId, provider, Math.min(startedAt, at), at);
      this.#sql(
        `DELETE FROM video_times WHERE provider = ? AND done_at < (
           SELECT done_at FROM video_times INDEXED BY video_times_recent
            WHERE provider = ? AND done_at IS NOT NULL ORDER BY done_at DESC LIMIT 1 OFFSET ?)`,
      ).run(provider, provider, keep - 1);
    })();
  }

  /** When the task's current upstream job started (epoch ms), while its video is not ready. */
  videoStartedAt(taskId: string): number | undefined {
    const row = this.#sql('SELECT started_at FROM video_times WHERE task_id = ? AND done_at IS NULL').get(taskId) as
      | { started_at: number }
      | undefined;
    return row?.started_at;
  }

  /** A task that ended without a video leaves no time behind. */
  forgetVideoTime(taskId: string): void {
    this.#sql('DELETE FROM video_times WHERE task_id = ? AND done_at IS NULL').run(taskId);
  }

  /** Start-to-video times (ms) of the provider's last `limit` completed tasks, newest first. */
  recentVideoTimesMs(provider: string, limit: number): number[] {
    const rows = this.#sql(
      `SELECT done_at - started_at AS ms FROM video_times INDEXED BY video_times_recent
         WHERE provider = ? AND done_at IS NOT NULL ORDER BY done_at DESC LIMIT ?`,
    ).all(provider, limit) as { ms: number }[];
    return rows.map((r) => r.ms);
  }

  /** The provider's unfinished tasks in line order (oldest first): what decides each one's position. */
  activeLine(provider: string): { id: string; platform: Platform; userId: string; createdAt: string }[] {
    const rows = this.#sql(
      `SELECT id, platform, user_id, created_at FROM tasks WHERE ${ACTIVE} AND provider = ? ORDER BY created_at, id`,
    ).all(provider) as { id: string; platform: Platform; user_id: string; created_at: string }[];
    return rows.map((r) => ({ id: r.id, platform: r.platform, userId: r.user_id, createdAt: r.created_at }));
  }

  /** Keeps a photo waiting for its prompt until `expiresAt`, and removes the ones whose time is over. */
  keepPendingPhoto(key: string, userId: string, photo: unknown, expiresAt: number): void {
    this.#db.transaction(() => {
      this.#sql('DELETE FROM pending_photos WHERE expires_at <= ?').run(this.#now());
      this.#sql(
        `INSERT INTO pending_photos (key, user_id, photo, expires_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET user_id = excluded.user_id, photo = excluded.photo, expires_at = excluded.expires_at`,
      ).run(key, userId, JSON.stringify(photo), expiresAt);
    })();
  }

  /** Removes and returns the photo kept under `key` for this user, unless it expired; undefined otherwise. */
  takePendingPhoto(key: string, userId: string): unknown {
    const row = this.#sql(
      'DELETE FROM pending_photos WHERE key = ? AND user_id = ? AND expires_at > ? RETURNING photo',
    ).get(key, userId, this.#now()) as { photo: string } | undefined;
    return row ? JSON.parse(row.photo) : undefined;
  }

  /** How many photos wait for a prompt (expired ones not yet removed included). */
  countPendingPhotos(): number {
    return (this.#sql('SELECT count(*) AS n FROM pending_photos').get() as { n: number }).n;
  }

  // ---- Admin page sessions (issue 16: kept in the database, so every process knows them) ----------------------

  /** Keeps a session (by the hash of its id) until `expiresAt`; drops expired ones, and all but the newest 1 000. */
  keepAdminSession(idHash: string, csrf: string, expiresAt: number): void {
    this.#db.transaction(() => {
      this.#sql('DELETE FROM admin_sessions WHERE expires_at <= ?').run(this.#now());
      this.#sql(
        `INSERT INTO admin_sessions (id_hash, csrf, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (id_hash) DO UPDATE SET csrf = excluded.csrf, expires_at = excluded.expires_at`,
      ).run(idHash, csrf, expiresAt);
      this.#sql(
        `DELETE FROM admin_sessions WHERE id_hash NOT IN
           (SELECT id_hash FROM admin_sessions ORDER BY expires_at DESC, id_hash LIMIT ?)`,
      ).run(MAX_ADMIN_SESSIONS);
    })();
  }

  /** The session with this id hash, unless it expired or ended. */
  adminSession(idHash: string): { csrf: string; expiresAt: number } | undefined {
    const row = this.#sql('SELECT csrf, expires_at FROM admin_sessions WHERE id_hash = ? AND expires_at > ?').get(
      idHash,
      this.#now(),
    ) as { csrf: string; expires_at: number } | undefined;
    return row && { csrf: row.csrf, expiresAt: row.expires_at };
  }

  endAdminSession(idHash: string): void {
    this.#sql('DELETE FROM admin_sessions WHERE id_hash = ?').run(idHash);
  }
}

/** Admin page sessions kept at most; the oldest go first (sign-ins are rare: this bounds a flood of loopback visits). */
export const MAX_ADMIN_SESSIONS = 1_000;

/** One user's own limits (null: the configured default) and their last daily reset (ISO 8601), from `user_limits`. */
export interface UserLimits {
  maxActive: number | null;
  dailyLimit: number | null;
  dailyResetAt: string | null;
}

const DELIVERY_KINDS: readonly DeliveryKind[] = ['result', 'alert'];

/** `kind IN (…)` from the typed kinds (never user input; checked anyway, as it is spliced into SQL). */
function kindsSql(kinds: readonly DeliveryKind[]): string {
  const valid = kinds.filter((k) => DELIVERY_KINDS.includes(k));
  return valid.length ? `kind IN (${valid.map((k) => `'${k}'`).join(',')})` : '0';
}

/** A state change lost a race: the task moved on since it was read. Callers re-read and decide again. */
export class StaleTask extends Error {
  override readonly name: string = 'StaleTask';
}

/** A step's write refused: its lease was claimed again (it lapsed, or its owner was taken for dead). */
export class LeaseLost extends StaleTask {
  override readonly name = 'LeaseLost';
}

/** The database file is corrupt, not a database, or cannot be opened; its message says which file and what to do. */
export class DatabaseUnusable extends Error {
  override readonly name = 'DatabaseUnusable';
}

const UNUSABLE = /^(SQLITE_(NOTADB|CORRUPT|CANTOPEN|READONLY|IOERR|PERM|AUTH)|E(ACCES|PERM|ISDIR|ROFS))/;

/** A DatabaseUnusable naming the file, for the errors a damaged or unreachable file gives; others unchanged. */
function unusable(file: string, error: unknown): unknown {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !UNUSABLE.test(code)) return error;
  const fix = /NOTADB|CORRUPT/.test(code)
    ? 'restore it from a backup, or move it aside to start with an empty database'
    : `check that the file is a database file and that this user may read and write ${dirname(file)}`;
  return new DatabaseUnusable(`${file} cannot be used as the task database (${String(message)}): ${fix}`, {
    cause: error,
  });
}

/** Another live process has this database open as its store: one process owns a SQLite `DATA_DIR`. */
export class DataDirInUse extends Error {
  override readonly name = 'DataDirInUse';
}

/**
 * Takes the database's lock file (`<file>.lock`) for the life of the store: an exclusive SQLite transaction kept
 * open. The kernel drops the lock with the process, so a `kill -9` never leaves a stale lock (no pid file to
 * second-guess); the database itself stays readable beside the service (WAL).
 */
function lockDatabase(file: string): Database.Database {
  const lock = new Database(`${file}.lock`, { timeout: 0 });
  try {
    lock.pragma('journal_mode = MEMORY'); // nothing is written: no journal file beside the lock
    lock.exec('BEGIN EXCLUSIVE');
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new DataDirInUse(
      `${dirname(file)} is in use by another running service${describeOwner(file)}: stop it first, or give this one its own DATA_DIR`,
      { cause: error },
    );
  }
}

/** " (pid 123 on host, since …)" from the newest owner row, or "" when it cannot be read. */
function describeOwner(file: string): string {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 1000 });
    try {
      const row = db.prepare('SELECT pid, host, started_at FROM owners ORDER BY started_at DESC LIMIT 1').get() as
        | { pid: number; host: string; started_at: number }
        | undefined;
      return row ? ` (pid ${row.pid} on ${row.host}, since ${new Date(row.started_at).toISOString()})` : '';
    } finally {
      db.close();
    }
  } catch {
    return '';
  }
}

/** An insert whose request key is taken: the request was sent before. */
export class DuplicateRequest extends Error {
  override readonly name = 'DuplicateRequest';
}
