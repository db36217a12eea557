/**
 * Per-user limits of chat users: how many unfinished videos at once and how many in 24 hours. The configured
 * defaults (USER_MAX_ACTIVE, USER_DAILY_LIMIT) apply unless an admin set a user's own (`/quota`, kept in the
 * store's `user_limits`). An admin's daily reset counts from the later of "24 hours ago" and the reset, so a user
 * over the limit may submit again at once. Trusted API clients (platforms not in `limitedPlatforms`) are exempt.
 */
import { InvalidInput, QuotaExceeded } from './errors.js';
import { withReason } from './reasons.js';
import type { QuotaReads, TaskStoreAsync } from './store/contract.js';
import type { Platform } from './task.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Above this a limit is a typo, not a policy. */
const MAX_LIMIT = 10_000;

/** One chat user's limits as they apply now, and how much of them is used (an admin's `/quota`). */
export interface UserQuota {
  maxActive: number;
  dailyLimit: number;
  /** True when an admin set this user's limits (false: the configured defaults). */
  custom: boolean;
  active: number;
  /** Tasks counted against the daily limit now: the last 24 hours, from the last reset when later. */
  usedToday: number;
  dailyResetAt: string | null;
}

export interface QuotaDefaults {
  userMaxActive: number;
  userDailyLimit: number;
  limitedPlatforms: ReadonlySet<Platform>;
}

export class UserQuotas {
  readonly #store: TaskStoreAsync;
  readonly #defaults: QuotaDefaults;
  readonly #now: () => number;

  constructor(store: TaskStoreAsync, defaults: QuotaDefaults, now: () => number) {
    this.#store = store;
    this.#defaults = defaults;
    this.#now = now;
  }

  /** The user's quota as `reads` see it (the store, or the reads inside an insert's per-user lock). */
  async of(platform: Platform, userId: string, reads: QuotaReads = this.#store): Promise<UserQuota> {
    const own = await reads.userLimits(platform, userId);
    const dayAgo = new Date(this.#now() - DAY_MS).toISOString();
    const since = own?.dailyResetAt && own.dailyResetAt > dayAgo ? own.dailyResetAt : dayAgo;
    return {
      maxActive: own?.maxActive ?? this.#defaults.userMaxActive,
      dailyLimit: own?.dailyLimit ?? this.#defaults.userDailyLimit,
      custom: own?.maxActive != null || own?.dailyLimit != null,
      active: await reads.countActiveByUser(platform, userId),
      usedToday: await reads.countCreatedByUserSince(platform, userId, since),
      dailyResetAt: own?.dailyResetAt ?? null,
    };
  }

  /** @throws InvalidInput for a limit that is not a whole number from 0 to 10 000 (0 pauses the user). */
  async set(
    platform: Platform,
    userId: string,
    limits: { maxActive: number | null; dailyLimit: number | null },
  ): Promise<UserQuota> {
    for (const value of [limits.maxActive, limits.dailyLimit]) {
      if (value !== null && !(Number.isSafeInteger(value) && value >= 0 && value <= MAX_LIMIT)) {
        throw new InvalidInput(`a limit must be a whole number from 0 to ${MAX_LIMIT}`);
      }
    }
    await this.#store.setUserLimits(platform, userId, limits);
    return this.of(platform, userId);
  }

  async resetDaily(platform: Platform, userId: string): Promise<UserQuota> {
    await this.#store.resetUserDaily(platform, userId);
    return this.of(platform, userId);
  }

  /** @throws QuotaExceeded (reason ACTIVE_LIMIT or DAILY_LIMIT) when the user may not add a task now. */
  async check(platform: Platform, userId: string, reads: QuotaReads = this.#store): Promise<void> {
    if (!this.#defaults.limitedPlatforms.has(platform)) return;
    const quota = await this.of(platform, userId, reads);
    if (quota.active >= quota.maxActive) {
      const error = new QuotaExceeded(
        `you already have ${quota.active} videos in progress (the limit is ${quota.maxActive}); wait for one to finish`,
      );
      throw withReason(error, 'ACTIVE_LIMIT', { active: quota.active, limit: quota.maxActive });
    }
    if (quota.usedToday >= quota.dailyLimit) {
      const error = new QuotaExceeded(
        `you reached the limit of ${quota.dailyLimit} videos in 24 hours; try again later`,
      );
      throw withReason(error, 'DAILY_LIMIT', { limit: quota.dailyLimit });
    }
  }
}
