/**
 * TaskStore keeps tasks in SQLite (better-sqlite3, WAL) and is the only module that talks to the database, behind
 * this narrow API, so another store (PostgreSQL) can be added without touching the scheduler or the adapters.
 *
 * Guarantees: every state change is one transaction, and an illegal transition (see `TRANSITIONS`) is refused.
 * A worker claims a task by setting a lease with compare-and-set; a lease that lapses (its worker died) makes the
 * task due again. Final tasks whose `delivered_at` is empty are what the outbox delivers again on start-up.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { FINAL_STATUSES, type Platform, type Task, type TaskStatus, TRANSITIONS } from './task.js';

export interface TaskFilter {
  status?: TaskStatus;
  userId?: string;
  platform?: Platform;
  conversationId?: string;
  limit?: number;
  offset?: number;
}

/** Fields a state change may set; `status` is checked against the transition table. */
export type TaskPatch = Partial<Omit<Task, 'id' | 'createdAt' | 'updatedAt' | 'origin'>> & {
  origin?: Task['origin'];
};

/** Tasks waiting for their upstream job to start, or started ones waiting for their next look. */
export type Stage = 'unstarted' | 'started';

type Row = Record<string, unknown>;

const FINAL_SQL = FINAL_STATUSES.map((s) => `'${s}'`).join(',');
const ACTIVE = `status NOT IN (${FINAL_SQL})`;
/** Written as the `tasks_wake`/`tasks_leases` index expressions so SQLite answers from those indexes. */
const STAGE_SQL: Record<Stage, string> = { unstarted: '(upstream IS NULL) = 1', started: '(upstream IS NULL) = 0' };

/** Column ↔ field; JSON columns are (de)serialised, booleans stored as 0/1. */
const COLUMNS: Record<string, { field: keyof Task; json?: boolean; bool?: boolean }> = {
  id: { field: 'id' },
  provider: { field: 'provider' },
  kind: { field: 'kind' },
  prompt: { field: 'prompt' },
  guest: { field: 'guest', bool: true },
  image_path: { field: 'imagePath' },
  image_ref: { field: 'imageRef', json: true },
  conversation_id: { field: 'conversationId' },
  message_id: { field: 'messageId' },
  section_id: { field: 'sectionId' },
  upstream: { field: 'upstream', json: true },
  status: { field: 'status' },
  attempts: { field: 'attempts' },
  max_attempts: { field: 'maxAttempts' },
  next_attempt_at: { field: 'nextAttemptAt' },
  lease_until: { field: 'leaseUntil' },
  progress: { field: 'progress' },
  video_urls: { field: 'videoUrls', json: true },
  video_file: { field: 'videoFile' },
  error: { field: 'error' },
  origin: { field: 'origin', json: true },
  request_key: { field: 'requestKey' },
  delivered_at: { field: 'deliveredAt' },
  created_at: { field: 'createdAt' },
  updated_at: { field: 'updatedAt' },
};
const FIELD_TO_COLUMN = new Map(Object.entries(COLUMNS).map(([col, spec]) => [spec.field as string, col]));

function toRow(fields: Partial<Task>): Row {
  const row: Row = {};
  for (const [key, value] of Object.entries(fields)) {
    const col = FIELD_TO_COLUMN.get(key);
    if (!col) continue;
    const spec = COLUMNS[col]!;
    row[col] = spec.json ? (value == null ? null : JSON.stringify(value)) : spec.bool ? (value ? 1 : 0) : value;
  }
  if (fields.origin) {
    row.platform = fields.origin.platform;
    row.user_id = fields.origin.userId;
  }
  return row;
}

function fromRow(row: Row): Task {
  const task: Record<string, unknown> = {};
  for (const [col, spec] of Object.entries(COLUMNS)) {
    const value = row[col];
    task[spec.field] = spec.json ? (value == null ? null : JSON.parse(String(value))) : spec.bool ? !!value : value;
  }
  return task as unknown as Task;
}

export class TaskStore {
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #statements = new Map<string, Database.Statement>();

  /** Opens (creating if needed) the database file and brings its schema up to date. */
  constructor(file: string, now: () => number = Date.now) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#now = now;
    this.#migrate();
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
  insert(task: Omit<Task, 'createdAt' | 'updatedAt' | 'requestKey'> & { requestKey?: string | null }): Task {
    const now = this.#iso();
    const row = toRow({ requestKey: null, ...task, createdAt: now, updatedAt: now });
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

  /** The task of a provider's upstream job, by the job's id (an upstream callback names only that). */
  findByUpstreamId(provider: string, upstreamId: string): Task | undefined {
    const row = this.#sql("SELECT * FROM tasks WHERE provider = ? AND json_extract(upstream, '$.id') = ? LIMIT 1").get(
      provider,
      upstreamId,
    ) as Row | undefined;
    return row && fromRow(row);
  }

  /**
   * Unfinished, unstarted tasks that carry a lease: a start was under way when the process that held the lease
   * stopped, so the upstream job may exist unrecorded. Meaningful at start-up, before our own steps run.
   */
  interruptedStarts(provider: string): Task[] {
    const rows =
      this.#sql(`SELECT * FROM tasks WHERE ${ACTIVE} AND provider = ? AND upstream IS NULL AND lease_until IS NOT NULL
                ORDER BY lease_until`).all(provider) as Row[];
    return rows.map(fromRow);
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
   * given) a task whose status moved since it was read.
   */
  update(id: string, patch: TaskPatch, expect?: { status?: TaskStatus }): Task {
    return this.#db.transaction(() => {
      const current = this.get(id);
      if (!current) throw new Error(`task ${id} does not exist`);
      if (expect?.status && current.status !== expect.status) {
        throw new StaleTask(`task ${id} is ${current.status}, expected ${expect.status}`);
      }
      if (patch.status && !TRANSITIONS[current.status].includes(patch.status)) {
        throw new StaleTask(`task ${id} cannot go from ${current.status} to ${patch.status}`);
      }
      const row = toRow({ ...patch, updatedAt: this.#iso() } as Partial<Task>);
      const sets = Object.keys(row).map((c) => `${c} = @${c}`);
      this.#sql(`UPDATE tasks SET ${sets.join(', ')} WHERE id = @id`).run({ ...row, id });
      return this.get(id)!;
    })();
  }

  /**
   * Claims up to `limit` due tasks for `leaseMs` (compare-and-set, safe across processes). A task is due when its
   * next look has come and nobody holds a live lease on it. `which` picks tasks waiting to start, or started ones;
   * `onlyId` restricts the claim to one task.
   */
  claimDue(provider: string, which: Stage, leaseMs: number, limit: number, onlyId?: string): Task[] {
    const now = this.#now();
    return this.#db.transaction(() => {
      const rows = this.#sql(
        `SELECT id FROM tasks WHERE ${ACTIVE} AND next_attempt_at IS NOT NULL AND provider = ? AND ${STAGE_SQL[which]}
             AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) ${onlyId ? 'AND id = ?' : ''}
           ORDER BY next_attempt_at LIMIT ?`,
      ).all(provider, now, now, ...(onlyId ? [onlyId] : []), limit) as { id: string }[];
      const claim = this.#sql('UPDATE tasks SET lease_until = ? WHERE id = ?');
      return rows.map(({ id }) => {
        claim.run(now + leaseMs, id);
        return this.get(id)!;
      });
    })();
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

  /** Unfinished tasks whose upstream job has started: what a provider's `maxRunning` limits. */
  countRunning(provider: string): number {
    return this.#count(`${ACTIVE} AND provider = ? AND upstream IS NOT NULL`, provider);
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

  /** Final tasks of a platform whose asker was not yet told the result, oldest first. */
  undelivered(platform: Platform): Task[] {
    const rows = this.#sql(`SELECT * FROM tasks WHERE status IN (${FINAL_SQL}) AND platform = ? AND delivered_at IS NULL
                ORDER BY updated_at`).all(platform) as Row[];
    return rows.map(fromRow);
  }

  /** Marks the outbox entry done; returns false when it was already marked (someone else delivered it). */
  markDelivered(id: string): boolean {
    return (
      this.#sql('UPDATE tasks SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL').run(this.#iso(), id)
        .changes === 1
    );
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

  /** SQLite's own `PRAGMA integrity_check`; 'ok' when the file is sound. */
  integrityCheck(): string {
    return this.#db.pragma('integrity_check', { simple: true }) as string;
  }

  close(): void {
    this.#db.close();
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
}

/** A state change lost a race: the task moved on since it was read. Callers re-read and decide again. */
export class StaleTask extends Error {
  override readonly name = 'StaleTask';
}

/** An insert whose request key is taken: the request was sent before. */
export class DuplicateRequest extends Error {
  override readonly name = 'DuplicateRequest';
}
