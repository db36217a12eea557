/**
 * Conformance cases for what the store keeps about users (see test/store-conformance.test.ts): admins' per-user
 * limits and daily resets (issue 15), also as a checked insert reads them; the admin page's sign-in sessions
 * (issue 16), which every process sharing the database must know.
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
  {
    name: 'admin sessions: kept by id hash until they expire or end, seen by another store on the database, newest 1 000',
    async run(f) {
      const a = await f.open();
      const b = await f.peer(a);
      await a.keepAdminSession('h1', 'csrf-1', clock.at + 1_000);
      expect(await b.adminSession('h1')).toEqual({ csrf: 'csrf-1', expiresAt: clock.at + 1_000 });
      expect(await b.adminSession('unknown')).toBeUndefined();
      await b.endAdminSession('h1');
      expect(await a.adminSession('h1')).toBeUndefined();
      await a.keepAdminSession('h2', 'csrf-2', clock.at + 1_000);
      clock.at += 1_000; // h2 expires now
      expect(await a.adminSession('h2')).toBeUndefined();
      for (let i = 0; i < 1_001; i++) await a.keepAdminSession(`n${i}`, 'c', clock.at + 10_000 + i);
      expect(await b.adminSession('n0')).toBeUndefined(); // the oldest of 1 001 went
      expect(await b.adminSession('n1')).toEqual({ csrf: 'c', expiresAt: clock.at + 10_001 });
      expect(await b.adminSession('n1000')).toEqual({ csrf: 'c', expiresAt: clock.at + 11_000 });
    },
  },
];
