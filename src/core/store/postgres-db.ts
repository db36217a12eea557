/**
 * What the parts of the PostgreSQL store share: the pool, the clock (the same injectable epoch-ms clock as the
 * SQLite store, so fake clocks work; processes on several machines need synchronised clocks, as with NTP), this
 * process's owner id, and a transaction helper. Also the SQL fragments both the task and the lease parts use.
 */
import type pg from 'pg';
import { FINAL_STATUSES } from '../task.js';

/** A pool or a client inside a transaction: anything that answers queries. */
export type Queryable = pg.Pool | pg.PoolClient;

export interface PgContext {
  pool: pg.Pool;
  now(): number;
  owner: string;
  /** An owner whose heartbeat is older than this is gone: its leases may be taken over. */
  ownerTimeoutMs: number;
}

export const iso = (db: PgContext) => new Date(db.now()).toISOString();

const FINAL_SQL = FINAL_STATUSES.map((s) => `'${s}'`).join(',');
export const ACTIVE = `status NOT IN (${FINAL_SQL})`;
export const FINAL = `status IN (${FINAL_SQL})`;

/** SQLite's LIMIT and OFFSET rules, which PostgreSQL refuses: a negative limit is none, a negative offset is 0. */
export const sqliteLimit = (limit: number | undefined) => (limit === undefined || limit < 0 ? null : limit);
export const sqliteOffset = (offset: number | undefined) => Math.max(0, offset ?? 0);

/**
 * Whether a lookup value holds a NUL, which PostgreSQL text cannot (the query would fail with an encoding error): no
 * stored value holds one either, so such a lookup finds nothing, as it does in SQLite.
 */
export const holdsNul = (values: readonly unknown[]) => values.some((v) => typeof v === 'string' && v.includes('\0'));

/** The channel on which task creations and retries are announced (LISTEN/NOTIFY). */
export const WAKEUP_CHANNEL = 'dvb_task_wakeup';

/** Advisory lock classes (the two-int form), so the per-user and per-subject locks never meet. */
export const LOCK_QUOTA = 1;
export const LOCK_INCIDENT = 2;
/** Held by a limiter's keeper connection while its process lives (postgres-limiter.ts). */
export const LOCK_LIMITER_KEEPER = 3;
/** Held by the leader of a role on its own connection (postgres-leader.ts). */
export const LOCK_LEADER = 4;
/** Held while a claim counts a provider's job slots (postgres-leases.ts), so two processes never share a slot. */
export const LOCK_SLOTS = 5;

/** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
export async function transaction<T>(db: PgContext, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Announces, on commit, that a task may be due now. */
export async function notifyWakeup(client: Queryable, id: string, provider: string): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', [WAKEUP_CHANNEL, JSON.stringify({ id, provider })]);
}
