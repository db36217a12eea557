/**
 * Conformance cases for the admin page's reads (issue 17; see test/store-conformance.test.ts): a task's history, the
 * time to video per provider by nearest rank, tasks per day, failing deliveries, live tasks per upstream field and the
 * task search — the same answers from every store.
 */
import { expect } from 'vitest';
import type { TaskStoreAsync } from '../../src/core/store/contract.js';
import { type Case, clock, http, ids, task, telegram } from './store-conformance.js';

const MIN = 60_000;
const DAY = 86_400_000;
const isoAt = (ms: number) => new Date(ms).toISOString();

/** A task queued now whose video comes `minutes` later; the clock is moved back afterwards. */
async function videoAfter(store: TaskStoreAsync, id: string, minutes: number, provider = 'p'): Promise<void> {
  const start = clock.at;
  await store.recordTaskEvent('queued', await store.insert(task(id, { provider })), null);
  clock.at += minutes * MIN;
  await store.recordTaskEvent('completed', await store.update(id, { status: 'completed', nextAttemptAt: null }), null);
  clock.at = start;
}

export const ADMIN_CASES: Case[] = [
  {
    name: 'a task’s history comes back oldest first, each row as recorded, at most the latest `limit` rows',
    async run(f) {
      const store = await f.open();
      const queued = await store.insert(task('a'));
      await store.recordTaskEvent('queued', queued, null);
      clock.at += 1_000;
      const started = await store.update('a', { status: 'processing', attempts: 1, progress: 0.25 });
      await store.recordTaskEvent('started', started, 'job j-1');
      clock.at += 1_000;
      const failed = await store.update('a', { status: 'failed', error: 'upstream said no' });
      await store.recordTaskEvent('failed', failed, failed.error);
      await store.recordTaskEvent('queued', await store.update('a', { status: 'pending' }), null);
      const history = await store.taskEvents('a');
      expect(history).toEqual([
        {
          event: 'queued',
          generation: 0,
          status: 'pending',
          attempts: 0,
          progress: null,
          note: null,
          at: isoAt(clock.at - 2_000),
        },
        {
          event: 'started',
          generation: 0,
          status: 'processing',
          attempts: 1,
          progress: 0.25,
          note: 'job j-1',
          at: isoAt(clock.at - 1_000),
        },
        {
          event: 'failed',
          generation: 0,
          status: 'failed',
          attempts: 1,
          progress: 0.25,
          note: 'upstream said no',
          at: isoAt(clock.at),
        },
        {
          event: 'queued',
          generation: 1,
          status: 'pending',
          attempts: 1,
          progress: 0.25,
          note: null,
          at: isoAt(clock.at),
        },
      ]);
      expect((await store.taskEvents('a', 2)).map((e) => e.event)).toEqual(['failed', 'queued']);
      expect(await store.taskEvents('a', -1)).toEqual(history); // SQLite's LIMIT -1: no limit
      expect(await store.taskEvents('missing')).toEqual([]);
    },
  },
  {
    name: 'time to video: per provider in order, median and p95 by nearest rank, a retried run counted from its retry',
    async run(f) {
      const store = await f.open();
      const since = isoAt(clock.at);
      for (let m = 1; m <= 20; m++) await videoAfter(store, `p${m}`, 21 - m);
      await videoAfter(store, 'b1', 4, 'b');
      await videoAfter(store, 'b2', 2, 'b');
      await videoAfter(store, 'b3', 7, 'b');
      // A run retried an hour after its first start counts from the retry's `queued` row: 3 minutes.
      await store.recordTaskEvent('queued', await store.insert(task('r', { provider: 'Z' })), null);
      clock.at += 60 * MIN;
      await store.update('r', { status: 'failed', error: 'x' });
      await store.recordTaskEvent('queued', await store.update('r', { status: 'pending' }), null);
      clock.at += 3 * MIN;
      await store.recordTaskEvent('completed', await store.update('r', { status: 'completed' }), null);
      // Completed with no `queued` row (history began after it was queued): counted from the task's creation.
      const old = await store.insert(task('old', { provider: 'Z' }));
      clock.at += 5 * MIN;
      await store.recordTaskEvent('completed', await store.update(old.id, { status: 'completed' }), null);
      expect(await store.timeToVideo(since)).toEqual([
        { provider: 'Z', videos: 2, medianMs: 3 * MIN, p95Ms: 5 * MIN },
        { provider: 'b', videos: 3, medianMs: 4 * MIN, p95Ms: 7 * MIN },
        { provider: 'p', videos: 20, medianMs: 10 * MIN, p95Ms: 19 * MIN },
      ]);
      expect(await store.timeToVideo(isoAt(clock.at - MIN))).toEqual([
        { provider: 'Z', videos: 1, medianMs: 5 * MIN, p95Ms: 5 * MIN },
      ]);
      expect(await store.timeToVideo(isoAt(clock.at + 1))).toEqual([]);
    },
  },
  {
    name: 'tasks per day and provider count how the tasks stand now, by day then provider',
    async run(f) {
      const store = await f.open();
      await store.insert(task('before'));
      clock.at += 1;
      const since = isoAt(clock.at);
      for (const [id, provider] of [
        ['a', 'p'],
        ['b', 'p'],
        ['c', 'p'],
        ['d', 'Q'],
        ['e', 'p'],
      ] as const) {
        await store.insert(task(id, { provider }));
      }
      await store.update('a', { status: 'completed' });
      await store.update('b', { status: 'failed' });
      await store.update('c', { status: 'cancelled' });
      clock.at += DAY;
      await store.insert(task('next-day'));
      const day = (ms: number) => isoAt(ms).slice(0, 10);
      expect(await store.tasksPerDay(since)).toEqual([
        { day: day(clock.at - DAY), provider: 'Q', total: 1, completed: 0, failed: 0, cancelled: 0 },
        { day: day(clock.at - DAY), provider: 'p', total: 4, completed: 1, failed: 1, cancelled: 1 },
        { day: day(clock.at), provider: 'p', total: 1, completed: 0, failed: 0, cancelled: 0 },
      ]);
      expect(await store.tasksPerDay(isoAt(clock.at + 1))).toEqual([]);
    },
  },
  {
    name: 'failing deliveries: retried ones and those given up since a time, newest first, within a limit',
    async run(f) {
      const store = await f.open();
      for (const id of ['w', 'x', 'y', 'z', 'ok']) {
        await store.insert(task(id, { origin: telegram }));
        await store.update(id, { status: 'completed' });
      }
      const [w, x, y, z] = await store.claimDeliveries('telegram', ['result'], 60_000, 4);
      await store.deliveryGivenUp(w!.id, w!.claim, 'chat gone long ago');
      clock.at += 1_000;
      const since = isoAt(clock.at);
      await store.deliveryFailed(x!.id, x!.claim, 'telegram is down', clock.at + MIN);
      await store.deliveryGivenUp(y!.id, y!.claim, 'the bot was blocked');
      await store.deliveryFailed(z!.id, z!.claim, '502', clock.at + MIN);
      const failing = await store.failingDeliveries(since, 10);
      expect(failing).toMatchObject({ retrying: 2, givenUp: 1 });
      expect(failing.recent.map((d) => [d.taskId, d.lastError])).toEqual([
        ['z', '502'],
        ['y', 'the bot was blocked'],
        ['x', 'telegram is down'],
      ]);
      expect(failing.recent[1]).toEqual(await store.delivery(y!.id));
      const limited = await store.failingDeliveries(isoAt(0), 1);
      expect(limited).toMatchObject({ retrying: 2, givenUp: 2 });
      expect(limited.recent.map((d) => d.taskId)).toEqual(['z']);
      expect((await store.failingDeliveries(isoAt(0), -1)).recent).toHaveLength(4);
    },
  },
  {
    name: 'live tasks per upstream field count unfinished started tasks of the provider, keyed as SQLite keys them',
    async run(f) {
      const store = await f.open();
      const started = [
        ['s1', { id: 'j1', sessionId: 'A', slot: 2, warm: true, account: { id: 'acc-1' } }],
        ['s2', { id: 'j2', sessionId: 'A', slot: 2, warm: false, account: { id: 'acc-1' } }],
        ['s3', { id: 'j3', sessionId: 'B', slot: 3 }],
        ['s4', { id: 'j4', sessionId: null }],
        ['done', { id: 'j5', sessionId: 'B' }],
      ] as const;
      for (const [id, upstream] of started) await store.insert(task(id, { upstream }));
      await store.insert(task('other', { provider: 'q', upstream: { id: 'j6', sessionId: 'A' } }));
      await store.insert(task('waiting'));
      await store.update('done', { status: 'completed' });
      const count = async (field: string) =>
        [...(await store.liveTasksByUpstreamField('p', field))].sort(([a], [b]) => (a < b ? -1 : 1));
      expect(await count('sessionId')).toEqual([
        ['A', 2],
        ['B', 1],
      ]);
      expect(await count('slot')).toEqual([
        ['2', 2],
        ['3', 1],
      ]);
      expect(await count('warm')).toEqual([
        ['0', 1],
        ['1', 1],
      ]);
      expect(await count('account.id')).toEqual([['acc-1', 2]]);
      expect(await count('nothing')).toEqual([]);
      expect([...(await store.liveTasksByUpstreamField('none', 'sessionId'))]).toEqual([]);
    },
  },
  {
    name: 'task search filters, finds prompt text literally in any ASCII case, pages newest first with a full total',
    async run(f) {
      const store = await f.open();
      const rows = [
        ['a', 'a 100% real Cat', http, 'p'],
        ['b', 'a 100 real dogs', http, 'p'],
        ['c', 'snake_case river', telegram, 'p'],
        ['d', 'back\\slash CAT', telegram, 'q'],
        ['e', 'plain cat', http, 'q'],
      ] as const;
      for (const [i, [id, prompt, origin, provider]] of rows.entries()) {
        await store.insert(task(id, { prompt, origin, provider }));
        if (i !== 3) clock.at += 1; // d and e share a creation time: the later insert still comes first
      }
      await store.update('c', { status: 'failed' });
      const search = async (text: string) => ids((await store.searchTasks({ text, limit: 10, offset: 0 })).tasks);
      expect(await search('100%')).toEqual(['a']);
      expect(await search('E_C')).toEqual(['c']);
      expect(await search('e_r')).toEqual([]);
      expect(await search('cat')).toEqual(['e', 'd', 'a']);
      expect(await search('k\\s')).toEqual(['d']);
      expect(await search('')).toEqual(['e', 'd', 'c', 'b', 'a']);
      const page = await store.searchTasks({ provider: 'q', text: 'CAT', limit: 1, offset: 1 });
      expect({ total: page.total, ids: ids(page.tasks) }).toEqual({ total: 2, ids: ['d'] });
      expect(page.tasks[0]).toEqual(await store.get('d'));
      const failed = await store.searchTasks({
        status: 'failed',
        platform: 'telegram',
        userId: 't1',
        limit: 5,
        offset: 0,
      });
      expect({ total: failed.total, ids: ids(failed.tasks) }).toEqual({ total: 1, ids: ['c'] });
      expect(await store.searchTasks({ platform: 'discord', limit: 5, offset: 0 })).toEqual({ total: 0, tasks: [] });
      // A NUL typed into a filter: SQLite reads a pattern up to it ('%a' ends in "a"); no user id holds one.
      expect(await search('CAT\0 ignored')).toEqual(['e', 'd', 'a']);
      expect(await search('real\0')).toEqual([]);
      expect(await search('\0')).toEqual(['e', 'd', 'c', 'b', 'a']);
      expect((await store.searchTasks({ userId: 'u\0', limit: 5, offset: 0 })).total).toBe(0);
      // SQLite's paging rules: a negative limit is none, a negative offset is 0.
      expect(ids((await store.searchTasks({ limit: -1, offset: -3 })).tasks)).toEqual(['e', 'd', 'c', 'b', 'a']);
    },
  },
];
