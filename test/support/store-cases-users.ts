/**
 * Conformance cases for what the store keeps about users (see test/store-conformance.test.ts): admins' per-user
 * limits and daily resets (issue 15), also as a checked insert reads them.
 */
import { expect } from 'vitest';
import { type Case, clock, task, telegram } from './store-conformance.js';

export const USER_CASES: Case[] = [
  {
    name: 'per-user limits: none until set, nulls for the defaults, a daily reset 1 ms on that a later setting keeps',
    async run(f) {
      const store = await f.open();
      expect(await store.userLimits('telegram', 't1')).toBeUndefined();
      await store.setUserLimits('telegram', 't1', { maxActive: 2, dailyLimit: 0 });
      expect(await store.userLimits('telegram', 't1')).toEqual({ maxActive: 2, dailyLimit: 0, dailyResetAt: null });
      expect(await store.userLimits('discord', 't1')).toBeUndefined();
      clock.at += 1_000;
      await store.resetUserDaily('telegram', 't1');
      const resetAt = new Date(clock.at + 1).toISOString();
      expect(await store.userLimits('telegram', 't1')).toEqual({ maxActive: 2, dailyLimit: 0, dailyResetAt: resetAt });
      await store.setUserLimits('telegram', 't1', { maxActive: null, dailyLimit: 7 });
      expect(await store.userLimits('telegram', 't1')).toEqual({
        maxActive: null,
        dailyLimit: 7,
        dailyResetAt: resetAt,
      });
      await store.resetUserDaily('discord', 'd1'); // a reset of a user never limited makes their row
      expect(await store.userLimits('discord', 'd1')).toEqual({
        maxActive: null,
        dailyLimit: null,
        dailyResetAt: resetAt,
      });
    },
  },
  {
    name: 'a checked insert reads the user’s own limits inside its lock',
    async run(f) {
      const store = await f.open();
      const mine = task('a', { origin: telegram });
      const withinOwnLimit = async (reads: Parameters<Parameters<typeof store.insertChecked>[1]>[0]) => {
        const own = await reads.userLimits('telegram', 't1');
        if ((await reads.countActiveByUser('telegram', 't1')) >= (own?.maxActive ?? 5)) throw new Error('limit');
      };
      await store.setUserLimits('telegram', 't1', { maxActive: 1, dailyLimit: null });
      expect((await store.insertChecked(mine, withinOwnLimit)).id).toBe('a');
      await expect(store.insertChecked(task('b', { origin: telegram }), withinOwnLimit)).rejects.toThrow('limit');
      await store.setUserLimits('telegram', 't1', { maxActive: null, dailyLimit: null });
      expect((await store.insertChecked(task('c', { origin: telegram }), withinOwnLimit)).id).toBe('c');
    },
  },
];
