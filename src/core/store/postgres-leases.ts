/**
 * Claims and leases in the PostgreSQL store, shared by any number of processes. A claim picks due rows with
 * `FOR UPDATE SKIP LOCKED` (two processes claiming at once get different tasks, and neither waits for the other),
 * names this process as the lease owner and bumps the fencing token. Each process is a row of `owners` with a
 * heartbeat; an owner whose heartbeat is older than `ownerTimeoutMs` is gone, and `takeOverLeases` releases its
 * leases (holding a provider's interrupted starts for recovery, like the SQLite store at start-up).
 */
import { hostname } from 'node:os';
import { type ClaimLimits, LeaseLost, type Stage } from '../store.js';
import type { Task } from '../task.js';
import type { TakeOverOptions } from './contract.js';
import { ACTIVE, LOCK_SLOTS, type PgContext, type Queryable, transaction } from './postgres-db.js';
import { fromRow, type Row } from './postgres-rows.js';

/** `(upstream IS NULL) = $n`: written as the `tasks_wake`/`tasks_leases` index expression. */
const UNSTARTED: Record<Stage, boolean> = { unstarted: true, started: false };

/** Records (or refreshes) this process as a live owner. */
export async function register(db: PgContext, q: Queryable = db.pool): Promise<void> {
  const now = db.now();
  await q.query(
    `INSERT INTO owners (id, pid, host, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
    [db.owner, process.pid, hostname(), now],
  );
}

/** Marks this owner alive; re-registers it when another process took it for gone and removed its row. */
export const heartbeat = (db: PgContext) => register(db);

/**
 * Claims up to `limit` due tasks of one stage: their next look has come and nobody holds a live lease. Rows another
 * process is claiming right now are skipped, not waited for. Oldest due first.
 */
async function claimStage(
  db: PgContext,
  q: Queryable,
  provider: string,
  which: Stage,
  leaseMs: number,
  limit: number,
  onlyId?: string,
): Promise<Task[]> {
  if (limit <= 0) return [];
  const now = db.now();
  const { rows } = await q.query<Row>(
    `WITH due AS (
       SELECT id FROM tasks
        WHERE ${ACTIVE} AND next_attempt_at IS NOT NULL AND provider = $1 AND (upstream IS NULL) = $2
          AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) AND ($6::text IS NULL OR id = $6)
        ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED)
     UPDATE tasks t SET lease_until = $3 + $5::bigint, lease_owner = $7, lease_token = t.lease_token + 1,
                        claimed_at = $3
       FROM due WHERE t.id = due.id RETURNING t.*`,
    [provider, UNSTARTED[which], now, limit, leaseMs, onlyId ?? null, db.owner],
  );
  return rows.map(fromRow).sort(byDue);
}

const byDue = (a: Task, b: Task) => (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0);

export const claimDue = (
  db: PgContext,
  provider: string,
  which: Stage,
  leaseMs: number,
  limit: number,
  onlyId?: string,
  maxRunning?: number,
) =>
  which === 'unstarted' && maxRunning !== undefined
    ? transaction(db, async (client) => {
        const free = maxRunning - (await busySlots(db, client, provider));
        return claimStage(db, client, provider, which, leaseMs, Math.min(limit, free), onlyId);
      })
    : claimStage(db, db.pool, provider, which, leaseMs, limit, onlyId);

/**
 * A provider's slots in use, counted under a transaction-long lock of its slots: upstream jobs started and
 * unfinished, and starts under way in any process (leased, no upstream job yet).
 */
async function busySlots(db: PgContext, client: Queryable, provider: string): Promise<number> {
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SLOTS, provider]);
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM tasks
      WHERE ${ACTIVE} AND provider = $1 AND (upstream_id IS NOT NULL OR lease_until >= $2)`,
    [provider, db.now()],
  );
  return rows[0]!.n;
}

/**
 * The due tasks that waited longest, looks and starts alike, at most `limit` in all and `startLimit` starts. The
 * candidates are locked (SKIP LOCKED) in one transaction; those not chosen are let go at commit, unclaimed.
 */
export async function claimOldestDue(
  db: PgContext,
  provider: string,
  limits: ClaimLimits,
  leaseMs: Record<Stage, number>,
): Promise<Task[]> {
  return transaction(db, async (client) => {
    const now = db.now();
    const startLimit =
      limits.maxRunning === undefined
        ? limits.startLimit
        : Math.min(limits.startLimit, limits.maxRunning - (await busySlots(db, client, provider)));
    const pick = async (which: Stage, limit: number) => {
      if (limit <= 0) return [];
      const { rows } = await client.query<{ id: string; at: number }>(
        `SELECT id, next_attempt_at AS at FROM tasks
          WHERE ${ACTIVE} AND next_attempt_at IS NOT NULL AND provider = $1 AND (upstream IS NULL) = $2
            AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
          ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED`,
        [provider, UNSTARTED[which], now, limit],
      );
      return rows.map((row) => ({ ...row, stage: which }));
    };
    const looks = await pick('started', limits.limit);
    const starts = await pick('unstarted', Math.min(limits.limit, startLimit));
    const oldest = [...looks, ...starts].sort((a, b) => a.at - b.at).slice(0, limits.limit);
    const claimed: Task[] = [];
    for (const { id, stage } of oldest) {
      const { rows } = await client.query<Row>(
        `UPDATE tasks SET lease_until = $2, lease_owner = $3, lease_token = lease_token + 1, claimed_at = $4
           WHERE id = $1 RETURNING *`,
        [id, now + leaseMs[stage], db.owner, now],
      );
      claimed.push(fromRow(rows[0]!));
    }
    return claimed;
  });
}

/** Epoch ms when the next task of a stage becomes due (its next look, or its lapsing lease); undefined if none. */
export async function nextDueAt(db: PgContext, provider: string, which: Stage): Promise<number | undefined> {
  const { rows } = await db.pool.query<{ look: number | null; lease: number | null }>(
    `SELECT
       (SELECT next_attempt_at FROM tasks
         WHERE ${ACTIVE} AND next_attempt_at IS NOT NULL AND provider = $1 AND (upstream IS NULL) = $2
           AND (lease_until IS NULL OR lease_until < $3)
         ORDER BY next_attempt_at LIMIT 1) AS look,
       (SELECT min(lease_until) FROM tasks
         WHERE ${ACTIVE} AND lease_until IS NOT NULL AND provider = $1 AND (upstream IS NULL) = $2
           AND lease_until >= $3) AS lease`,
    [provider, UNSTARTED[which], db.now()],
  );
  const { look, lease } = rows[0]!;
  const candidates = [look, lease === null ? null : lease + 1].filter((c): c is number => c !== null);
  return candidates.length ? Math.min(...candidates) : undefined;
}

/** Leases whose owner is gone: no row in `owners` (removed as gone, or never one), and not this process. */
const GONE =
  'lease_until IS NOT NULL AND lease_owner IS DISTINCT FROM $1 AND lease_owner NOT IN (SELECT id FROM owners)';
const GONE_OR_NULL = `lease_until IS NOT NULL AND (lease_owner IS NULL OR (${GONE}))`;

/**
 * Records this owner, removes the owners that are gone (heartbeat older than `ownerTimeoutMs`) and releases their
 * leases — except, when `holdUnstarted`, the unstarted tasks of `provider`, which are claimed for this owner for
 * `leaseMs` (new token, `claimedAt` kept: when that start began) and returned for the provider to look for their
 * jobs. Safe to call at any time, by any number of processes.
 */
export async function takeOverLeases(db: PgContext, options: TakeOverOptions): Promise<Task[]> {
  return transaction(db, async (client) => {
    const now = db.now();
    await register(db, client);
    await client.query('DELETE FROM owners WHERE id <> $1 AND heartbeat_at < $2', [db.owner, now - db.ownerTimeoutMs]);
    const held = options.holdUnstarted
      ? (
          await client.query<Row>(
            `UPDATE tasks SET lease_until = $3, lease_owner = $1, lease_token = lease_token + 1
               WHERE id IN (SELECT id FROM tasks WHERE ${GONE_OR_NULL} AND ${ACTIVE} AND provider = $2
                              AND upstream IS NULL FOR UPDATE SKIP LOCKED)
               RETURNING *`,
            [db.owner, options.provider, now + options.leaseMs],
          )
        ).rows.map(fromRow)
      : [];
    await client.query(`UPDATE tasks SET lease_until = NULL, lease_owner = NULL WHERE ${GONE_OR_NULL}`, [db.owner]);
    return held.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  });
}

/** Extends a lease this owner holds. @throws LeaseLost when the task was claimed again since `token`. */
export async function renewLease(db: PgContext, id: string, token: number, leaseMs: number): Promise<void> {
  const { rowCount } = await db.pool.query('UPDATE tasks SET lease_until = $1 WHERE id = $2 AND lease_token = $3', [
    db.now() + leaseMs,
    id,
    token,
  ]);
  if (rowCount !== 1) throw new LeaseLost(`task ${id} was claimed again; this step's token ${token} is stale`);
}

/** Ends a lease if `token` still holds it; false otherwise. */
export async function releaseLease(db: PgContext, id: string, token: number): Promise<boolean> {
  const { rowCount } = await db.pool.query(
    'UPDATE tasks SET lease_until = NULL, lease_owner = NULL WHERE id = $1 AND lease_token = $2',
    [id, token],
  );
  return rowCount === 1;
}
