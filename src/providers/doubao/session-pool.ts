/**
 * The pool of Doubao sessions. Each session gets a stable, non-secret id (a hash of its device_id) that tasks
 * store, so every later call about a conversation — and the video retrieval — uses the session that created it,
 * also after a restart. Health lives in `SessionHealthBook` (kept in the database once the provider is
 * attached): new work goes to usable sessions only; a used-up guest is dropped from the pool and the file.
 */
import { createHash } from 'node:crypto';
import { UpstreamError } from '../../core/errors.js';
import { withReason } from '../../core/reasons.js';
import type { ProviderIncident, ProviderStateStore } from '../provider.js';
import { isGuestCookie, readSessionsFile, removeSessions, type SessionFields } from './session-file.js';
import { type HealthTimes, SessionHealthBook, type SessionState } from './session-health.js';

export const SESSION_EXPIRED = 'Doubao session expired — run `npm run session`';
const SESSION_PAUSED =
  "Doubao's risk control paused the account this task uses; an operator has been told, looking again later";

export interface Session extends SessionFields {
  /** Stable and safe to store or log: the first 16 hex digits of sha256(device_id). */
  readonly id: string;
  /** How operators name it: the file's `label`, else `session <first 8 of id>`. */
  readonly label: string;
  readonly guest: boolean;
}

/** What `status()` shows about a session: never its cookie or tokens. */
export interface SessionHealth {
  id: string;
  label: string;
  guest: boolean;
  state: SessionState;
  /** When the state began (ISO 8601). */
  since: string;
  /** Until when a cooling or paused session rests (ISO 8601). */
  until?: string;
  /** Doubao's last code about the session. */
  lastCode?: string;
}

export function sessionIdOf(fields: Pick<SessionFields, 'device_id'>): string {
  return createHash('sha256').update(fields.device_id).digest('hex').slice(0, 16);
}

export type PoolOptions = Omit<HealthTimes, 'now'> & { now?: () => number };

export class SessionPool {
  readonly #file: string;
  readonly #now: () => number;
  readonly #sessions = new Map<string, Session>();
  readonly book: SessionHealthBook;

  private constructor(file: string, options: PoolOptions) {
    this.#file = file;
    this.#now = options.now ?? Date.now;
    this.book = new SessionHealthBook({ ...options, now: this.#now });
  }

  /** Loads the sessions file; a missing file gives an empty pool (every task then fails with the fix). */
  static async load(file: string, options: PoolOptions): Promise<SessionPool> {
    const pool = new SessionPool(file, options);
    for (const fields of await readSessionsFile(file)) {
      const id = sessionIdOf(fields);
      const label = fields.label ?? `session ${id.slice(0, 8)}`;
      pool.#sessions.set(id, { ...fields, id, label, guest: isGuestCookie(fields.cookie) });
    }
    return pool;
  }

  /** Health from now on is kept in `store` and its changes reported through `report`. */
  attach(store: ProviderStateStore, report: (incident: ProviderIncident) => void): void {
    this.book.attach(store, report, [...this.#sessions.values()]);
  }

  get size(): number {
    return this.#sessions.size;
  }

  all(): Session[] {
    return [...this.#sessions.values()];
  }

  /** A random usable session of the asked kind, other than those in `except`; logged-in ones for uploads. */
  pick(guest: boolean, except: ReadonlySet<string> = new Set()): Session {
    const kind = [...this.#sessions.values()].filter((s) => s.guest === guest);
    if (kind.length === 0) {
      const error = new UpstreamError(
        guest
          ? 'no Doubao guest session is available'
          : `no logged-in Doubao session in ${this.#file} — run \`npm run session\``,
        false,
      );
      // Users are told the service needs its operator, not the command the operator must run.
      throw withReason(error, 'SESSION_EXPIRED');
    }
    const alive = kind.filter((s) => this.book.record(s).state !== 'expired');
    if (alive.length === 0) throw withReason(new UpstreamError(SESSION_EXPIRED, false), 'SESSION_EXPIRED');
    const ready = alive.filter((s) => this.book.usable(s) && !except.has(s.id));
    if (ready.length === 0) {
      const paused = alive.every((s) => this.book.record(s).state === 'paused');
      throw new UpstreamError(
        paused
          ? "every Doubao session is paused by Doubao's risk control; an operator has been told"
          : 'every Doubao session is rate-limited or paused for now',
        true,
      );
    }
    return ready[Math.floor(Math.random() * ready.length)]!;
  }

  /** The session that owns a conversation. @throws UpstreamError when it is gone, expired or resting. */
  owner(id: unknown): Session {
    const session = typeof id === 'string' ? this.#sessions.get(id) : undefined;
    if (!session) {
      const error = new UpstreamError(
        `the Doubao session that started this task is no longer in ${this.#file} — run \`npm run session\``,
        false,
      );
      throw withReason(error, 'SESSION_EXPIRED');
    }
    const { state } = this.book.record(session);
    if (state === 'expired') throw withReason(new UpstreamError(SESSION_EXPIRED, false), 'SESSION_EXPIRED');
    if (!this.book.usable(session)) {
      throw new UpstreamError(
        state === 'paused' ? SESSION_PAUSED : 'the Doubao session of this task is rate-limited; looking again later',
        true,
      );
    }
    return session;
  }

  /** Forgets a used-up guest, in memory and in the file. */
  async drop(session: Session): Promise<void> {
    this.#sessions.delete(session.id);
    await removeSessions(this.#file, (s) => sessionIdOf(s) === session.id);
  }

  health(): SessionHealth[] {
    const now = this.#now();
    return [...this.#sessions.values()].map((s) => {
      const r = this.book.record(s);
      const resting = (r.state === 'cooling' || r.state === 'paused') && (r.until ?? 0) > now;
      const state = resting || r.state === 'expired' ? r.state : 'ok';
      return {
        id: s.id,
        label: s.label,
        guest: s.guest,
        state,
        since: new Date(state === r.state ? r.since : (r.until ?? r.since)).toISOString(),
        ...(resting && { until: new Date(r.until!).toISOString() }),
        ...(r.code && { lastCode: r.code }),
      };
    });
  }
}
