/**
 * Each Doubao session's health, from what Doubao said (protocol §8), kept in the provider's durable state
 * (`session:<id>`) so a restart remembers it. States: `ok`; `cooling` (rate limited: rests, longer each time it
 * happens again); `paused` (risk control: rests long, the operator should look); `expired` (not logged in or
 * banned: unusable until a new login for it appears in the sessions file). Every change of state is reported
 * once as a provider incident naming the session's label (never its cookie) and what the operator should do.
 */
import { createHash } from 'node:crypto';
import type { ProviderIncident, ProviderStateStore } from '../provider.js';
import { memoryState } from './memory-state.js';

export type SessionState = 'ok' | 'cooling' | 'paused' | 'expired';

/** What is stored per session. Times are epoch ms. `login` fingerprints the cookie, so a new login resets it. */
export interface HealthRecord {
  state: SessionState;
  since: number;
  /** Until when a cooling or paused session rests. */
  until?: number;
  /** Doubao's last code about this session, and its message. */
  code?: string;
  message?: string;
  /** Rate limits in a row (the cooldown doubles with each). */
  strikes: number;
  login: string;
}

export interface HealthTimes {
  /** The first cooldown of a rate-limited session; each further one in a row doubles, up to `maxCooldownMs`. */
  cooldownMs: number;
  maxCooldownMs: number;
  /** How long risk control pauses a session. */
  riskPauseMs: number;
  now: () => number;
}

/** Who the book is about: enough of a session to name it and see a new login. */
export interface HealthSubject {
  readonly id: string;
  readonly label: string;
  readonly cookie: string;
}

const ACTION_LOGIN = 'run `npm run session` to log this account in again';
const ACTION_RISK =
  'open Doubao in a browser with this account and solve the check it shows (or use another network), then run `npm run session`';
const ACTION_RATE = 'nothing unless it lasts for hours; another account (`npm run session`) spreads the load';

function fingerprint(cookie: string): string {
  return createHash('sha256').update(cookie).digest('hex').slice(0, 16);
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

export class SessionHealthBook {
  readonly #times: HealthTimes;
  #store: ProviderStateStore = memoryState();
  #report: (incident: ProviderIncident) => void = () => {};
  readonly #records = new Map<string, HealthRecord>();
  /** A session nothing was ever recorded about has been `ok` since the book was made (the provider started). */
  readonly #startedAt: number;

  constructor(times: HealthTimes) {
    this.#times = times;
    this.#startedAt = times.now();
  }

  /**
   * Switches to the durable store and incident channel, reading what an earlier run recorded. A record made for
   * another login than the session's current cookie is stale: the operator logged in again, so it starts `ok`.
   */
  attach(store: ProviderStateStore, report: (incident: ProviderIncident) => void, sessions: HealthSubject[]): void {
    this.#store = store;
    this.#report = report;
    for (const session of sessions) {
      const saved = store.get<HealthRecord>(`session:${session.id}`);
      if (!saved) continue;
      this.#records.set(session.id, saved);
      if (saved.login !== fingerprint(session.cookie))
        this.#change(session, { state: 'ok', message: 'a new login was found' });
    }
  }

  record(session: HealthSubject): HealthRecord {
    return (
      this.#records.get(session.id) ?? {
        state: 'ok',
        since: this.#startedAt,
        strikes: 0,
        login: fingerprint(session.cookie),
      }
    );
  }

  /** True when calls may use the session now (a rest that is over counts as usable). */
  usable(session: HealthSubject): boolean {
    const r = this.record(session);
    return r.state === 'ok' || (r.state !== 'expired' && (r.until ?? 0) <= this.#times.now());
  }

  rateLimited(session: HealthSubject, code: string, message: string): void {
    const before = this.record(session);
    const strikes = before.state === 'cooling' ? before.strikes + 1 : 1;
    const rest = Math.min(this.#times.maxCooldownMs, this.#times.cooldownMs * 2 ** (strikes - 1));
    this.#change(session, { state: 'cooling', code, message, strikes, until: this.#times.now() + rest }, () => ({
      kind: 'rate_limited',
      message: `Doubao rate-limited this session (code ${code}); it rests ${minutes(rest)} while other sessions are used`,
      action: ACTION_RATE,
    }));
  }

  riskControlled(session: HealthSubject, code: string, message: string): void {
    const until = this.#times.now() + this.#times.riskPauseMs;
    this.#change(session, { state: 'paused', code, message, until }, () => ({
      kind: 'risk_control',
      message: `Doubao's risk control stopped this session (code ${code}); it is paused for ${minutes(this.#times.riskPauseMs)}`,
      action: ACTION_RISK,
    }));
  }

  expired(session: HealthSubject, code: string, message: string): void {
    this.#change(session, { state: 'expired', code, message }, () => ({
      kind: 'expired',
      message: `Doubao says this session is no longer logged in (code ${code})`,
      action: ACTION_LOGIN,
    }));
  }

  /**
   * A call of the session worked: a cooling or paused session is `ok` again, and that is reported. An expired one
   * stays expired (a call that was already under way proves no login): only a new login in the file revives it.
   */
  succeeded(session: HealthSubject): void {
    const { state } = this.record(session);
    if (state === 'ok' || state === 'expired') return;
    this.#change(session, { state: 'ok', message: 'calls work again' });
  }

  /**
   * Stores the new record; when the state differs from the stored one, `since` restarts and the incident is
   * reported (a session rate-limited again while cooling keeps its `since` and reports nothing).
   */
  #change(
    session: HealthSubject,
    next: Partial<HealthRecord> & Pick<HealthRecord, 'state'>,
    incident?: () => Pick<ProviderIncident, 'kind' | 'message' | 'action'>,
  ): void {
    const before = this.record(session);
    const changed = before.state !== next.state;
    const now = this.#times.now();
    const record: HealthRecord = {
      strikes: 0,
      ...next,
      since: changed ? now : before.since,
      login: fingerprint(session.cookie),
    };
    this.#records.set(session.id, record);
    this.#store.set(`session:${session.id}`, record);
    if (!changed) return;
    const said = incident?.() ?? { kind: 'recovered' as const, message: `the session works again (${next.message})` };
    this.#report({
      provider: 'doubao',
      subject: session.label,
      ...said,
      ...(next.code && { code: next.code }),
    });
  }
}
