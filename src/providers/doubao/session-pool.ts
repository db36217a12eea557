/**
 * The pool of Doubao sessions and their health. Each session gets a stable, non-secret id (a hash of its
 * device_id) that tasks store, so every later call about a conversation — and the video retrieval — uses the
 * session that created it, also after a restart. Health: a rate-limited session cools down and others are used;
 * a used-up guest is dropped from the pool and the file; an expired login is kept but marked, and its tasks fail
 * with an instruction to run `npm run session`.
 */
import { createHash } from 'node:crypto';
import { UpstreamError } from '../../core/errors.js';
import { isGuestCookie, readSessionsFile, removeSessions, type SessionFields } from './session-file.js';

export const SESSION_EXPIRED = 'Doubao session expired — run `npm run session`';

export interface Session extends SessionFields {
  /** Stable and safe to store or log: the first 16 hex digits of sha256(device_id). */
  readonly id: string;
  readonly guest: boolean;
  expired: boolean;
  coolUntil: number;
}

/** What `status()` shows about a session: never its cookie or tokens. */
export interface SessionHealth {
  id: string;
  guest: boolean;
  state: 'ok' | 'cooling' | 'expired';
  coolUntil?: string;
}

export function sessionIdOf(fields: Pick<SessionFields, 'device_id'>): string {
  return createHash('sha256').update(fields.device_id).digest('hex').slice(0, 16);
}

export class SessionPool {
  readonly #file: string;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  readonly #sessions = new Map<string, Session>();

  private constructor(file: string, cooldownMs: number, now: () => number) {
    this.#file = file;
    this.#cooldownMs = cooldownMs;
    this.#now = now;
  }

  /** Loads the sessions file; a missing file gives an empty pool (every task then fails with the fix). */
  static async load(file: string, options: { cooldownMs: number; now?: () => number }): Promise<SessionPool> {
    const pool = new SessionPool(file, options.cooldownMs, options.now ?? Date.now);
    for (const fields of await readSessionsFile(file)) {
      const id = sessionIdOf(fields);
      pool.#sessions.set(id, { ...fields, id, guest: isGuestCookie(fields.cookie), expired: false, coolUntil: 0 });
    }
    return pool;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** A random usable session of the asked kind; logged-in sessions are required for uploads. */
  pick(guest: boolean): Session {
    const kind = [...this.#sessions.values()].filter((s) => s.guest === guest);
    if (kind.length === 0) {
      throw new UpstreamError(
        guest
          ? 'no Doubao guest session is available'
          : `no logged-in Doubao session in ${this.#file} — run \`npm run session\``,
        false,
      );
    }
    const alive = kind.filter((s) => !s.expired);
    if (alive.length === 0) throw new UpstreamError(SESSION_EXPIRED, false);
    const ready = alive.filter((s) => s.coolUntil <= this.#now());
    if (ready.length === 0) throw new UpstreamError('every Doubao session is rate-limited', true);
    return ready[Math.floor(Math.random() * ready.length)]!;
  }

  /** The session that owns a conversation. @throws UpstreamError (permanent) when it is gone or expired. */
  owner(id: unknown): Session {
    const session = typeof id === 'string' ? this.#sessions.get(id) : undefined;
    if (!session) {
      throw new UpstreamError(
        `the Doubao session that started this task is no longer in ${this.#file} — run \`npm run session\``,
        false,
      );
    }
    if (session.expired) throw new UpstreamError(SESSION_EXPIRED, false);
    return session;
  }

  /** The owner, for a new request: a cooling owner makes the caller wait rather than be rate-limited again. */
  ownerForRequest(id: unknown): Session {
    const session = this.owner(id);
    if (session.coolUntil > this.#now()) {
      throw new UpstreamError('the Doubao session of this image is rate-limited', true);
    }
    return session;
  }

  coolDown(session: Session): void {
    session.coolUntil = this.#now() + this.#cooldownMs;
  }

  markExpired(session: Session): void {
    session.expired = true;
  }

  /** Forgets a used-up guest, in memory and in the file. */
  async drop(session: Session): Promise<void> {
    this.#sessions.delete(session.id);
    await removeSessions(this.#file, (s) => sessionIdOf(s) === session.id);
  }

  health(): SessionHealth[] {
    const now = this.#now();
    return [...this.#sessions.values()].map((s) => {
      if (s.expired) return { id: s.id, guest: s.guest, state: 'expired' };
      if (s.coolUntil > now) {
        return { id: s.id, guest: s.guest, state: 'cooling', coolUntil: new Date(s.coolUntil).toISOString() };
      }
      return { id: s.id, guest: s.guest, state: 'ok' };
    });
  }
}
