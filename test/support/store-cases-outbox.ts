/**
 * Conformance cases for what the store keeps besides task state (see test/store-conformance.test.ts): deliveries and
 * their races, incidents, provider state, retention, health, wake-ups, and that every TaskStore method exists.
 */
import { expect } from 'vitest';
import type { TaskStoreAsync } from '../../src/core/store/contract.js';
import { TaskStore } from '../../src/core/store.js';
import { type Case, clock, ids, OWNER_TIMEOUT_MS, task, telegram, until } from './store-conformance.js';

export const OUTBOX_CASES: Case[] = [
  {
    name: 'a chat task that ends owes one result delivery, claimed by one sender, marked sent once',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a', { origin: telegram }));
      await store.insert(task('h'));
      await store.update('h', { status: 'completed' }); // HTTP askers without a callback poll: nothing owed
      const done = await store.update('a', { status: 'completed', videoFile: 'a.mp4' });
      expect(await store.deliveries({ taskId: 'h' })).toEqual([]);
      const [owed] = await store.deliveries({ taskId: 'a' });
      expect(owed).toMatchObject({ kind: 'result', platform: 'telegram', outcome: 'completed', generation: 0 });
      expect(owed).toMatchObject({ state: 'pending', tries: 0, claim: 0, nextTryAt: clock.at, leaseUntil: null });
      expect(ids(await store.undelivered('telegram'))).toEqual(['a']);
      expect(await store.nextDeliveryAt('telegram', ['result'])).toBe(clock.at);
      expect(await store.claimDeliveries('telegram', ['alert'], 30_000, 10)).toEqual([]);
      const [claimed] = await store.claimDeliveries('telegram', ['result', 'alert'], 30_000, 10);
      expect(claimed).toMatchObject({ id: owed!.id, claim: 1, leaseUntil: clock.at + 30_000 });
      expect(await store.claimDeliveries('telegram', ['result'], 30_000, 10)).toEqual([]);
      expect(await store.nextDeliveryAt('telegram', ['result'])).toBe(clock.at + 30_001);
      expect(await store.deliverySent(owed!.id)).toBe(true);
      expect(await store.delivery(owed!.id)).toMatchObject({ state: 'sent', leaseUntil: null });
      expect((await store.get('a'))!.deliveredAt).toBe(new Date(clock.at).toISOString());
      expect(done.deliveredAt).toBeNull();
      expect(await store.deliverySent(owed!.id)).toBe(false);
      expect(await store.deliverySent(999_999)).toBe(false);
      expect(await store.undelivered('telegram')).toEqual([]);
      expect(await store.nextDeliveryAt('telegram', ['result'])).toBeUndefined();
    },
  },
  {
    name: 'an HTTP task with a callback URL owes its result like a chat task; one without a callback owes nothing',
    async run(f) {
      const store = await f.open();
      const hook = { platform: 'http', userId: 'u', reply: { callbackUrl: 'https://client.example/hook' } } as const;
      await store.insert(task('cb', { origin: hook }));
      await store.insert(task('poll', { origin: { platform: 'http', userId: 'u', reply: { messageId: 3 } } }));
      await store.update('cb', { status: 'failed', error: 'no' });
      await store.update('poll', { status: 'completed' });
      expect(await store.deliveries({ taskId: 'poll' })).toEqual([]);
      expect(await store.deliveries({ taskId: 'cb' })).toMatchObject([
        { kind: 'result', platform: 'http', outcome: 'failed', generation: 0, state: 'pending' },
      ]);
      expect(ids(await store.undelivered('http'))).toEqual(['cb']);
      const [claimed] = await store.claimDeliveries('http', ['result'], 30_000, 5);
      expect(claimed).toMatchObject({ taskId: 'cb', claim: 1 });
    },
  },
  {
    name: 'a failed send is rescheduled only by its claim holder; an outage’s retries are expedited; a refusal ends it',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a', { origin: telegram }));
      await store.update('a', { status: 'failed', error: 'no' });
      const [first] = await store.claimDeliveries('telegram', ['result'], 1_000, 1);
      clock.at += 1_001; // the lease lapsed: another sender claims it
      const [second] = await store.claimDeliveries('telegram', ['result'], 1_000, 1);
      expect(second!.claim).toBe(2);
      expect(await store.deliveryFailed(first!.id, first!.claim, 'late', clock.at + 5)).toBe(false);
      expect(await store.deliveryFailed(second!.id, second!.claim, '502 from Telegram', clock.at + 60_000)).toBe(true);
      expect(await store.delivery(second!.id)).toMatchObject({
        tries: 1,
        lastError: '502 from Telegram',
        nextTryAt: clock.at + 60_000,
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
      expect(await store.deliveryFailed(third!.id, third!.claim, 'after the end', clock.at)).toBe(false);
    },
  },
  {
    name: 'a retry supersedes the owed result and bumps the generation; the next outcome is owed anew',
    async run(f) {
      const store = await f.open();
      await store.insert(task('a', { origin: telegram }));
      await store.update('a', { status: 'failed', error: 'first run' });
      const retried = await store.update('a', { status: 'pending', error: null, nextAttemptAt: clock.at });
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
      clock.at += OWNER_TIMEOUT_MS + 1;
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
        at: new Date(clock.at).toISOString(),
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
      await store.setProviderState('doubao', 'session:B', 2);
      // Keys in byte order, as SQLite compares text ('B' before 'a'), whatever the database's collation.
      expect((await store.providerStateEntries('doubao', 'session:')).map(([key]) => key)).toEqual([
        'session:B',
        'session:a',
        'session:b',
      ]);
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
      const at = new Date(clock.at).toISOString();
      clock.at += 1_000;
      const after = new Date(clock.at).toISOString();
      expect(await store.keptVideosBefore(at, 10)).toEqual([]);
      expect(await store.keptVideosBefore(after, 10)).toEqual([{ id: 'v', videoFile: 'v.mp4' }]);
      expect(await store.videoRemovedAt('v')).toBeUndefined();
      await store.markVideoRemoved('v');
      expect(await store.videoRemovedAt('v')).toBe(after);
      expect(await store.keptVideosBefore(after, 10)).toEqual([]);
      // Every final task keeps its image through the retry window, a completed one too ("again" reuses it).
      expect(await store.releasableImages(at, 10)).toEqual([]);
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
