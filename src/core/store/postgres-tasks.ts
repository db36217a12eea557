/**
 * Tasks in the PostgreSQL store: insert (plain and within per-user limits), reads, lists, state changes with their
 * expectations (`StaleTask`, `LeaseLost`), the result deliveries a state change owes or supersedes, counts,
 * provider state and retention. Same meaning as the SQLite store's methods of the same names (src/core/store.ts).
 */
import type pg from 'pg';
import type { Expect, NewTask, TaskFilter, TaskPatch } from '../store.js';
import { DuplicateRequest, LeaseLost, StaleTask } from '../store.js';
import { isFinal, owesDelivery, type Platform, type Task, type TaskStatus, TRANSITIONS } from '../task.js';
import type { QuotaReads } from './contract.js';
import {
  ACTIVE,
  FINAL,
  holdsNul,
  iso,
  LOCK_QUOTA,
  notifyWakeup,
  type PgContext,
  type Queryable,
  sqliteLimit,
  sqliteOffset,
  transaction,
  WAKEUP_CHANNEL,
} from './postgres-db.js';
import { fromRow, insertParts, type Row, toRow } from './postgres-rows.js';
import { userLimits } from './postgres-user-limits.js';

async function oneTask(q: Queryable, sql: string, params: unknown[]): Promise<Task | undefined> {
  if (holdsNul(params)) return undefined;
  const { rows } = await q.query<Row>(sql, params);
  return rows[0] && fromRow(rows[0]);
}

export async function insert(db: PgContext, task: NewTask, q: Queryable = db.pool): Promise<Task> {
  const now = iso(db);
  const row = toRow({
    requestKey: null,
    generation: 0,
    options: null,
    ...task,
    createdAt: now,
    updatedAt: now,
  } as Partial<Task>);
  const { columns, placeholders, values } = insertParts(row);
  try {
    // One statement: the task and its announcement commit together (NOTIFY is sent on commit).
    const { rows } = await q.query<Row>(
      `WITH added AS (INSERT INTO tasks (${columns}) VALUES (${placeholders}) RETURNING *)
       SELECT added.*, pg_notify($${values.length + 1}, json_build_object('id', id, 'provider', provider)::text)
         FROM added`,
      [...values, WAKEUP_CHANNEL],
    );
    return fromRow(rows[0]!);
  } catch (error) {
    const duplicate = (error as { code?: string }).code === '23505' && task.requestKey;
    throw duplicate ? new DuplicateRequest(`request ${task.requestKey} exists`, { cause: error }) : error;
  }
}

/** Inserts once `check` accepted it, under a per-user lock held to commit, with reads inside that transaction. */
export async function insertChecked(
  db: PgContext,
  task: NewTask,
  check: (reads: QuotaReads) => void | Promise<void>,
): Promise<Task> {
  return transaction(db, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      LOCK_QUOTA,
      JSON.stringify([task.origin.platform, task.origin.userId]),
    ]);
    await check({
      userLimits: (platform, userId) => userLimits(client, platform, userId),
      countActiveByUser: (platform, userId) => countActiveByUser(client, platform, userId),
      countCreatedByUserSince: (platform, userId, since) => countCreatedByUserSince(client, platform, userId, since),
    });
    return insert(db, task, client);
  });
}

export const get = (q: Queryable, id: string) => oneTask(q, 'SELECT * FROM tasks WHERE id = $1', [id]);

export const findByRequestKey = (q: Queryable, key: string) =>
  oneTask(q, 'SELECT * FROM tasks WHERE request_key = $1', [key]);

export const findBySeedIds = (q: Queryable, conversationId: string, messageId: string) =>
  oneTask(
    q,
    'SELECT * FROM tasks WHERE conversation_id = $1 AND message_id = $2 ORDER BY created_at DESC, seq DESC LIMIT 1',
    [conversationId, messageId],
  );

export const findByUpstreamId = (q: Queryable, provider: string, upstreamId: string) =>
  oneTask(q, 'SELECT * FROM tasks WHERE provider = $1 AND upstream_id = $2 LIMIT 1', [provider, upstreamId]);

/** Newest first. `total` counts every match, ignoring limit/offset. */
export async function list(q: Queryable, filter: TaskFilter = {}): Promise<{ total: number; tasks: Task[] }> {
  const conditions: [string, unknown][] = [
    ['status', filter.status],
    ['user_id', filter.userId],
    ['platform', filter.platform],
    ['conversation_id', filter.conversationId],
  ];
  const used = conditions.filter(([, value]) => value !== undefined);
  const params = used.map(([, value]) => value);
  if (holdsNul(params)) return { total: 0, tasks: [] };
  return pageOfTasks(
    q,
    used.map(([col], i) => `${col} = $${i + 1}`),
    params,
    filter,
  );
}

/**
 * The tasks matching `where` (conditions numbered $1… over `params`), newest first, one page of them, and how many
 * match in all; a negative limit or offset reads as SQLite reads it.
 */
export async function pageOfTasks(
  q: Queryable,
  where: string[],
  params: unknown[],
  page: { limit?: number; offset?: number },
): Promise<{ total: number; tasks: Task[] }> {
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const n = params.length;
  const [count, rows] = await Promise.all([
    q.query<{ n: number }>(`SELECT count(*) AS n FROM tasks ${clause}`, params),
    q.query<Row>(`SELECT * FROM tasks ${clause} ORDER BY created_at DESC, seq DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [
      ...params,
      sqliteLimit(page.limit),
      sqliteOffset(page.offset),
    ]),
  ]);
  return { total: count.rows[0]!.n, tasks: rows.rows.map(fromRow) };
}

/** A state change in one transaction, the row locked while its expectations are checked (see TaskStore.update). */
export async function update(db: PgContext, id: string, patch: TaskPatch, expect?: Expect): Promise<Task> {
  return transaction(db, (client) => updateIn(db, client, id, patch, expect));
}

async function updateIn(
  db: PgContext,
  client: pg.PoolClient,
  id: string,
  patch: TaskPatch,
  expect?: Expect,
): Promise<Task> {
  const current = await oneTask(client, 'SELECT * FROM tasks WHERE id = $1 FOR UPDATE', [id]);
  if (!current) throw new Error(`task ${id} does not exist`);
  if (expect?.token !== undefined && current.leaseToken !== expect.token) {
    throw new LeaseLost(`task ${id} was claimed again (token ${current.leaseToken}, this step holds ${expect.token})`);
  }
  if (expect?.status && current.status !== expect.status) {
    throw new StaleTask(`task ${id} is ${current.status}, expected ${expect.status}`);
  }
  if (patch.status && !TRANSITIONS[current.status].includes(patch.status)) {
    throw new StaleTask(`task ${id} cannot go from ${current.status} to ${patch.status}`);
  }
  const row = toRow({ ...patch, updatedAt: iso(db) } as Partial<Task>);
  const columns = Object.keys(row);
  await client.query(`UPDATE tasks SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`, [
    id,
    ...Object.values(row),
  ]);
  if (patch.status) await onStatusChange(db, client, current, patch.status);
  return (await get(client, id))!;
}

/** In `update`'s transaction: a task that ends owes its asker the outcome; a retried one no longer does. */
async function onStatusChange(db: PgContext, client: pg.PoolClient, before: Task, status: TaskStatus): Promise<void> {
  if (!isFinal(before.status) && isFinal(status) && owesDelivery(before.origin)) {
    await client.query(
      `INSERT INTO deliveries (kind, platform, task_id, outcome, generation, next_try_at, created_at)
         VALUES ('result', $1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [before.origin.platform, before.id, status, before.generation, db.now(), iso(db)],
    );
  } else if (isFinal(before.status) && !isFinal(status)) {
    await client.query('UPDATE tasks SET generation = generation + 1, delivered_at = NULL WHERE id = $1', [before.id]);
    await client.query(
      `UPDATE deliveries SET state = 'superseded', lease_until = NULL, lease_owner = NULL, done_at = $1
         WHERE kind = 'result' AND task_id = $2 AND state = 'pending'`,
      [iso(db), before.id],
    );
    await notifyWakeup(client, before.id, before.provider);
  }
}

/** Fails every unfinished task made for another provider, each through `update` so it owes its delivery. */
export async function failOtherProviders(
  db: PgContext,
  provider: string,
  reason: (other: string) => string,
): Promise<Task[]> {
  return transaction(db, async (client) => {
    const { rows } = await client.query<{ id: string; provider: string }>(
      `SELECT id, provider FROM tasks WHERE ${ACTIVE} AND provider <> $1 ORDER BY seq`,
      [provider],
    );
    const failed: Task[] = [];
    for (const row of rows) {
      const patch: TaskPatch = {
        status: 'failed',
        error: reason(row.provider),
        errorReason: { code: 'PROVIDER_NOT_SERVED', params: { provider: row.provider, running: provider } },
        nextAttemptAt: null,
        leaseUntil: null,
      };
      failed.push(await updateIn(db, client, row.id, patch));
    }
    return failed;
  });
}

async function count(q: Queryable, where: string, params: unknown[]): Promise<number> {
  const { rows } = await q.query<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE ${where}`, params);
  return rows[0]!.n;
}

export const countRunning = (q: Queryable, provider: string) =>
  count(q, `${ACTIVE} AND provider = $1 AND upstream_id IS NOT NULL`, [provider]);

export const countActiveByUser = (q: Queryable, platform: Platform, userId: string) =>
  count(q, `${ACTIVE} AND platform = $1 AND user_id = $2`, [platform, userId]);

export const countCreatedByUserSince = (q: Queryable, platform: Platform, userId: string, sinceIso: string) =>
  count(q, 'platform = $1 AND user_id = $2 AND created_at >= $3', [platform, userId, sinceIso]);

export const countAhead = (q: Queryable, task: Task) =>
  count(q, `${ACTIVE} AND provider = $1 AND created_at < $2`, [task.provider, task.createdAt]);

export async function countByStatus(q: Queryable): Promise<Record<TaskStatus, number>> {
  const { rows } = await q.query<{ status: TaskStatus; n: number }>(
    'SELECT status, count(*) AS n FROM tasks GROUP BY status',
  );
  const counts = { pending: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const { status, n } of rows) counts[status] = n;
  return counts;
}

// ── Provider state ───────────────────────────────────────────────────────────────────────────────────────────

export async function getProviderState<T>(q: Queryable, provider: string, key: string): Promise<T | undefined> {
  const { rows } = await q.query<{ value: T }>('SELECT value FROM provider_state WHERE provider = $1 AND key = $2', [
    provider,
    key,
  ]);
  return rows[0] ? rows[0].value : undefined;
}

export async function setProviderState(db: PgContext, provider: string, key: string, value: unknown): Promise<void> {
  await db.pool.query(
    `INSERT INTO provider_state (provider, key, value, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (provider, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    [provider, key, JSON.stringify(value ?? null), iso(db)],
  );
}

export async function providerStateEntries<T>(q: Queryable, provider: string, prefix: string): Promise<[string, T][]> {
  const { rows } = await q.query<{ key: string; value: T }>(
    'SELECT key, value FROM provider_state WHERE provider = $1 AND left(key, length($2)) = $2 ORDER BY key COLLATE "C"',
    [provider, prefix],
  );
  return rows.map(({ key, value }) => [key, value]);
}

// ── Retention ────────────────────────────────────────────────────────────────────────────────────────────────

export async function keptVideosBefore(q: Queryable, beforeIso: string, limit: number) {
  const { rows } = await q.query<{ id: string; videoFile: string }>(
    `SELECT id, video_file AS "videoFile" FROM tasks
       WHERE video_file IS NOT NULL AND video_removed_at IS NULL AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
    [beforeIso, limit],
  );
  return rows;
}

export async function markVideoRemoved(db: PgContext, id: string): Promise<void> {
  await db.pool.query('UPDATE tasks SET video_removed_at = $1 WHERE id = $2', [iso(db), id]);
}

export async function videoRemovedAt(q: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await q.query<{ at: string | null }>('SELECT video_removed_at AS at FROM tasks WHERE id = $1', [id]);
  return rows[0]?.at ?? undefined;
}

export async function releasableImages(q: Queryable, retryBeforeIso: string, limit: number) {
  const { rows } = await q.query<{ id: string; imagePath: string }>(
    `SELECT id, image_path AS "imagePath" FROM tasks
       WHERE image_path IS NOT NULL AND ${FINAL} AND updated_at < $1 LIMIT $2`,
    [retryBeforeIso, limit],
  );
  return rows;
}

export async function releaseImage(q: Queryable, id: string, imagePath: string): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE tasks SET image_path = NULL WHERE id = $1 AND image_path = $2 AND ${FINAL}`,
    [id, imagePath],
  );
  return rowCount === 1;
}

export async function imagePathsInUse(q: Queryable): Promise<Set<string>> {
  const { rows } = await q.query<{ path: string }>('SELECT image_path AS path FROM tasks WHERE image_path IS NOT NULL');
  return new Set(rows.map((r) => r.path));
}
