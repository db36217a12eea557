/**
 * Conformance cases for tasks, claims and leases (see test/store-conformance.test.ts): insert and reads, lists,
 * expectations, claims and their races, fencing, take-over of a gone owner, counts and per-user limits.
 */
import { expect } from 'vitest';
import type { QuotaReads, TaskStoreAsync } from '../../src/core/store/contract.js';
import { DuplicateRequest, LeaseLost, type NewTask, StaleTask } from '../../src/core/store.js';
import { type Case, clock, http, ids, OWNER_TIMEOUT_MS, START, task, telegram } from './store-conformance.js';

export const TASK_CASES: Case[] = [
  {
    name: 'insert then get returns every field as given, with times, generation 0 and no lease',
    async run(f) {
      const store = await f.open();
      const given = task('a', {
        kind: 'i2v',
        guest: true,
        imagePath: '/data/images/a.png',
        imageRef: { uri: 'tos://a', width: 640, height: 480 } as unknown as NewTask['imageRef'],
        sectionId: 's1',
        progress: 0.25,
        videoUrls: ['https://x/1.mp4', 'https://x/2.mp4'],
        origin: telegram,
        requestKey: 'rk-a',
        options: { ratio: '9:16', durationS: 10, resolution: '720p' },
      });
      const stored = await store.insert(given);
      const iso = new Date(clock.at).toISOString();
      expect(stored).toEqual({
        ...given,
        leaseOwner: null,
        leaseToken: 0,
        claimedAt: null,
        upstreamEnded: false,
        generation: 0,
        errorReason: null,
        createdAt: iso,
        updatedAt: iso,
      });
      expect(await store.get('a')).toEqual(stored);
      expect(await store.get('missing')).toBeUndefined();
      expect((await store.insert(task('no-options'))).options).toBeNull();
      expect((await store.update('no-options', { options: { durationS: 5 } })).options).toEqual({ durationS: 5 });
      const reason = { code: 'UPSTREAM_REFUSED', params: { status: 451, detail: '内容' } } as const;
      expect((await store.update('no-options', { errorReason: reason })).errorReason).toEqual(reason);
    },
  },
  {
    name: 'a request key is stored once (DuplicateRequest) and finds its task; seed and upstream ids find theirs',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a', { requestKey: 'k' }));
      await expect(store.insert(task('b', { requestKey: 'k' }))).rejects.toBeInstanceOf(DuplicateRequest);
      expect((await store.findByRequestKey('k'))?.id).toBe('a');
      expect(await store.findByRequestKey('other')).toBeUndefined();
      await store.insert(task('c', { conversationId: 'conv', messageId: 'msg' }));
      clock.at += 1;
      await store.insert(task('d', { conversationId: 'conv', messageId: 'msg' }));
      expect((await store.findBySeedIds('conv', 'msg'))?.id).toBe('d');
      await store.update('c', { upstream: { id: 'job-9' } });
      expect((await store.findByUpstreamId('p', 'job-9'))?.id).toBe('c');
      expect(await store.findByUpstreamId('other', 'job-9')).toBeUndefined();
      // A NUL in a looked-up value (a typed %00) finds nothing, as no stored value holds one.
      expect(await store.get('a\0')).toBeUndefined();
      expect(await store.findByRequestKey('k\0')).toBeUndefined();
      expect(await store.findBySeedIds('conv\0', 'msg')).toBeUndefined();
      expect(await store.findByUpstreamId('p', '\0')).toBeUndefined();
      expect(await store.list({ conversationId: 'conv\0' })).toEqual({ total: 0, tasks: [] });
      await expect(store.update('a\0', { error: 'x' })).rejects.toThrow(/does not exist/);
      expect(await store.taskEvents('a\0')).toEqual([]);
      expect(await store.userLimits('http', 'u\0')).toBeUndefined();
    },
  },
  {
    name: 'list filters by status, user, platform and conversation, newest first, with paging and a full total',
    async run(f) {
      const store = await f.open();
      for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) {
        await store.insert(task(id, { origin: i % 2 ? telegram : http, conversationId: i < 2 ? 'shared' : `c-${id}` }));
        if (i !== 3) clock.at += 1; // d and e share a creation time: the later insert still comes first
      }
      await store.update('b', { status: 'failed', error: 'x' });
      expect(ids((await store.list()).tasks)).toEqual(['e', 'd', 'c', 'b', 'a']);
      expect(await store.list({ limit: 2, offset: 1 })).toMatchObject({ total: 5 });
      expect(ids((await store.list({ limit: 2, offset: 1 })).tasks)).toEqual(['d', 'c']);
      expect(ids((await store.list({ status: 'failed' })).tasks)).toEqual(['b']);
      expect(ids((await store.list({ platform: 'telegram' })).tasks)).toEqual(['d', 'b']);
      expect(ids((await store.list({ userId: 'u', platform: 'http' })).tasks)).toEqual(['e', 'c', 'a']);
      expect(ids((await store.list({ conversationId: 'shared' })).tasks)).toEqual(['b', 'a']);
      expect(await store.list({ status: 'cancelled' })).toEqual({ total: 0, tasks: [] });
      expect(ids((await store.list({ limit: -1, offset: -2 })).tasks)).toEqual(['e', 'd', 'c', 'b', 'a']);
    },
  },
  {
    name: 'update applies a patch and refuses an illegal transition, a moved status, a lost lease and an unknown task',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a'));
      clock.at += 5;
      const updated = await store.update('a', { status: 'processing', attempts: 1, progress: 0.5 });
      expect(updated).toMatchObject({ status: 'processing', attempts: 1, progress: 0.5 });
      expect(updated.updatedAt).toBe(new Date(clock.at).toISOString());
      await expect(store.update('a', { status: 'pending' })).rejects.toBeInstanceOf(StaleTask);
      await expect(store.update('a', { error: 'x' }, { status: 'pending' })).rejects.toBeInstanceOf(StaleTask);
      const lost = store.update('a', { error: 'x' }, { token: 3 });
      await expect(lost).rejects.toBeInstanceOf(LeaseLost);
      await expect(lost).rejects.toBeInstanceOf(StaleTask);
      await expect(store.update('nope', { error: 'x' })).rejects.toThrow(/does not exist/);
      expect((await store.get('a'))!.error).toBeNull();
      await store.update('a', { status: 'completed', videoUrls: ['https://x/v.mp4'] }, { status: 'processing' });
      await expect(store.update('a', { status: 'pending' })).rejects.toBeInstanceOf(StaleTask);
    },
  },
  {
    name: 'claimDue takes only due, unleased, unfinished tasks of the provider and stage, oldest due first',
    async run(f) {
      const store = await f.open();
      await store.insert(task('later', { nextAttemptAt: clock.at + 1_000 }));
      await store.insert(task('second', { nextAttemptAt: clock.at - 10 }));
      await store.insert(task('first', { nextAttemptAt: clock.at - 20 }));
      await store.insert(task('started', { upstream: { id: 'j' }, nextAttemptAt: clock.at - 30 }));
      await store.insert(task('other', { provider: 'q' }));
      await store.insert(task('waiting', { nextAttemptAt: null }));
      await store.insert(task('done'));
      await store.update('done', { status: 'completed' });
      const claimed = await store.claimDue('p', 'unstarted', 10_000, 10);
      expect(ids(claimed)).toEqual(['first', 'second']);
      expect(claimed[0]).toMatchObject({ leaseOwner: store.owner, leaseToken: 1, claimedAt: clock.at });
      expect(await store.claimDue('p', 'unstarted', 10_000, 10)).toEqual([]);
      expect(ids(await store.claimDue('p', 'started', 10_000, 10))).toEqual(['started']);
      clock.at += 1_000;
      expect(ids(await store.claimDue('p', 'unstarted', 10_000, 1))).toEqual(['later']);
      clock.at += 10_000; // the first leases lapsed
      expect(ids(await store.claimDue('p', 'unstarted', 10_000, 5, 'second'))).toEqual(['second']);
      expect((await store.get('second'))!.leaseToken).toBe(2);
    },
  },
  {
    name: 'two claimers racing over 40 due tasks never get the same task, and together get them all',
    async run(f) {
      const a = await f.open();
      const b = await f.peer(a);
      for (let i = 0; i < 40; i++)
        await a.insert(task(`t${String(i).padStart(2, '0')}`, { nextAttemptAt: clock.at - i }));
      const drain = async (store: TaskStoreAsync) => {
        const got: string[] = [];
        for (;;) {
          const batch = await store.claimDue('p', 'unstarted', 60_000, 3);
          if (!batch.length) return got;
          got.push(...ids(batch));
        }
      };
      const all = (await Promise.all([drain(a), drain(b), drain(a), drain(b)])).flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `t${String(i).padStart(2, '0')}`));
      for (const t of (await a.list()).tasks) expect(t.leaseToken).toBe(1);
    },
  },
  {
    name: 'a claim names its owner and bumps the token; a write, renewal or release with the older token is refused',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a'));
      const [first] = await store.claimDue('p', 'unstarted', 10_000, 1);
      expect(first).toMatchObject({
        leaseOwner: store.owner,
        leaseToken: 1,
        claimedAt: clock.at,
        leaseUntil: clock.at + 10_000,
      });
      clock.at += 10_001;
      const [second] = await store.claimDue('p', 'unstarted', 10_000, 1);
      expect(second!.leaseToken).toBe(2);
      await expect(store.update('a', { error: 'stale' }, { token: 1 })).rejects.toBeInstanceOf(LeaseLost);
      await expect(store.renewLease('a', 1, 10_000)).rejects.toBeInstanceOf(LeaseLost);
      expect(await store.releaseLease('a', 1)).toBe(false);
      await store.renewLease('a', 2, 50_000);
      expect((await store.get('a'))!.leaseUntil).toBe(clock.at + 50_000);
      expect((await store.update('a', { error: 'fresh' }, { token: 2 })).error).toBe('fresh');
      expect(await store.releaseLease('a', 2)).toBe(true);
      expect(await store.get('a')).toMatchObject({ leaseUntil: null, leaseOwner: null, leaseToken: 2 });
      await store.claimDue('p', 'unstarted', 10_000, 1);
      expect(await store.update('a', { leaseUntil: null }, { token: 3 })).toMatchObject({ leaseOwner: null });
    },
  },
  {
    name: 'the next owner releases a gone owner’s live leases and holds its interrupted starts for recovery',
    async run(f) {
      const dead = await f.open();
      await dead.insert(task('started', { upstream: { id: 'job-1' } }));
      await dead.insert(task('starting'));
      await dead.insert(task('other-provider', { provider: 'q' }));
      const leases = { started: 60_000, unstarted: 60_000 };
      expect(await dead.claimOldestDue('p', { limit: 2, startLimit: 2 }, leases)).toHaveLength(2);
      expect(await dead.claimDue('q', 'unstarted', 60_000, 1)).toHaveLength(1);
      const claimedAt = clock.at;
      await f.kill(dead);
      clock.at += OWNER_TIMEOUT_MS + 1; // silent past the owner timeout, its 60 s leases still running
      const next = await f.open();
      const held = await next.takeOverLeases({ provider: 'p', holdUnstarted: true, leaseMs: 5_000 });
      expect(ids(held)).toEqual(['starting']);
      expect(held[0]).toMatchObject({ leaseOwner: next.owner, leaseToken: 2, leaseUntil: clock.at + 5_000, claimedAt });
      expect(await next.get('started')).toMatchObject({ leaseUntil: null, leaseOwner: null });
      expect(await next.get('other-provider')).toMatchObject({ leaseUntil: null, leaseOwner: null });
      expect(ids(await next.claimDue('p', 'started', 60_000, 5))).toEqual(['started']);
      expect(await next.takeOverLeases({ provider: 'p', holdUnstarted: true, leaseMs: 5_000 })).toEqual([]);
      await next.heartbeat();
    },
  },
  {
    name: 'without holding starts, a take-over releases them too',
    async run(f) {
      const dead = await f.open();
      await dead.insert(task('starting'));
      await dead.claimDue('p', 'unstarted', 60_000, 1);
      await f.kill(dead);
      clock.at += OWNER_TIMEOUT_MS + 1;
      const next = await f.open();
      expect(await next.takeOverLeases({ provider: 'p', holdUnstarted: false, leaseMs: 5_000 })).toEqual([]);
      expect(ids(await next.claimDue('p', 'unstarted', 60_000, 1))).toEqual(['starting']);
    },
  },
  {
    name: 'nextDueAt is the earliest next look of unleased tasks, or a lapsing lease plus 1 ms',
    async run(f) {
      const store = await f.open();
      expect(await store.nextDueAt('p', 'unstarted')).toBeUndefined();
      await store.insert(task('a', { nextAttemptAt: clock.at + 500 }));
      await store.insert(task('b', { nextAttemptAt: clock.at + 900 }));
      await store.insert(task('s', { nextAttemptAt: clock.at + 100, upstream: { id: 'j' } }));
      expect(await store.nextDueAt('p', 'unstarted')).toBe(clock.at + 500);
      expect(await store.nextDueAt('p', 'started')).toBe(clock.at + 100);
      clock.at += 600;
      await store.claimDue('p', 'unstarted', 200, 1);
      expect(await store.nextDueAt('p', 'unstarted')).toBe(clock.at + 201); // a's lease, before b's look at +300
      clock.at += 350;
      expect(await store.nextDueAt('p', 'unstarted')).toBe(START + 500); // a's lease lapsed: its look is due
    },
  },
  {
    name: 'claimOldestDue mixes looks and starts by how long they waited, within the start limit',
    async run(f) {
      const store = await f.open();
      await store.insert(task('look-old', { upstream: { id: 'j1' }, nextAttemptAt: clock.at - 50 }));
      await store.insert(task('start-older', { nextAttemptAt: clock.at - 60 }));
      await store.insert(task('start-old', { nextAttemptAt: clock.at - 40 }));
      await store.insert(task('look-new', { upstream: { id: 'j2' }, nextAttemptAt: clock.at - 10 }));
      const claimed = await store.claimOldestDue(
        'p',
        { limit: 3, startLimit: 1 },
        { started: 20_000, unstarted: 40_000 },
      );
      expect(ids(claimed)).toEqual(['start-older', 'look-old', 'look-new']);
      expect(claimed.map((t) => t.leaseUntil! - clock.at)).toEqual([40_000, 20_000, 20_000]);
      expect(ids(await store.claimOldestDue('p', { limit: 3, startLimit: 0 }, { started: 1, unstarted: 1 }))).toEqual(
        [],
      );
    },
  },
  {
    name: 'starts stay within the provider’s slots (maxRunning) for every claimer: jobs running and starts under way count',
    async run(f) {
      const a = await f.open();
      const b = await f.peer(a);
      await a.insert(task('running', { upstream: { id: 'j1' }, nextAttemptAt: clock.at + 60_000 }));
      for (let i = 0; i < 20; i++)
        await a.insert(task(`s${String(i).padStart(2, '0')}`, { nextAttemptAt: clock.at - i }));
      const leases = { started: 60_000, unstarted: 60_000 };
      const slots = { limit: 5, startLimit: 5, maxRunning: 4 };
      const claims = await Promise.all([
        a.claimOldestDue('p', slots, leases),
        b.claimOldestDue('p', slots, leases),
        a.claimDue('p', 'unstarted', 60_000, 5, undefined, 4),
        b.claimDue('p', 'unstarted', 60_000, 5, undefined, 4),
      ]);
      expect(claims.flat()).toHaveLength(3); // four slots, one job running
      expect(await b.claimDue('p', 'unstarted', 60_000, 5, undefined, 4)).toEqual([]);
      await a.update('running', { status: 'cancelled' }); // its slot is free again
      expect(await b.claimOldestDue('p', slots, leases)).toHaveLength(1);
      expect(await a.claimDue('p', 'unstarted', 60_000, 2)).toHaveLength(2); // no slots given: only the limit holds
    },
  },
  {
    name: 'a NUL in any text never makes a write fail (PostgreSQL refuses it, so it is dropped there)',
    async run(f) {
      const store = await f.open();
      const nul = (text: string | null | undefined) => text?.replaceAll('\0', '');
      await store.insert(
        task('n', { prompt: 'a\0b', origin: { ...http, reply: { note: 'c\u0000d', kept: '\\u0000' } } }),
      );
      await store.update('n', { error: 'upstream said \0 nothing', videoUrls: ['https://x.test/v\0.mp4'] });
      await store.setProviderState('p', 'k\0', { text: 'e\0f' });
      const got = (await store.get('n'))!;
      expect([nul(got.prompt), nul(got.error), got.videoUrls.map(nul)]).toEqual([
        'ab',
        'upstream said  nothing',
        ['https://x.test/v.mp4'],
      ]);
      expect(nul(String(got.origin.reply?.note))).toBe('cd');
      expect(got.origin.reply?.kept).toBe('\\u0000'); // a backslash and "u0000" typed by someone stay
      expect((await store.providerStateEntries<{ text: string }>('p', 'k')).map(([, v]) => nul(v.text))).toEqual([
        'ef',
      ]);
    },
  },
  {
    name: 'counts: by status, running upstream jobs, a user’s active and recent tasks, tasks ahead in line',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a'));
      clock.at += 1_000;
      const since = new Date(clock.at).toISOString();
      await store.insert(task('b', { upstream: { id: 'j' } }));
      clock.at += 1_000;
      const c = await store.insert(task('c', { origin: { platform: 'http', userId: 'v' } }));
      await store.insert(task('d', { provider: 'q' }));
      await store.update('a', { status: 'failed' });
      expect(await store.countByStatus()).toEqual({ pending: 3, processing: 0, completed: 0, failed: 1, cancelled: 0 });
      expect(await store.countRunning('p')).toBe(1);
      expect(await store.countActiveByUser('http', 'u')).toBe(2);
      expect(await store.countActiveByUser('telegram', 'u')).toBe(0);
      expect(await store.countCreatedByUserSince('http', 'u', since)).toBe(2);
      expect(await store.countAhead(c)).toBe(1);
      await store.update('b', { status: 'completed' });
      expect(await store.countRunning('p')).toBe(0);
    },
  },
  {
    name: 'insertChecked inserts only what its check accepts, and two racing submits of one user pass a limit once',
    async run(f) {
      const a = await f.open();
      const b = await f.peer(a);
      const limitOne = (userId: string) => async (reads: QuotaReads) => {
        const active = await reads.countActiveByUser('http', userId);
        await new Promise((r) => setTimeout(r, 20)); // widen the window a race would need
        if (active >= 1) throw new Error('limit reached');
      };
      const results = await Promise.allSettled([
        a.insertChecked(task('x1'), limitOne('u')),
        b.insertChecked(task('x2'), limitOne('u')),
        a.insertChecked(task('x3'), limitOne('u')),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(
        results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      ).toEqual(['Error: limit reached', 'Error: limit reached']);
      expect((await a.list()).total).toBe(1);
      const other = await a.insertChecked(task('y', { origin: { platform: 'http', userId: 'w' } }), limitOne('w'));
      expect(other.id).toBe('y');
    },
  },
  {
    name: 'failOtherProviders fails the unfinished tasks of other providers, each owing its delivery',
    async run(f) {
      const store = await f.open();
      await store.insert(task('mine'));
      await store.insert(task('old', { provider: 'doubao', origin: telegram }));
      await store.insert(task('old-done', { provider: 'doubao' }));
      await store.update('old-done', { status: 'completed' });
      const failed = await store.failOtherProviders('p', (other) => `${other} is no longer run here`);
      expect(failed.map((t) => [t.id, t.status, t.error])).toEqual([['old', 'failed', 'doubao is no longer run here']]);
      expect((await store.get('old'))!.errorReason).toEqual({
        code: 'PROVIDER_NOT_SERVED',
        params: { provider: 'doubao', running: 'p' },
      });
      expect((await store.get('mine'))!.errorReason).toBeNull();
      expect((await store.get('mine'))!.status).toBe('pending');
      expect(ids(await store.undelivered('telegram'))).toEqual(['old']);
    },
  },
];
