/**
 * Leases, fencing and the scheduler loop under failure (issue 12, cases 3, 4, 5, 13 and 14): a restart after a
 * crash looks at the dead process's tasks at once; a start slower than a look's lease is not started twice; a step
 * whose lease was claimed again writes nothing; a cancel (or cancel + retry) during a start neither orphans nor
 * doubles the upstream job; a database that refuses in the loop never ends the process; a full loop does not spin.
 * A scripted provider on the fake clock stands in for the upstream: these are the scheduler's own guarantees.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskStoreAsync } from '../src/core/store/contract.js';
import { type NewTask, TaskStore } from '../src/core/store.js';
import { advanceSeconds, disposeUnderFakeClock, START, settle, until, useFakeClock } from './support/fake-clock.js';
import { sampleImage } from './support/media-samples.js';
import { type ScriptedProvider, scriptedProvider, transient } from './support/scripted-provider.js';
import { startSeedCore, startTestCore, type TestCore } from './support/test-core.js';

const http = { platform: 'http', userId: 'api' } as const;
let cores: TestCore[] = [];

const seedCore = (provider: ScriptedProvider, env?: Record<string, string>, dataDir?: string) =>
  startSeedCore(cores, provider, env, dataDir);

/** Submits without waiting for the first step (it may be held), and returns the stored task. */
async function submit(core: TestCore, prompt = 'a lighthouse at dusk', image?: Buffer) {
  const before = (await core.service.list()).total;
  void core.service.submit({ prompt, origin: http, ...(image && { image: { bytes: image } }) }).catch(() => undefined);
  await settle(async () => (await core.service.list()).total > before, 200, 2);
  return (await core.service.list({ limit: 1 })).tasks[0]!;
}

const callsOf = (p: ScriptedProvider, method: string) => p.calls.filter((c) => c.method === method);
const secondsOf = (p: ScriptedProvider, method: string) =>
  callsOf(p, method).map((c) => Math.round((c.at - START) / 1000));

afterEach(async () => {
  if (cores.length === 0) return;
  await disposeUnderFakeClock(cores);
  cores = [];
});

describe('leases after a crash (case 3)', () => {
  it('a restart looks at once at the tasks the killed process held, not when their 185 s leases lapse', async () => {
    useFakeClock();
    const crashed = scriptedProvider();
    const first = await seedCore(crashed);
    const looked = await submit(first, 'looked at when the process died');
    const releasePoll = crashed.holdNextPoll();
    await advanceSeconds(181);
    expect(secondsOf(crashed, 'poll')).toEqual([180]);
    const releaseStart = crashed.holdNextStart();
    const starting = await submit(first, 'being started when the process died');
    expect((await first.service.get(starting.id)).leaseOwner).toBe(first.store.owner);
    // The process dies: its loop takes no more work, its steps never return, it writes nothing more.
    void first.scheduler.stop();
    await first.store.close();

    const revived = scriptedProvider();
    revived.pollScript.push({ state: 'succeeded', videoUrls: [revived.videoUrl] });
    const second = await seedCore(revived, {}, first.dataDir);
    await advanceSeconds(10);
    expect(revived.calls[0]).toMatchObject({ method: 'poll', ref: { id: 'job-1' } });
    expect(secondsOf(revived, 'poll')[0]).toBeLessThanOrEqual(181 + 10);
    expect(secondsOf(revived, 'start')).toHaveLength(1);
    await until(async () => (await second.service.get(looked.id)).status === 'completed');
    expect(await second.service.get(starting.id)).toMatchObject({ status: 'pending', leaseUntil: null });
    expect((await second.service.get(starting.id)).upstream).not.toBeNull();

    releasePoll(); // the dead process's late answers change nothing
    releaseStart();
    await settle();
    expect((await second.service.get(looked.id)).status).toBe('completed');
  });
});

describe('after the restart, the longest-waiting task first (case 3)', () => {
  it('a start due before a look is not starved by looks when steps are scarce', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const core = await seedCore(provider, { PROVIDER_CONCURRENCY: '1' });
    const a = await submit(core, 'A: looked at first, and held');
    await until(async () => (await core.service.get(a.id)).upstream !== null);
    provider.startScript.push(transient('upstream 502'));
    const c = await submit(core, 'C: its start failed once, due again at 180 s');
    await advanceSeconds(1);
    await submit(core, 'B: its first look is due at 181 s');
    const release = provider.holdNextPoll();
    await advanceSeconds(185); // A's look is held from 180 s; C (due 180 s) and B (due 181 s) wait for the one step
    const before = provider.calls.length;
    release();
    await until(() => provider.calls.length > before);
    expect(provider.calls[before]!.method).toBe('start');
    await until(async () => (await core.service.get(c.id)).upstream !== null);
  });
});

describe('nothing claimed to wait in a queue (case 3)', () => {
  it('a submit while every step is taken claims nothing, so a kill leaves at most PROVIDER_CONCURRENCY in flight', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const core = await seedCore(provider, { PROVIDER_CONCURRENCY: '1' });
    const release = provider.holdNextStart();
    const first = await submit(core, 'first, its start held');
    await until(() => callsOf(provider, 'start').length === 1);
    const second = await submit(core, 'second, submitted meanwhile');
    await settle(undefined, 20, 2);
    expect(await core.service.get(second.id)).toMatchObject({ leaseUntil: null, leaseToken: 0, upstream: null });
    release();
    await until(async () => (await core.service.get(second.id)).upstream !== null);
    expect((await core.service.get(first.id)).upstream).not.toBeNull();
  });
});

describe('leases cover the step (case 4)', () => {
  it('an i2v start slower than a look lease (upload 9 s + start 9 s > 16 s) is not started twice upstream', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const env = { ATTEMPT_TIMEOUT_S: '10', DOWNLOAD_TIMEOUT_S: '1', FIRST_ATTEMPT_DELAY_S: '12' };
    const core = await seedCore(provider, env);
    expect(core.scheduler.leaseMs).toBe(16_000);
    await submit(core, 'another user’s video, looked at 12 s later: the loop wakes up meanwhile');
    await until(async () => (await core.service.list()).tasks.every((t) => t.upstream !== null));
    provider.delays.uploadMs = 9_000;
    provider.delays.startMs = 9_000;
    const task = await submit(core, 'the cat waves', sampleImage('png'));
    await until(() => callsOf(provider, 'uploadImage').length === 1); // the image is read from disk first
    await advanceSeconds(40);
    expect(callsOf(provider, 'uploadImage')).toHaveLength(1);
    expect(callsOf(provider, 'start')).toHaveLength(2); // the other task's, and this one's once
    expect((await core.service.get(task.id)).upstream).toMatchObject({ id: 'job-2' });
  });

  it('a start whose lease was claimed again writes nothing, and its job is cancelled upstream', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const core = await seedCore(provider);
    const release = provider.holdNextStart();
    const task = await submit(core);
    await until(() => callsOf(provider, 'start').length === 1);
    const held = await core.service.get(task.id);
    // The process stalls (a suspended VM) past the lease: on waking, the loop sees the lease lapsed and claims again.
    vi.setSystemTime(Date.now() + 600_000); // longer than any lease of these settings

    core.scheduler.kick();
    await until(async () => (await core.service.get(task.id)).upstream !== null);
    release();
    await until(() => callsOf(provider, 'cancel').length === 1);
    expect((await core.service.get(task.id)).upstream).toMatchObject({ id: 'job-1' });
    expect(callsOf(provider, 'cancel')[0]!.ref).toMatchObject({ id: 'job-2' });
    expect((await core.service.get(task.id)).leaseToken).toBe(held.leaseToken + 1);
  });
});

describe('cancel during a start (case 5)', () => {
  /** A task cancelled while its first start is held; `release` lets that start go on. */
  async function cancelledDuringStart() {
    useFakeClock();
    const provider = scriptedProvider();
    const core = await seedCore(provider);
    const release = provider.holdNextStart();
    const task = await submit(core);
    await core.service.cancel(task.id, { admin: true });
    return { provider, core, task, release };
  }

  it('cancels upstream the job that a start under way created after the cancel', async () => {
    const { provider, core, task, release } = await cancelledDuringStart();
    release();
    await until(async () => (await core.service.get(task.id)).leaseUntil === null);
    expect(callsOf(provider, 'cancel')[0]!.ref).toMatchObject({ id: 'job-1' });
    expect(await core.service.get(task.id)).toMatchObject({ status: 'cancelled', upstream: null, leaseUntil: null });
  });

  it('cancel then retry during a start runs one start, and only it writes its reference', async () => {
    const { provider, core, task, release } = await cancelledDuringStart();
    await core.service.retry(task.id, { admin: true });
    await advanceSeconds(5);
    release();
    await until(async () => (await core.service.get(task.id)).upstream !== null);
    await advanceSeconds(5);
    expect(callsOf(provider, 'start')).toHaveLength(1);
    expect(callsOf(provider, 'cancel')).toHaveLength(0);
    expect(await core.service.get(task.id)).toMatchObject({ status: 'pending', upstream: { id: 'job-1' } });
  });
});

describe('the loop when the database refuses (case 13)', () => {
  /**
   * Makes the claims of `target` fail as a full disk does; returns the undo. The core's (async) store rejects; the
   * SQLite store's prototype, under the async store of every core started meanwhile, throws.
   */
  function refuseClaims(target: TaskStoreAsync | TaskStore, count: () => void): () => void {
    const saved = { claimDue: target.claimDue, claimOldestDue: target.claimOldestDue };
    const refuse = () => {
      count();
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    const full = target === TaskStore.prototype ? refuse : async () => refuse();
    Object.assign(target, { claimDue: full, claimOldestDue: full });
    return () => Object.assign(target, saved);
  }

  it('SQLITE_FULL from the claim on the timer path is logged once, backed off, and the loop resumes', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] });
    const core = await seedCore(provider);
    const task = await submit(core);
    let refusals = 0;
    const restore = refuseClaims(core.store, () => refusals++);
    await advanceSeconds(240); // the first look was due at 180 s: the timer path hits the full disk
    expect(refusals).toBeGreaterThan(2);
    expect(refusals).toBeLessThan(20); // backed off, not spinning
    const complaints = core
      .logs()
      .split('\n')
      .filter((l) => l.includes('cannot use the database'));
    expect(complaints).toHaveLength(1);
    restore();
    await advanceSeconds(65);
    await until(async () => (await core.service.get(task.id)).status === 'completed');
    expect(core.logs()).toContain('reaches the database again');
  });

  it('a database refusing at Scheduler.start does not fail the start; the loop takes over once it answers', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const first = await seedCore(provider);
    const task = await submit(first);
    void first.scheduler.stop();
    await first.store.close();

    const revived = scriptedProvider();
    revived.pollScript.push({ state: 'succeeded', videoUrls: [revived.videoUrl] });
    let core: TestCore | undefined;
    let refusals = 0;
    const restore = refuseClaims(TaskStore.prototype, () => refusals++);
    try {
      core = await seedCore(revived, {}, first.dataDir);
      await advanceSeconds(3);
    } finally {
      restore();
    }
    expect(refusals).toBeGreaterThan(0);
    await advanceSeconds(200);
    await until(async () => (await core!.service.get(task.id)).status === 'completed');
  });
});

describe('hot paths (case 14)', () => {
  it('does not spin while PROVIDER_CONCURRENCY is full and another task is due', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const core = await seedCore(provider, { PROVIDER_CONCURRENCY: '1' });
    await submit(core, 'first');
    await submit(core, 'second');
    const release = provider.holdNextPoll();
    await advanceSeconds(181); // both due at 180 s; the first look is held, the second waits for room
    expect(callsOf(provider, 'poll')).toHaveLength(1);
    const nextDueAt = vi.spyOn(core.store, 'nextDueAt');
    await advanceSeconds(5);
    expect(nextDueAt.mock.calls.length).toBeLessThan(5);
    release();
    await until(() => callsOf(provider, 'poll').length === 2);
  });

  it('answers countRunning, countAhead and findByUpstreamId without walking 50 000 finished tasks', async () => {
    useFakeClock();
    const core = await startTestCore({ provider: () => scriptedProvider() });
    cores.push(core);
    const base: Omit<NewTask, 'id'> = {
      provider: 'scripted',
      kind: 't2v',
      prompt: 'history',
      guest: false,
      imagePath: null,
      imageRef: null,
      conversationId: '1',
      messageId: '1',
      sectionId: null,
      upstream: null,
      status: 'completed',
      attempts: 1,
      maxAttempts: 5,
      nextAttemptAt: null,
      leaseUntil: null,
      progress: 1,
      videoUrls: [],
      videoFile: null,
      error: null,
      origin: http,
      requestKey: null,
      deliveredAt: null,
      upstreamEnded: false,
    };
    for (let i = 0; i < 50_000; i++)
      await core.store.insert({ ...base, id: `old-${i}`, upstream: { id: `old-job-${i}` } });
    const live = await core.store.insert({ ...base, id: 'live', status: 'pending', upstream: { id: 'live-job' } });
    const perCallMs = async (work: () => Promise<unknown>) => {
      const started = performance.now();
      for (let i = 0; i < 50; i++) await work();
      return (performance.now() - started) / 50;
    };
    // Walking the history costs ~10 ms a call here; an index probe costs microseconds. 2 ms leaves room for a busy CI.
    expect(await perCallMs(() => core.store.countRunning('scripted'))).toBeLessThan(2);
    expect(await perCallMs(() => core.store.countAhead(live))).toBeLessThan(2);
    expect(await perCallMs(() => core.store.findByUpstreamId('scripted', 'live-job'))).toBeLessThan(2);
    expect(await core.store.countRunning('scripted')).toBe(1);
    expect((await core.store.findByUpstreamId('scripted', 'old-job-123'))?.id).toBe('old-123');
  }, 60_000);
});
