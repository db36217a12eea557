/**
 * One list of cases for every task store (issue 16): the SQLite store behind the async contract and the PostgreSQL
 * store (a throw-away cluster from test/support/postgres.ts; without the server binaries these tests fail and say
 * how to get them). The cases state what the SQLite store does today — tasks, filters and paging, expectations,
 * claims, fenced leases, take-over of a gone owner, deliveries, incidents, provider state, counts, retention — so
 * the PostgreSQL store is held to the same answers. "Two processes" is two pools on PostgreSQL; on SQLite (one
 * process per file) it is two callers racing in one process. The cases only PostgreSQL can have (live owners side
 * by side, migrations raced by several processes, wake-ups across processes) follow in their own block.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QuotaReads, TaskStoreAsync } from '../src/core/store/contract.js';
import { PostgresTaskStore } from '../src/core/store/postgres.js';
import { migrate, PG_MIGRATIONS } from '../src/core/store/postgres-migrations.js';
import { SqliteTaskStoreAsync } from '../src/core/store/sqlite-async.js';
import { DuplicateRequest, LeaseLost, type NewTask, StaleTask, TaskStore } from '../src/core/store.js';
import type { Origin } from '../src/core/task.js';
import { type PostgresCluster, startPostgres } from './support/postgres.js';

const START = 1_000_000;
let clock = START;
const now = () => clock;
/** How long a PostgreSQL owner may stay silent before it is taken for gone (SQLite: any other owner is gone). */
const OWNER_TIMEOUT_MS = 30_000;

const http: Origin = { platform: 'http', userId: 'u' };
const telegram: Origin = { platform: 'telegram', userId: 't1', chatId: '42', reply: { messageId: 7 } };

function task(id: string, fields: Partial<NewTask> = {}): NewTask {
  return {
    id,
    provider: 'p',
    kind: 't2v',
    prompt: `prompt ${id}`,
    guest: false,
    imagePath: null,
    imageRef: null,
    conversationId: `c-${id}`,
    messageId: `m-${id}`,
    sectionId: null,
    upstream: null,
    status: 'pending',
    attempts: 0,
    maxAttempts: 5,
    nextAttemptAt: clock,
    leaseUntil: null,
    progress: null,
    videoUrls: [],
    videoFile: null,
    error: null,
    origin: http,
    deliveredAt: null,
    ...fields,
  };
}

/** How a test reaches a store kind: stores of one database, a second process, and a process's death. */
interface Fixture {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A fresh, empty database for the next test. */
  fresh(): Promise<void>;
  /** A store (a process) on this test's database. */
  open(): Promise<TaskStoreAsync>;
  /** A second claimer beside `store`: another process on PostgreSQL, the same process on SQLite. */
  peer(store: TaskStoreAsync): Promise<TaskStoreAsync>;
  /** The process of `store` dies: it writes nothing more and its heartbeat stops. */
  kill(store: TaskStoreAsync): Promise<void>;
}

const opened: TaskStoreAsync[] = [];

function sqliteFixture(): Fixture {
  let dir: string | undefined;
  return {
    name: 'SQLite',
    setup: async () => undefined,
    teardown: async () => undefined,
    fresh: async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = mkdtempSync(join(tmpdir(), 'dvb-conformance-'));
    },
    open: async () => {
      const store = new SqliteTaskStoreAsync(new TaskStore(join(dir!, 'tasks.db'), now));
      opened.push(store);
      return store;
    },
    peer: async (store) => store,
    kill: async (store) => {
      opened.splice(opened.indexOf(store), 1);
      await store.close();
    },
  };
}

/** One cluster for the file, started by the first block that needs it (a missing server fails that block). */
let clusterStart: Promise<PostgresCluster> | undefined;
const sharedCluster = () => {
  clusterStart ??= startPostgres().then((cluster) => {
    console.info(`PostgreSQL test cluster up in ${cluster.startMs} ms`);
    return cluster;
  });
  return clusterStart;
};
afterAll(async () => {
  await (await clusterStart?.catch(() => undefined))?.stop();
});

function postgresFixture(): Fixture {
  let cluster: PostgresCluster | undefined;
  let url = '';
  const open = async () => {
    const store = await PostgresTaskStore.open(url, { now, ownerTimeoutMs: OWNER_TIMEOUT_MS, poolSize: 4 });
    opened.push(store);
    return store;
  };
  return {
    name: 'PostgreSQL',
    setup: async () => {
      cluster = await sharedCluster();
    },
    teardown: async () => undefined,
    fresh: async () => {
      url = await cluster!.createDatabase();
    },
    open,
    peer: () => open(),
    kill: async (store) => {
      opened.splice(opened.indexOf(store), 1);
      await store.close();
    },
  };
}

interface Case {
  name: string;
  run(f: Fixture): Promise<void>;
}

const ids = (tasks: { id: string }[]) => tasks.map((t) => t.id);

const CASES: Case[] = [
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
      });
      const stored = await store.insert(given);
      const iso = new Date(clock).toISOString();
      expect(stored).toEqual({
        ...given,
        leaseOwner: null,
        leaseToken: 0,
        claimedAt: null,
        upstreamEnded: false,
        generation: 0,
        createdAt: iso,
        updatedAt: iso,
      });
      expect(await store.get('a')).toEqual(stored);
      expect(await store.get('missing')).toBeUndefined();
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
      clock += 1;
      await store.insert(task('d', { conversationId: 'conv', messageId: 'msg' }));
      expect((await store.findBySeedIds('conv', 'msg'))?.id).toBe('d');
      await store.update('c', { upstream: { id: 'job-9' } });
      expect((await store.findByUpstreamId('p', 'job-9'))?.id).toBe('c');
      expect(await store.findByUpstreamId('other', 'job-9')).toBeUndefined();
    },
  },
  {
    name: 'list filters by status, user, platform and conversation, newest first, with paging and a full total',
    async run(f) {
      const store = await f.open();
      for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) {
        await store.insert(task(id, { origin: i % 2 ? telegram : http, conversationId: i < 2 ? 'shared' : `c-${id}` }));
        if (i !== 3) clock += 1; // d and e share a creation time: the later insert still comes first
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
    },
  },
  {
    name: 'update applies a patch and refuses an illegal transition, a moved status, a lost lease and an unknown task',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a'));
      clock += 5;
      const updated = await store.update('a', { status: 'processing', attempts: 1, progress: 0.5 });
      expect(updated).toMatchObject({ status: 'processing', attempts: 1, progress: 0.5 });
      expect(updated.updatedAt).toBe(new Date(clock).toISOString());
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
      await store.insert(task('later', { nextAttemptAt: clock + 1_000 }));
      await store.insert(task('second', { nextAttemptAt: clock - 10 }));
      await store.insert(task('first', { nextAttemptAt: clock - 20 }));
      await store.insert(task('started', { upstream: { id: 'j' }, nextAttemptAt: clock - 30 }));
      await store.insert(task('other', { provider: 'q' }));
      await store.insert(task('waiting', { nextAttemptAt: null }));
      await store.insert(task('done'));
      await store.update('done', { status: 'completed' });
      const claimed = await store.claimDue('p', 'unstarted', 10_000, 10);
      expect(ids(claimed)).toEqual(['first', 'second']);
      expect(claimed[0]).toMatchObject({ leaseOwner: store.owner, leaseToken: 1, claimedAt: clock });
      expect(await store.claimDue('p', 'unstarted', 10_000, 10)).toEqual([]);
      expect(ids(await store.claimDue('p', 'started', 10_000, 10))).toEqual(['started']);
      clock += 1_000;
      expect(ids(await store.claimDue('p', 'unstarted', 10_000, 1))).toEqual(['later']);
      clock += 10_000; // the first leases lapsed
      expect(ids(await store.claimDue('p', 'unstarted', 10_000, 5, 'second'))).toEqual(['second']);
      expect((await store.get('second'))!.leaseToken).toBe(2);
    },
  },
  {
    name: 'two claimers racing over 40 due tasks never get the same task, and together get them all',
    async run(f) {
      const a = await f.open();
      const b = await f.peer(a);
      for (let i = 0; i < 40; i++) await a.insert(task(`t${String(i).padStart(2, '0')}`, { nextAttemptAt: clock - i }));
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
        claimedAt: clock,
        leaseUntil: clock + 10_000,
      });
      clock += 10_001;
      const [second] = await store.claimDue('p', 'unstarted', 10_000, 1);
      expect(second!.leaseToken).toBe(2);
      await expect(store.update('a', { error: 'stale' }, { token: 1 })).rejects.toBeInstanceOf(LeaseLost);
      await expect(store.renewLease('a', 1, 10_000)).rejects.toBeInstanceOf(LeaseLost);
      expect(await store.releaseLease('a', 1)).toBe(false);
      await store.renewLease('a', 2, 50_000);
      expect((await store.get('a'))!.leaseUntil).toBe(clock + 50_000);
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
      const claimedAt = clock;
      await f.kill(dead);
      clock += OWNER_TIMEOUT_MS + 1; // silent past the owner timeout, its 60 s leases still running
      const next = await f.open();
      const held = await next.takeOverLeases({ provider: 'p', holdUnstarted: true, leaseMs: 5_000 });
      expect(ids(held)).toEqual(['starting']);
      expect(held[0]).toMatchObject({ leaseOwner: next.owner, leaseToken: 2, leaseUntil: clock + 5_000, claimedAt });
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
      clock += OWNER_TIMEOUT_MS + 1;
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
      await store.insert(task('a', { nextAttemptAt: clock + 500 }));
      await store.insert(task('b', { nextAttemptAt: clock + 900 }));
      await store.insert(task('s', { nextAttemptAt: clock + 100, upstream: { id: 'j' } }));
      expect(await store.nextDueAt('p', 'unstarted')).toBe(clock + 500);
      expect(await store.nextDueAt('p', 'started')).toBe(clock + 100);
      clock += 600;
      await store.claimDue('p', 'unstarted', 200, 1);
      expect(await store.nextDueAt('p', 'unstarted')).toBe(clock + 201); // a's lease, before b's look at +300
      clock += 350;
      expect(await store.nextDueAt('p', 'unstarted')).toBe(START + 500); // a's lease lapsed: its look is due
    },
  },
  {
    name: 'claimOldestDue mixes looks and starts by how long they waited, within the start limit',
    async run(f) {
      const store = await f.open();
      await store.insert(task('look-old', { upstream: { id: 'j1' }, nextAttemptAt: clock - 50 }));
      await store.insert(task('start-older', { nextAttemptAt: clock - 60 }));
      await store.insert(task('start-old', { nextAttemptAt: clock - 40 }));
      await store.insert(task('look-new', { upstream: { id: 'j2' }, nextAttemptAt: clock - 10 }));
      const claimed = await store.claimOldestDue(
        'p',
        { limit: 3, startLimit: 1 },
        { started: 20_000, unstarted: 40_000 },
      );
      expect(ids(claimed)).toEqual(['start-older', 'look-old', 'look-new']);
      expect(claimed.map((t) => t.leaseUntil! - clock)).toEqual([40_000, 20_000, 20_000]);
      expect(ids(await store.claimOldestDue('p', { limit: 3, startLimit: 0 }, { started: 1, unstarted: 1 }))).toEqual(
        [],
      );
    },
  },
  {
    name: 'a chat task that ends owes one result delivery, claimed by one sender, marked sent once',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a', { origin: telegram }));
      await store.insert(task('h'));
      await store.update('h', { status: 'completed' }); // HTTP askers poll: nothing owed
      const done = await store.update('a', { status: 'completed', videoFile: 'a.mp4' });
      expect(await store.deliveries({ taskId: 'h' })).toEqual([]);
      const [owed] = await store.deliveries({ taskId: 'a' });
      expect(owed).toMatchObject({ kind: 'result', platform: 'telegram', outcome: 'completed', generation: 0 });
      expect(owed).toMatchObject({ state: 'pending', tries: 0, claim: 0, nextTryAt: clock, leaseUntil: null });
      expect(ids(await store.undelivered('telegram'))).toEqual(['a']);
      expect(await store.nextDeliveryAt('telegram', ['result'])).toBe(clock);
      expect(await store.claimDeliveries('telegram', ['alert'], 30_000, 10)).toEqual([]);
      const [claimed] = await store.claimDeliveries('telegram', ['result', 'alert'], 30_000, 10);
      expect(claimed).toMatchObject({ id: owed!.id, claim: 1, leaseUntil: clock + 30_000 });
      expect(await store.claimDeliveries('telegram', ['result'], 30_000, 10)).toEqual([]);
      expect(await store.nextDeliveryAt('telegram', ['result'])).toBe(clock + 30_001);
      expect(await store.deliverySent(owed!.id)).toBe(true);
      expect(await store.delivery(owed!.id)).toMatchObject({ state: 'sent', leaseUntil: null });
      expect((await store.get('a'))!.deliveredAt).toBe(new Date(clock).toISOString());
      expect(done.deliveredAt).toBeNull();
      expect(await store.deliverySent(owed!.id)).toBe(false);
      expect(await store.deliverySent(999_999)).toBe(false);
      expect(await store.undelivered('telegram')).toEqual([]);
      expect(await store.nextDeliveryAt('telegram', ['result'])).toBeUndefined();
    },
  },
  {
    name: 'a failed send is rescheduled only by its claim holder; an outage’s retries are expedited; a refusal ends it',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a', { origin: telegram }));
      await store.update('a', { status: 'failed', error: 'no' });
      const [first] = await store.claimDeliveries('telegram', ['result'], 1_000, 1);
      clock += 1_001; // the lease lapsed: another sender claims it
      const [second] = await store.claimDeliveries('telegram', ['result'], 1_000, 1);
      expect(second!.claim).toBe(2);
      expect(await store.deliveryFailed(first!.id, first!.claim, 'late', clock + 5)).toBe(false);
      expect(await store.deliveryFailed(second!.id, second!.claim, '502 from Telegram', clock + 60_000)).toBe(true);
      expect(await store.delivery(second!.id)).toMatchObject({
        tries: 1,
        lastError: '502 from Telegram',
        nextTryAt: clock + 60_000,
        leaseUntil: null,
        state: 'pending',
      });
      expect(await store.claimDeliveries('telegram', ['result'], 1_000, 1)).toEqual([]);
      expect(await store.expediteDeliveries('discord')).toBe(0);
      expect(await store.expediteDeliveries('telegram')).toBe(1);
      const [third] = await store.claimDeliveries('telegram', ['result'], 1_000, 1);
      expect(await store.deliveryGivenUp(third!.id, second!.claim, 'stale')).toBe(false);
      expect(await store.deliveryGivenUp(third!.id, third!.claim, 'bot blocked by the user')).toBe(true);
      expect(await store.delivery(third!.id)).toMatchObject({
        state: 'given_up',
        tries: 2,
        givenUpReason: 'bot blocked by the user',
      });
      expect(await store.deliveryFailed(third!.id, third!.claim, 'after the end', clock)).toBe(false);
    },
  },
  {
    name: 'a retry supersedes the owed result and bumps the generation; the next outcome is owed anew',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a', { origin: telegram }));
      await store.update('a', { status: 'failed', error: 'first run' });
      const retried = await store.update('a', { status: 'pending', error: null, nextAttemptAt: clock });
      expect(retried.generation).toBe(1);
      await store.update('a', { status: 'cancelled' });
      const rows = await store.deliveries({ taskId: 'a' });
      expect(rows.map((d) => [d.generation, d.outcome, d.state])).toEqual([
        [0, 'failed', 'superseded'],
        [1, 'cancelled', 'pending'],
      ]);
      expect(await store.deliverySent(rows[0]!.id)).toBe(false);
      await store.deliverySuperseded(rows[1]!.id);
      expect((await store.delivery(rows[1]!.id))!.state).toBe('superseded');
      expect(await store.undelivered('telegram')).toEqual([]);
    },
  },
  {
    name: 'two senders racing over 30 owed results never claim the same one',
    async run(f) {
      const a = await f.open();
      const b = await f.peer(a);
      for (let i = 0; i < 30; i++) {
        await a.insert(task(`t${i}`, { origin: telegram }));
        await a.update(`t${i}`, { status: 'completed' });
      }
      const drain = async (store: TaskStoreAsync) => {
        const got: number[] = [];
        for (;;) {
          const batch = await store.claimDeliveries('telegram', ['result'], 60_000, 2);
          if (!batch.length) return got;
          got.push(...batch.map((d) => d.id));
        }
      };
      const [x, y] = await Promise.all([drain(a), drain(b)]);
      const all = [...x, ...y];
      expect(new Set(all).size).toBe(30);
      expect(all).toHaveLength(30);
    },
  },
  {
    name: 'the delivery leases of a gone owner are freed for the next one',
    async run(f) {
      const dead = await f.open();
      await dead.insert(task('a', { origin: telegram }));
      await dead.update('a', { status: 'completed' });
      expect(await dead.claimDeliveries('telegram', ['result'], 600_000, 5)).toHaveLength(1);
      await f.kill(dead);
      clock += OWNER_TIMEOUT_MS + 1;
      const next = await f.open();
      expect(await next.claimDeliveries('telegram', ['result'], 600_000, 5)).toEqual([]);
      expect(await next.releaseDeliveryLeases()).toBe(1);
      expect(await next.claimDeliveries('telegram', ['result'], 600_000, 5)).toHaveLength(1);
    },
  },
  {
    name: 'an incident queues one alert per admin; a repeat, or a recovery from nothing, queues none',
    async run(f) {
      const store = await f.open();
      const admins = [
        { platform: 'telegram', recipient: '1' },
        { platform: 'discord', recipient: '2' },
      ] as const;
      const expired = { provider: 'doubao', subject: 'main', kind: 'expired', message: 'session expired' } as const;
      expect(await store.recordIncident({ ...expired, kind: 'recovered', message: 'ok' }, admins)).toBeUndefined();
      const recorded = await store.recordIncident(
        { ...expired, code: '710022004', action: 'run npm run session' },
        admins,
      );
      expect(recorded).toEqual({
        id: expect.any(Number),
        ...expired,
        code: '710022004',
        action: 'run npm run session',
        at: new Date(clock).toISOString(),
      });
      expect(await store.incident(recorded!.id)).toEqual(recorded);
      expect(await store.recordIncident({ ...expired, code: '710022004' }, admins)).toBeUndefined();
      const alerts = await store.deliveries({ incidentId: recorded!.id });
      expect(alerts.map((d) => [d.kind, d.platform, d.recipient, d.state])).toEqual([
        ['alert', 'telegram', '1', 'pending'],
        ['alert', 'discord', '2', 'pending'],
      ]);
      expect(await store.claimDeliveries('discord', ['alert'], 1_000, 5)).toHaveLength(1);
      const recovered = await store.recordIncident({ ...expired, kind: 'recovered', message: 'back' }, []);
      expect(recovered).toMatchObject({ kind: 'recovered' });
      expect(recovered).not.toHaveProperty('code');
      expect(await store.incident(424_242)).toBeUndefined();
    },
  },
  {
    name: 'provider state keeps JSON values by key, overwrites them, and lists a prefix in key order',
    async run(f) {
      const store = await f.open();
      expect(await store.getProviderState('doubao', 'session')).toBeUndefined();
      await store.setProviderState('doubao', 'session:b', { cookie: 'secret', n: 2, list: [1, 2] });
      await store.setProviderState('doubao', 'session:a', 'plain');
      await store.setProviderState('doubao', 'dialect', null);
      await store.setProviderState('ark', 'session:z', 1);
      expect(await store.getProviderState('doubao', 'session:b')).toEqual({ cookie: 'secret', n: 2, list: [1, 2] });
      expect(await store.getProviderState('doubao', 'dialect')).toBeNull();
      await store.setProviderState('doubao', 'session:a', ['replaced']);
      expect(await store.providerStateEntries('doubao', 'session:')).toEqual([
        ['session:a', ['replaced']],
        ['session:b', { cookie: 'secret', n: 2, list: [1, 2] }],
      ]);
      expect(await store.providerStateEntries('doubao', '%')).toEqual([]);
    },
  },
  {
    name: 'counts: by status, running upstream jobs, a user’s active and recent tasks, tasks ahead in line',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a'));
      clock += 1_000;
      const since = new Date(clock).toISOString();
      await store.insert(task('b', { upstream: { id: 'j' } }));
      clock += 1_000;
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
      expect((await store.get('mine'))!.status).toBe('pending');
      expect(ids(await store.undelivered('telegram'))).toEqual(['old']);
    },
  },
  {
    name: 'retention: kept videos, removal marks, releasable images and the images still in use',
    async run(f) {
      const store = await f.open();
      await store.insert(task('v', { videoFile: 'v.mp4' }));
      await store.insert(task('img-done', { imagePath: '/i/1.png' }));
      await store.insert(task('img-failed', { imagePath: '/i/2.png' }));
      await store.insert(task('img-live', { imagePath: '/i/3.png' }));
      await store.update('v', { status: 'completed' });
      await store.update('img-done', { status: 'completed' });
      await store.update('img-failed', { status: 'failed' });
      const at = new Date(clock).toISOString();
      clock += 1_000;
      const after = new Date(clock).toISOString();
      expect(await store.keptVideosBefore(at, 10)).toEqual([]);
      expect(await store.keptVideosBefore(after, 10)).toEqual([{ id: 'v', videoFile: 'v.mp4' }]);
      expect(await store.videoRemovedAt('v')).toBeUndefined();
      await store.markVideoRemoved('v');
      expect(await store.videoRemovedAt('v')).toBe(after);
      expect(await store.keptVideosBefore(after, 10)).toEqual([]);
      expect(await store.releasableImages(at, 10)).toEqual([{ id: 'img-done', imagePath: '/i/1.png' }]);
      const both = await store.releasableImages(after, 10);
      expect(both.map((r) => r.id).sort()).toEqual(['img-done', 'img-failed']);
      expect(await store.imagePathsInUse()).toEqual(new Set(['/i/1.png', '/i/2.png', '/i/3.png']));
      expect(await store.releaseImage('img-live', '/i/3.png')).toBe(false);
      expect(await store.releaseImage('img-done', '/i/1.png')).toBe(true);
      expect(await store.imagePathsInUse()).toEqual(new Set(['/i/2.png', '/i/3.png']));
    },
  },
  {
    name: 'health: the integrity check says ok and the probe row takes a write',
    async run(f) {
      const store = await f.open();
      expect(await store.integrityCheck()).toBe('ok');
      await store.probeWrite();
      await store.probeWrite();
    },
  },
  {
    name: 'a subscriber hears each task created and each task retried, and nothing after it stops',
    async run(f) {
      const store = await f.open();
      const heard: string[] = [];
      const stop = await store.subscribeTaskWakeups((w) => heard.push(`${w.provider}/${w.id}`));
      await store.insert(task('a'));
      await store.insertChecked(task('b'), () => undefined);
      await store.update('a', { status: 'failed' });
      await store.update('a', { status: 'pending' });
      await store.update('a', { status: 'processing' });
      await until(() => heard.length >= 3);
      expect(heard).toEqual(['p/a', 'p/b', 'p/a']);
      await stop();
      await store.insert(task('c'));
      await new Promise((r) => setTimeout(r, 100));
      expect(heard).toHaveLength(3);
    },
  },
  {
    name: 'the store answers every public method of the SQLite TaskStore (the contract keeps up with it)',
    async run(f) {
      const store = (await f.open()) as unknown as Record<string, unknown>;
      const methods = Object.getOwnPropertyNames(TaskStore.prototype).filter((name) => name !== 'constructor');
      expect(methods.filter((name) => typeof store[name] !== 'function')).toEqual([]);
      expect(typeof store.owner).toBe('string');
    },
  },
];

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
}

describe.each([sqliteFixture(), postgresFixture()])('task store conformance: $name', (fixture) => {
  beforeAll(() => fixture.setup(), 60_000);
  afterAll(() => fixture.teardown());
  afterEach(closeAll);

  for (const c of CASES) {
    it(c.name, async () => {
      clock = START;
      await fixture.fresh();
      await c.run(fixture);
    });
  }
});

describe('PostgreSQL: what only a shared store has', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await sharedCluster();
  }, 60_000);
  afterEach(closeAll);

  const openAt = async (url: string) => {
    const store = await PostgresTaskStore.open(url, { now, ownerTimeoutMs: OWNER_TIMEOUT_MS, poolSize: 4 });
    opened.push(store);
    return store;
  };

  it('processes starting together migrate once: one applies the schema, the others find it done', async () => {
    const url = await cluster.createDatabase();
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 2 }));
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool)));
      expect(applied.filter((versions) => versions.length > 0)).toEqual([[1]]);
      const { rows } = await pools[0]!.query('SELECT version FROM schema_migrations');
      expect(rows).toEqual([{ version: 1 }]);
      expect(await migrate(pools[0]!, [...PG_MIGRATIONS, 'SELECT 1'])).toEqual([2]);
      await expect(migrate(pools[1]!)).rejects.toThrow(/newer than this build knows/);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('a failing migration leaves the schema as it was', async () => {
    const url = await cluster.createDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await expect(migrate(pool, ['CREATE TABLE a (x int)', 'CREATE TABLE b (x nonsense)'])).rejects.toThrow();
      const { rows } = await pool.query(
        "SELECT to_regclass('a')::text AS a, to_regclass('schema_migrations')::text AS m",
      );
      expect(rows).toEqual([{ a: null, m: null }]);
    } finally {
      await pool.end();
    }
  });

  it('a live owner keeps its leases when another process takes over; they go once it falls silent', async () => {
    const url = await cluster.createDatabase();
    const a = await openAt(url);
    const b = await openAt(url);
    await a.insert(task('held'));
    await a.claimDue('p', 'unstarted', 600_000, 1);
    clock += OWNER_TIMEOUT_MS / 2;
    await a.heartbeat();
    clock += OWNER_TIMEOUT_MS / 2 + 1; // b's registration is older than the timeout, a's heartbeat is not
    expect(await b.takeOverLeases({ provider: 'p', holdUnstarted: false, leaseMs: 1 })).toEqual([]);
    expect(await b.get('held')).toMatchObject({ leaseOwner: a.owner, leaseToken: 1 });
    await a.update('held', { attempts: 1 }, { token: 1 });
    clock += OWNER_TIMEOUT_MS + 1; // a fell silent; b beats
    await b.heartbeat();
    const held = await b.takeOverLeases({ provider: 'p', holdUnstarted: true, leaseMs: 5_000 });
    expect(held).toMatchObject([{ id: 'held', leaseOwner: b.owner, leaseToken: 2 }]);
    await expect(a.update('held', { attempts: 2 }, { token: 1 })).rejects.toBeInstanceOf(LeaseLost);
    // The silent owner comes back: its heartbeat registers it again, its old token stays refused.
    await a.heartbeat();
    await expect(a.renewLease('held', 1, 1_000)).rejects.toBeInstanceOf(LeaseLost);
  });

  it('a task created or retried by one process wakes the subscribers of the others', async () => {
    const url = await cluster.createDatabase();
    const listener = await openAt(url);
    const writer = await openAt(url);
    const heard: string[] = [];
    await listener.subscribeTaskWakeups((w) => heard.push(w.id));
    await writer.insert(task('a'));
    await writer.update('a', { status: 'cancelled' });
    await writer.update('a', { status: 'pending' });
    await until(() => heard.length >= 2);
    expect(heard).toEqual(['a', 'a']);
  });

  it('a subscription listens again after its connection is cut', async () => {
    const url = await cluster.createDatabase();
    const listener = await openAt(url);
    const heard: string[] = [];
    await listener.subscribeTaskWakeups((w) => heard.push(w.id));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()",
      );
      await new Promise((r) => setTimeout(r, 1_500)); // the retry comes a second later
      await listener.insert(task('after-cut'));
      await until(() => heard.includes('after-cut'));
    } finally {
      await admin.end();
    }
  });

  it('an unreachable database fails open() with the driver’s error, leaving nothing running', async () => {
    const url = cluster.url.replace(/:\d+\//, ':1/');
    await expect(PostgresTaskStore.open(url)).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});
