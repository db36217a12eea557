/**
 * Admins' per-user limits (issue 15) in the PostgreSQL store: one chat user's own limits (null: the configured
 * default) and the moment an admin last reset their daily count. Same meaning as the SQLite store's "Per-user limits"
 * block (src/core/store.ts); src/core/user-quotas.ts applies them.
 */
import type { UserLimits } from '../store.js';
import type { Platform } from '../task.js';
import { holdsNul, iso, type PgContext, type Queryable } from './postgres-db.js';

export async function userLimits(q: Queryable, platform: Platform, userId: string): Promise<UserLimits | undefined> {
  if (holdsNul([userId])) return undefined;
  const { rows } = await q.query<{
    max_active: number | null;
    daily_limit: number | null;
    daily_reset_at: string | null;
  }>('SELECT max_active, daily_limit, daily_reset_at FROM user_limits WHERE platform = $1 AND user_id = $2', [
    platform,
    userId,
  ]);
  const row = rows[0];
  return row && { maxActive: row.max_active, dailyLimit: row.daily_limit, dailyResetAt: row.daily_reset_at };
}

/** Sets (or with nulls, goes back to the defaults for) one user's limits; a daily reset already made stays. */
export async function setUserLimits(
  db: PgContext,
  platform: Platform,
  userId: string,
  limits: { maxActive: number | null; dailyLimit: number | null },
): Promise<void> {
  await db.pool.query(
    `INSERT INTO user_limits (platform, user_id, max_active, daily_limit, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (platform, user_id) DO UPDATE
         SET max_active = excluded.max_active, daily_limit = excluded.daily_limit, updated_at = excluded.updated_at`,
    [platform, userId, limits.maxActive, limits.dailyLimit, iso(db)],
  );
}

/** From now on, only tasks created after this moment (one millisecond on, as SQLite) count against the daily limit. */
export async function resetUserDaily(db: PgContext, platform: Platform, userId: string): Promise<void> {
  const from = new Date(db.now() + 1).toISOString();
  await db.pool.query(
    `INSERT INTO user_limits (platform, user_id, daily_reset_at, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (platform, user_id) DO UPDATE
         SET daily_reset_at = excluded.daily_reset_at, updated_at = excluded.updated_at`,
    [platform, userId, from, iso(db)],
  );
}
