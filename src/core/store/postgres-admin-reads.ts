/**
 * The admin page's reads (issue 17) in the PostgreSQL store: each task's event history, tasks per day, time to video
 * per provider, failing deliveries, live tasks per upstream field and the task search. Same meaning and answers as
 * the "Admin page reads" block of the SQLite store (src/core/store.ts): the same nearest-rank percentiles, text
 * ordered byte-wise (`COLLATE "C"`, SQLite's BINARY) and prompts matched with SQLite's LIKE rule (ASCII letters in
 * any case, every other character as written).
 */
import {
  type DayCount,
  type TaskEventRecord,
  type TaskSearch,
  taskEventFromRow,
  type VideoTiming,
} from '../admin-reads.js';
import type { Delivery, DeliveryState } from '../delivery.js';
import type { Task } from '../task.js';
import { deliveryFromRow } from './outbox-rows.js';
import { ACTIVE, holdsNul, iso, type PgContext, type Queryable, sqliteLimit } from './postgres-db.js';
import type { Row } from './postgres-rows.js';
import { pageOfTasks } from './postgres-tasks.js';

/** Appends one row to a task's history; a `completed` row keeps its run's duration from the run's `queued` row. */
export async function recordTaskEvent(db: PgContext, event: string, task: Task, note: string | null): Promise<void> {
  const at = iso(db);
  let runMs: number | null = null;
  if (event === 'completed') {
    const { rows } = await db.pool.query<{ at: string | null }>(
      `SELECT min(at) AS at FROM task_events WHERE task_id = $1 AND generation = $2 AND event = 'queued'`,
      [task.id, task.generation],
    );
    runMs = Math.max(0, Date.parse(at) - Date.parse(rows[0]?.at ?? task.createdAt));
  }
  await db.pool.query(
    `INSERT INTO task_events (task_id, generation, provider, event, status, attempts, progress, note, run_ms, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [task.id, task.generation, task.provider, event, task.status, task.attempts, task.progress, note, runMs, at],
  );
}

/** A task's history, oldest first: at most the latest `limit` rows. */
export async function taskEvents(q: Queryable, taskId: string, limit = 200): Promise<TaskEventRecord[]> {
  if (holdsNul([taskId])) return [];
  const { rows } = await q.query<Row>(
    `SELECT * FROM (SELECT * FROM task_events WHERE task_id = $1 ORDER BY id DESC LIMIT $2) AS latest ORDER BY id`,
    [taskId, sqliteLimit(limit)],
  );
  return rows.map(taskEventFromRow);
}

/** Tasks created per UTC day and provider since `sinceIso`, by how they stand now. */
export async function tasksPerDay(q: Queryable, sinceIso: string): Promise<DayCount[]> {
  const { rows } = await q.query<DayCount>(
    `SELECT * FROM (
       SELECT substr(created_at, 1, 10) AS day, provider, count(*) AS total,
              count(*) FILTER (WHERE status = 'completed') AS completed,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              count(*) FILTER (WHERE status = 'cancelled') AS cancelled
         FROM tasks WHERE created_at >= $1 GROUP BY 1, provider) AS days
     ORDER BY day COLLATE "C", provider COLLATE "C"`,
    [sinceIso],
  );
  return rows;
}

/**
 * Per provider, videos made since `sinceIso` and the median and 95th percentile of their runs by nearest rank (the
 * smallest run whose rank reaches p·n), as the SQLite store ranks them.
 */
export async function timeToVideo(q: Queryable, sinceIso: string): Promise<VideoTiming[]> {
  const { rows } = await q.query<VideoTiming>(
    `WITH ranked AS (
       SELECT provider, run_ms, row_number() OVER (PARTITION BY provider ORDER BY run_ms) AS rank,
              count(*) OVER (PARTITION BY provider) AS n
         FROM task_events
        WHERE event = 'completed' AND at >= $1 AND run_ms IS NOT NULL)
     SELECT provider, n AS videos,
            min(CASE WHEN rank >= 0.5 * n THEN run_ms END) AS "medianMs",
            min(CASE WHEN rank >= 0.95 * n THEN run_ms END) AS "p95Ms"
       FROM ranked GROUP BY provider, n ORDER BY provider`,
    [sinceIso],
  );
  return rows;
}

/** Deliveries that failed at least once and are still tried, or were given up since `sinceIso`; newest first. */
export async function failingDeliveries(
  q: Queryable,
  sinceIso: string,
  limit: number,
): Promise<{ retrying: number; givenUp: number; recent: Delivery[] }> {
  const where = `(state = 'pending' AND tries > 0) OR (state = 'given_up' AND done_at >= $1)`;
  const [counts, recent] = await Promise.all([
    q.query<{ state: DeliveryState; n: number }>(
      `SELECT state, count(*) AS n FROM deliveries WHERE ${where} GROUP BY state`,
      [sinceIso],
    ),
    q.query<Row>(`SELECT * FROM deliveries WHERE ${where} ORDER BY id DESC LIMIT $2`, [sinceIso, sqliteLimit(limit)]),
  ]);
  const count = (state: DeliveryState) => counts.rows.find((c) => c.state === state)?.n ?? 0;
  return { retrying: count('pending'), givenUp: count('given_up'), recent: recent.rows.map(deliveryFromRow) };
}

/**
 * Unfinished tasks of a provider by one field of their upstream reference (a dotted path, as SQLite's `$.a.b`). The
 * value is keyed as SQLite's `json_extract` gives it: strings as they are, numbers as digits, booleans as 1 and 0.
 */
export async function liveTasksByUpstreamField(
  q: Queryable,
  provider: string,
  field: string,
): Promise<Map<string, number>> {
  const { rows } = await q.query<{ value: unknown; n: number }>(
    `SELECT upstream #> string_to_array($1, '.') AS value, count(*) AS n FROM tasks
       WHERE ${ACTIVE} AND provider = $2 AND upstream_id IS NOT NULL GROUP BY 1`,
    [field, provider],
  );
  return new Map(rows.filter((r) => r.value !== null).map((r) => [sqliteJsonText(r.value), r.n]));
}

/** A JSON value as text the way SQLite's `json_extract` hands it over: booleans are 1 and 0, objects JSON text. */
function sqliteJsonText(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** ASCII upper case to lower case and nothing else: SQLite's LIKE folds these letters only. */
const ASCII_LOWER = `translate(%s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;

/**
 * Newest first, with the admin page's filters; `text` finds prompts containing it (ASCII in any case, literally).
 * PostgreSQL takes no NUL in text, so a filter holding one (a typed `%00`) gets SQLite's answer without it: an
 * equality matches nothing (no stored value holds a NUL), and a pattern is read up to its first NUL, as SQLite does.
 */
export async function searchTasks(q: Queryable, filter: TaskSearch): Promise<{ total: number; tasks: Task[] }> {
  const pattern = filter.text && `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`.split('\0')[0];
  const conditions: [string, string | undefined][] = [
    ['status = $?', filter.status],
    ['platform = $?', filter.platform],
    ['provider = $?', filter.provider],
    ['user_id = $?', filter.userId],
    [`${ASCII_LOWER.replace('%s', 'prompt')} LIKE ${ASCII_LOWER.replace('%s', '$?')} ESCAPE '\\'`, pattern],
  ];
  const params: string[] = [];
  const where: string[] = [];
  for (const [sql, value] of conditions) {
    if (value === undefined || value === '') continue;
    if (holdsNul([value])) {
      where.push('false');
      continue;
    }
    params.push(value);
    where.push(sql.replace('$?', `$${params.length}`));
  }
  return pageOfTasks(q, where, params, filter);
}
