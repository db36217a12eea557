/**
 * Control and live queue (issue 15) in the PostgreSQL store: `video_times` (when each task's upstream job started and
 * its video was ready: the wait estimate's history), the provider's line of unfinished tasks, and `pending_photos` (a
 * Telegram photo waiting for its prompt). Same meaning and answers as the SQLite store's "Control and live queue"
 * block (src/core/store.ts): ties in time are broken by insertion order (`seq`, SQLite's rowid), ids in byte order.
 */
import type { Platform } from '../task.js';
import { ACTIVE, holdsNul, type PgContext, type Queryable, transaction } from './postgres-db.js';

/** The task's upstream job started at `at` (again, after a retry: the newer start counts). */
export async function videoStarted(db: PgContext, taskId: string, provider: string, at: number): Promise<void> {
  await db.pool.query(
    `INSERT INTO video_times (task_id, provider, started_at, done_at) VALUES ($1, $2, $3, NULL)
       ON CONFLICT (task_id) DO UPDATE
         SET provider = excluded.provider, started_at = excluded.started_at, done_at = NULL`,
    [taskId, provider, at],
  );
}

/** The task's video is ready (`startedAt` when no start was seen); keeps the provider's latest `keep` completions. */
export async function videoDone(
  db: PgContext,
  taskId: string,
  provider: string,
  at: number,
  startedAt: number,
  keep = 100,
): Promise<void> {
  await transaction(db, async (client) => {
    await client.query(
      `INSERT INTO video_times (task_id, provider, started_at, done_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (task_id) DO UPDATE SET done_at = excluded.done_at WHERE video_times.done_at IS NULL`,
      [taskId, provider, Math.min(startedAt, at), at],
    );
    await client.query(
      `DELETE FROM video_times WHERE provider = $1 AND done_at < (
         SELECT done_at FROM video_times WHERE provider = $1 AND done_at IS NOT NULL
          ORDER BY done_at DESC LIMIT 1 OFFSET $2)`,
      [provider, Math.max(0, keep - 1)],
    );
  });
}

/** When the task's current upstream job started (epoch ms), while its video is not ready. */
export async function videoStartedAt(q: Queryable, taskId: string): Promise<number | undefined> {
  if (holdsNul([taskId])) return undefined;
  const { rows } = await q.query<{ started_at: number }>(
    'SELECT started_at FROM video_times WHERE task_id = $1 AND done_at IS NULL',
    [taskId],
  );
  return rows[0]?.started_at;
}

/** A task that ended without a video leaves no time behind. */
export async function forgetVideoTime(q: Queryable, taskId: string): Promise<void> {
  if (holdsNul([taskId])) return;
  await q.query('DELETE FROM video_times WHERE task_id = $1 AND done_at IS NULL', [taskId]);
}

/** Start-to-video times (ms) of the provider's last `limit` completed tasks, newest first. */
export async function recentVideoTimesMs(q: Queryable, provider: string, limit: number): Promise<number[]> {
  const { rows } = await q.query<{ ms: number }>(
    `SELECT done_at - started_at AS ms FROM video_times
       WHERE provider = $1 AND done_at IS NOT NULL ORDER BY done_at DESC, seq DESC LIMIT $2`,
    [provider, limit < 0 ? null : limit],
  );
  return rows.map((r) => r.ms);
}

/** The provider's unfinished tasks in line order (oldest first, then by id byte-wise). */
export async function activeLine(
  q: Queryable,
  provider: string,
): Promise<{ id: string; platform: Platform; userId: string; createdAt: string }[]> {
  const { rows } = await q.query<{ id: string; platform: Platform; user_id: string; created_at: string }>(
    `SELECT id, platform, user_id, created_at FROM tasks WHERE ${ACTIVE} AND provider = $1
       ORDER BY created_at COLLATE "C", id COLLATE "C"`,
    [provider],
  );
  return rows.map((r) => ({ id: r.id, platform: r.platform, userId: r.user_id, createdAt: r.created_at }));
}

/** Keeps a photo (as JSON text, as SQLite keeps it) until `expiresAt`, removing the ones whose time is over. */
export async function keepPendingPhoto(
  db: PgContext,
  key: string,
  userId: string,
  photo: unknown,
  expiresAt: number,
): Promise<void> {
  await transaction(db, async (client) => {
    await client.query('DELETE FROM pending_photos WHERE expires_at <= $1', [db.now()]);
    await client.query(
      `INSERT INTO pending_photos (key, user_id, photo, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE
           SET user_id = excluded.user_id, photo = excluded.photo, expires_at = excluded.expires_at`,
      [key, userId, JSON.stringify(photo), expiresAt],
    );
  });
}

/** Removes and returns the photo kept under `key` for this user, unless it expired; undefined otherwise. */
export async function takePendingPhoto(db: PgContext, key: string, userId: string): Promise<unknown> {
  if (holdsNul([key, userId])) return undefined;
  const { rows } = await db.pool.query<{ photo: string }>(
    'DELETE FROM pending_photos WHERE key = $1 AND user_id = $2 AND expires_at > $3 RETURNING photo',
    [key, userId, db.now()],
  );
  return rows[0] ? JSON.parse(rows[0].photo) : undefined;
}

/** How many photos wait for a prompt (expired ones not yet removed included). */
export async function countPendingPhotos(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: number }>('SELECT count(*) AS n FROM pending_photos');
  return rows[0]!.n;
}
