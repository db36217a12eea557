/**
 * Leader election through a PostgreSQL advisory lock: of all the processes sharing a database, the one holding
 * the session-level lock of a role (e.g. `telegram-poller`, `discord-gateway`) on a connection of its own leads
 * that role. The lock lives exactly as long as that connection: a leader killed with SIGKILL loses it as soon as
 * the server sees the connection close, and the followers, which try every `retryMs`, take over.
 *
 * A leader checks its connection every `checkMs` (a query that must answer within that time) and hears of a drop at
 * once through the client's `error`/`end` events; either way it stops leading (the `lead` signal aborts) before it
 * tries again on a new connection. A new leader waits `takeoverDelayMs` after winning the lock before it leads, so a
 * predecessor whose connection the server cut (and which hears of it a moment later) has stopped first.
 */
import pg from 'pg';
import { LOCK_LEADER } from './postgres-db.js';

export interface LeaderOptions {
  /** What is led; one leader per role and database. */
  role: string;
  /**
   * Called when this process becomes the leader; `signal` aborts when it stops being the leader (connection lost,
   * `stop()`). A rejection steps down (the lock is let go and tried for again after `retryMs`).
   */
  lead(signal: AbortSignal): void | Promise<void>;
  /** How often a follower tries for the lock, and a failed connection is tried again. @defaultValue 2000 */
  retryMs?: number;
  /** How often the leader makes sure its connection works. @defaultValue 2000 */
  checkMs?: number;
  /** Wait between winning the lock and leading. @defaultValue 500 */
  takeoverDelayMs?: number;
  /** Told why leading stopped or a try failed; the election goes on. */
  onProblem?(error: unknown): void;
}

export class LeaderElection {
  readonly #url: string;
  readonly #options: Required<Omit<LeaderOptions, 'onProblem'>> & Pick<LeaderOptions, 'onProblem'>;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  #leading = false;

  constructor(url: string, options: LeaderOptions) {
    this.#url = url;
    this.#options = { retryMs: 2_000, checkMs: 2_000, takeoverDelayMs: 500, ...options };
    this.#loop = this.#run();
  }

  /** Whether this process leads the role right now. */
  get isLeader(): boolean {
    return this.#leading;
  }

  /** Stops leading (or trying to), and lets the lock go. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted) {
      const lost = new AbortController();
      const client = new pg.Client({
        connectionString: this.#url,
        keepAlive: true,
        query_timeout: this.#options.checkMs,
      });
      const onLost = (error?: unknown) => lost.abort(error ?? new Error('the leader connection ended'));
      client.on('error', onLost);
      client.on('end', () => onLost());
      try {
        await client.connect();
        if (await this.#win(client, lost.signal)) await this.#lead(client, lost);
      } catch (error) {
        if (!stopped.aborted) this.#options.onProblem?.(error);
      } finally {
        await client.end().catch(() => undefined);
      }
      await sleep(this.#options.retryMs, stopped);
    }
  }

  /** Tries for the lock every `retryMs` until it is ours (true), or the connection or the election stops (false). */
  async #win(client: pg.Client, lost: AbortSignal): Promise<boolean> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted && !lost.aborted) {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [
        LOCK_LEADER,
        this.#options.role,
      ]);
      if (rows[0]!.ok) return true;
      await sleep(this.#options.retryMs, AbortSignal.any([stopped, lost]));
    }
    return false;
  }

  /** Leads until the connection is lost, a check fails, `lead` rejects or the election stops. */
  async #lead(client: pg.Client, lost: AbortController): Promise<void> {
    const both = AbortSignal.any([this.#stop.signal, lost.signal]);
    await sleep(this.#options.takeoverDelayMs, both);
    if (both.aborted) return;
    this.#leading = true;
    const checks = setInterval(() => {
      client.query('SELECT 1').catch((error: unknown) => lost.abort(error));
    }, this.#options.checkMs);
    try {
      await Promise.resolve(this.#options.lead(both)).catch((error: unknown) => lost.abort(error));
      await new Promise<void>((resolve) => {
        if (both.aborted) resolve();
        else both.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      clearInterval(checks);
      this.#leading = false;
    }
    if (lost.signal.aborted) throw lost.signal.reason;
  }
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
