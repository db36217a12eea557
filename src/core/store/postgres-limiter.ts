/**
 * The upstream limiter for a cluster (UpstreamLimiter, src/core/upstream-limiter.ts) kept in PostgreSQL, so
 * Doubao's per-session spacing and concurrency hold for every process sharing the database, with no other server.
 *
 * - Acquiring locks the key's row in `limiter_keys` (acquirers of one key take turns; other keys are untouched),
 *   frees the slots of dead holders, counts the rest and, when one is free and the key's `next_start_at` has come,
 *   inserts a slot and sets `next_start_at` one spacing after now. Spacing is measured between grants, so a holder
 *   that starts late never shortens the next gap; a caller whose start has not come sleeps exactly until it, then
 *   looks again. All times are the database's clock, so the machines' clocks do not matter here.
 * - A holder is dead when its process's keeper connection is gone (that connection holds an advisory lock for as
 *   long as the process lives: a process killed with SIGKILL loses it at once) or when its owner (the store's
 *   process, `owners`) stopped its heartbeat for longer than `ownerTimeoutMs` (a process that hangs but stays
 *   connected).
 * - A key without a free slot waits for a NOTIFY from a release (on the keeper connection) and looks again after at
 *   most `recheckMs` anyway, which is when slots freed by a death (no NOTIFY) are seen.
 * Waiters of several processes are not served in strict arrival order (whoever looks first after a release wins).
 */
import { randomInt, randomUUID } from 'node:crypto';
import pg from 'pg';
import { checkRules, type LimiterSlot, type LimitRules, type UpstreamLimiter } from '../upstream-limiter.js';
import { LOCK_LIMITER_KEEPER } from './postgres-db.js';
import { migrate } from './postgres-migrations.js';
import { PG_TYPES } from './postgres-rows.js';

export interface PostgresLimiterOptions {
  /** The owner id of this process's PostgresTaskStore; its heartbeat then also keeps the slots alive. */
  owner?: string;
  /** An owner whose heartbeat is older than this is gone (its process clock, as `owners` is written). @defaultValue 45 000 */
  ownerTimeoutMs?: number;
  /** Longest wait before a key without a free slot is looked at again. @defaultValue 1000 */
  recheckMs?: number;
  /** Process clock for the owners' heartbeats. */
  now?: () => number;
  /** Connections for acquisitions and releases (the keeper has its own). @defaultValue 4 */
  poolSize?: number;
}

/** Notifications of released slots; the payload is the key. */
const RELEASE_CHANNEL = 'dvb_limiter_release';
/** The database clock in epoch milliseconds. */
const DB_NOW = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

/** A slot; or no free slot (wait for a release); or a free slot whose spacing ends in `waitMs`. */
type Attempt = { slotId: number } | { full: true } | { waitMs: number };

export class PostgresLimiter implements UpstreamLimiter {
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #owner: string;
  readonly #ownerTimeoutMs: number;
  readonly #recheckMs: number;
  readonly #now: () => number;
  /** Wakes the waiters of a key when a release of it is announced. */
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #held = new Set<LimiterSlot>();
  #keeper: Promise<{ client: pg.Client; id: number }> | undefined;
  /** The keeper connection in use; a drop of an older one changes nothing. */
  #keeperClient: pg.Client | undefined;
  #closed = false;

  private constructor(url: string, pool: pg.Pool, options: PostgresLimiterOptions) {
    this.#url = url;
    this.#pool = pool;
    this.#owner = options.owner ?? randomUUID();
    this.#ownerTimeoutMs = options.ownerTimeoutMs ?? 45_000;
    this.#recheckMs = options.recheckMs ?? 1_000;
    this.#now = options.now ?? Date.now;
  }

  /** Connects, brings the schema up to date and takes this process's keeper lock. */
  static async open(url: string, options: PostgresLimiterOptions = {}): Promise<PostgresLimiter> {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 4, types: PG_TYPES });
    pool.on('error', () => undefined); // a broken idle connection is dropped; the next query says what is wrong
    const limiter = new PostgresLimiter(url, pool, options);
    try {
      await migrate(pool);
      await limiter.#keeperId();
    } catch (error) {
      await limiter.close();
      throw error;
    }
    return limiter;
  }

  async acquire(key: string, rules: LimitRules, signal?: AbortSignal): Promise<LimiterSlot> {
    checkRules(rules);
    for (;;) {
      if (this.#closed) throw new Error('the limiter is closed');
      signal?.throwIfAborted();
      // Listening before trying: a release between the attempt and the wait still wakes us.
      const woken = this.#wakeup(key, signal);
      let attempt: Attempt;
      try {
        attempt = await this.#tryAcquire(key, rules, await this.#keeperId());
      } catch (error) {
        woken.cancel();
        throw error;
      }
      if ('slotId' in attempt) {
        woken.cancel();
        return this.#slot(attempt.slotId);
      }
      if ('waitMs' in attempt) {
        woken.cancel();
        await sleep(attempt.waitMs, signal).catch(() => undefined); // an abort is thrown at the top of the loop
      } else await woken.promise;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of [...this.#waiters.values()].flatMap((set) => [...set])) wake();
    await Promise.all([...this.#held].map((slot) => slot.release().catch(() => undefined)));
    const keeper = await this.#keeper?.catch(() => undefined);
    await keeper?.client.end().catch(() => undefined);
    await this.#pool.end().catch(() => undefined);
  }

  /** One look at the key, in one transaction: a slot, or why there is none yet. */
  async #tryAcquire(key: string, rules: LimitRules, keeper: number): Promise<Attempt> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO limiter_keys (key) VALUES ($1) ON CONFLICT (key) DO NOTHING', [key]);
      const { rows } = await client.query<{ next_start_at: number }>(
        'SELECT next_start_at FROM limiter_keys WHERE key = $1 FOR UPDATE',
        [key],
      );
      const nextStartAt = rows[0]!.next_start_at;
      // Read only now that the row is ours: a clock read in the locking query may predate the wait for the lock.
      const now = (await client.query<{ now: number }>(`SELECT ${DB_NOW} AS now`)).rows[0]!.now;
      const freed = await client.query(
        `DELETE FROM limiter_slots s
          WHERE s.key = $1
            AND (NOT EXISTS (SELECT 1 FROM pg_locks l
                              WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                                AND l.classid = $2::int::oid AND l.objid = s.keeper::oid)
                 OR EXISTS (SELECT 1 FROM owners o WHERE o.id = s.owner AND o.heartbeat_at < $3))`,
        [key, LOCK_LIMITER_KEEPER, this.#now() - this.#ownerTimeoutMs],
      );
      // Other processes may be waiting for what the dead held: tell them (delivered at commit).
      if (freed.rowCount) await client.query('SELECT pg_notify($1, $2)', [RELEASE_CHANNEL, key]);
      const held = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM limiter_slots WHERE key = $1', [
        key,
      ]);
      let attempt: Attempt = { full: true };
      if (held.rows[0]!.n < rules.maxConcurrent) {
        if (nextStartAt > now) attempt = { waitMs: nextStartAt - now };
        else {
          await client.query('UPDATE limiter_keys SET next_start_at = $2 WHERE key = $1', [
            key,
            now + rules.minSpacingMs,
          ]);
          const inserted = await client.query<{ id: number }>(
            'INSERT INTO limiter_slots (key, owner, keeper, acquired_at) VALUES ($1, $2, $3, $4) RETURNING id',
            [key, this.#owner, keeper, now],
          );
          attempt = { slotId: inserted.rows[0]!.id };
        }
      }
      await client.query('COMMIT');
      return attempt;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  #slot(id: number): LimiterSlot {
    let released: Promise<void> | undefined;
    const slot: LimiterSlot = {
      release: () => {
        released ??= this.#pool
          .query(
            `WITH gone AS (DELETE FROM limiter_slots WHERE id = $1 RETURNING key)
             SELECT pg_notify($2, key) FROM gone`,
            [id, RELEASE_CHANNEL],
          )
          .then(() => undefined)
          .finally(() => this.#held.delete(slot));
        return released;
      },
    };
    this.#held.add(slot);
    return slot;
  }

  /** Resolves on the next announced release of `key`, after `recheckMs`, on abort or on close. */
  #wakeup(key: string, signal?: AbortSignal): { promise: Promise<void>; cancel(): void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const timer = setTimeout(() => finish(), this.#recheckMs);
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      this.#waiters.get(key)?.delete(finish);
      if (this.#waiters.get(key)?.size === 0) this.#waiters.delete(key);
      wake();
    };
    signal?.addEventListener('abort', finish, { once: true });
    const set = this.#waiters.get(key) ?? new Set();
    this.#waiters.set(key, set);
    set.add(finish);
    return { promise, cancel: finish };
  }

  /**
   * The keeper connection: it holds an advisory lock numbered by a free random id for as long as it lives (the
   * slots name that id) and LISTENs for releases. When it drops, the next acquisition opens another one with a new
   * id: slots taken under the old id count as dead to the others from then on.
   */
  #keeperId(): Promise<number> {
    this.#keeper ??= this.#connectKeeper().catch((error: unknown) => {
      this.#keeper = undefined;
      throw error;
    });
    return this.#keeper.then((keeper) => keeper.id);
  }

  async #connectKeeper(): Promise<{ client: pg.Client; id: number }> {
    const client = new pg.Client({ connectionString: this.#url, keepAlive: true });
    const dropped = () => {
      if (this.#keeperClient !== client) return;
      this.#keeperClient = undefined;
      this.#keeper = undefined;
    };
    client.on('error', () => {
      void client.end().catch(() => undefined);
      dropped();
    });
    client.on('end', dropped);
    client.on('notification', (message) => {
      if (message.channel !== RELEASE_CHANNEL || !message.payload) return;
      for (const wake of [...(this.#waiters.get(message.payload) ?? [])]) wake();
    });
    try {
      await client.connect();
      for (;;) {
        const id = randomInt(1, 2 ** 31 - 1);
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
          LOCK_LIMITER_KEEPER,
          id,
        ]);
        if (rows[0]!.ok) {
          await client.query(`LISTEN ${RELEASE_CHANNEL}`);
          this.#keeperClient = client;
          return { client, id };
        }
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }
}

/** Waits `ms` (at once when ≤ 0); rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
