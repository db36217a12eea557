import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextAttemptDelayMs, type Task } from '../src/core/task.js';
import { advanceSeconds, disposeUnderFakeClock, START, settle, until, useFakeClock } from './support/fake-clock.js';
import { permanent, type ScriptedProvider, scriptedProvider, transient } from './support/scripted-provider.js';
import { startSeedCore, type TestCore } from './support/test-core.js';

const http = { platform: 'http', userId: 'api' } as const;
let cores: TestCore[] = [];

const seedCore = (provider: ScriptedProvider, env?: Record<string, string>, dataDir?: string) =>
  startSeedCore(cores, provider, env, dataDir);

async function submit(core: TestCore, prompt = 'a lighthouse at dusk') {
  let task: Task | undefined;
  void core.service.submit({ prompt, origin: http }).then((t) => {
    task = t;
  });
  await settle(() => task !== undefined);
  return task!;
}

const pollTimes = (p: ScriptedProvider) =>
  p.calls.filter((c) => c.method === 'poll').map((c) => Math.round((c.at - START) / 1000));

afterEach(async () => {
  if (cores.length === 0) return;
  await disposeUnderFakeClock(cores);
  cores = [];
});

describe('retry policy', () => {
  it('waits the first delay before the first look and the interval after each', () => {
    const policy = { firstAttemptDelayMs: 180_000, retryIntervalMs: 60_000, maxAttempts: 5 };
    expect([0, 1, 2].map((k) => nextAttemptDelayMs(policy, k))).toEqual([180_000, 60_000, 60_000]);
  });
});

describe('scheduler', () => {
  it('follows the seed timeline: looks at +180, +360 … +900 s, then fails after 5 attempts', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const core = await seedCore(provider);
    const task = await submit(core);
    expect(task).toMatchObject({ status: 'pending', attempts: 0, conversationId: '771', messageId: '881' });

    await advanceSeconds(179);
    expect(pollTimes(provider)).toEqual([]);
    await advanceSeconds(1000);

    expect(pollTimes(provider)).toEqual([180, 360, 540, 720, 900]);
    expect(await core.service.get(task.id)).toMatchObject({
      status: 'failed',
      attempts: 5,
      error: 'video not ready after 5 attempts',
    });
  });

  it('a burst of background submits wakes the scheduler once, after the burst, and every task starts', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const core = await seedCore(provider);
    const claims = vi.spyOn(core.store, 'claimOldestDue');
    const burst = Array.from({ length: 30 }, (_, i) =>
      core.service.submit({ prompt: `burst ${i}`, origin: http, startInBackground: true }),
    );
    const tasks = await Promise.all(burst);
    // Stored and answered, and no claim yet: one claim per submit would sit between the answers (issue 15's burst).
    expect(tasks.every((t) => t.status === 'pending')).toBe(true);
    expect(claims).not.toHaveBeenCalled();
    await until(() => provider.calls.filter((c) => c.method === 'start').length === 30);
    expect(claims).toHaveBeenCalled();
  });

  it('completes at the look that finds the video and re-hosts it', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'running' }, { state: 'succeeded', videoUrls: [provider.videoUrl] });
    const core = await seedCore(provider);
    const completed = vi.fn();
    core.service.on('completed', completed);
    const task = await submit(core);
    await advanceSeconds(400);
    await until(async () => (await core.service.get(task.id)).status === 'completed');
    expect(pollTimes(provider)).toEqual([180, 360]);
    expect(await core.service.get(task.id)).toMatchObject({
      status: 'completed',
      attempts: 2,
      videoFile: `${task.id}.mp4`,
    });
    expect(completed).toHaveBeenCalledOnce();
  });

  it('fails at once, with the reason, on a permanent start error', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    provider.startScript.push(permanent('the prompt was refused by the upstream'));
    const core = await seedCore(provider);
    const task = await submit(core);
    expect(task).toMatchObject({ status: 'failed', attempts: 1, error: 'the prompt was refused by the upstream' });
  });

  it('fails at once when a look reports a permanent failure', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'failed', reason: 'Doubao session expired', retryable: false });
    const core = await seedCore(provider);
    const task = await submit(core);
    await advanceSeconds(200);
    expect(await core.service.get(task.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: 'Doubao session expired',
    });
  });

  it('counts transient errors as attempts and keeps the last reason', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    provider.startScript.push(transient('upstream 502'));
    provider.pollScript.push(transient('timeout'), { state: 'succeeded', videoUrls: [provider.videoUrl] });
    const core = await seedCore(provider);
    const task = await submit(core);
    expect(task).toMatchObject({ status: 'pending', attempts: 1, error: 'upstream 502', upstream: null });
    // The start is tried again after the interval, then looks follow the first delay.
    await advanceSeconds(180 + 180 + 180 + 5);
    await until(async () => (await core.service.get(task.id)).status === 'completed');
    const starts = provider.calls.filter((c) => c.method === 'start');
    expect(starts.map((c) => Math.round((c.at - START) / 1000))).toEqual([0, 180]);
    expect(pollTimes(provider)).toEqual([360, 540]);
    expect(await core.service.get(task.id)).toMatchObject({ status: 'completed', attempts: 3, error: null });
  });

  it('fails with the last transient reason when every attempt errs', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    provider.pollScript.push(...Array.from({ length: 5 }, (_, i) => transient(`upstream 503 #${i + 1}`)));
    const core = await seedCore(provider);
    const task = await submit(core);
    await advanceSeconds(1000);
    expect(await core.service.get(task.id)).toMatchObject({
      status: 'failed',
      attempts: 5,
      error: 'upstream 503 #5 (gave up after 5 attempts)',
    });
  });

  it('stops at the last attempt when every look answers a retryable failure', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    provider.pollScript.push(
      ...Array.from({ length: 8 }, (_, i) => ({ state: 'failed' as const, reason: `busy #${i + 1}`, retryable: true })),
    );
    const core = await seedCore(provider);
    const task = await submit(core);
    await advanceSeconds(3000);
    expect(await core.service.get(task.id)).toMatchObject({
      status: 'failed',
      attempts: 5,
      error: 'busy #5 (gave up after 5 attempts)',
    });
  });

  it('stops looking at a cancelled task and cancels it upstream', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const core = await seedCore(provider);
    const task = await submit(core);
    const cancelled = await core.service.cancel(task.id, { admin: true });
    expect(cancelled.status).toBe('cancelled');
    await advanceSeconds(1000);
    expect(pollTimes(provider)).toEqual([]);
    expect(provider.calls.filter((c) => c.method === 'cancel')).toHaveLength(1);
  });

  it('retries a failed task with fresh attempts, looking at the same upstream job', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'failed', reason: 'not yet', retryable: false });
    const core = await seedCore(provider);
    const task = await submit(core);
    await advanceSeconds(200);
    expect((await core.service.get(task.id)).status).toBe('failed');
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] });
    const retried = await core.service.retry(task.id, { admin: true });
    expect(retried).toMatchObject({ status: 'pending', attempts: 0, error: null });
    await advanceSeconds(2);
    await until(async () => (await core.service.get(task.id)).status === 'completed');
    expect(await core.service.get(task.id)).toMatchObject({ status: 'completed', attempts: 1 });
    expect(provider.calls.filter((c) => c.method === 'start')).toHaveLength(1);
  });

  it('keeps tasks pending while the provider has no free slot, and starts them when one frees', async () => {
    useFakeClock();
    const provider = scriptedProvider({ maxRunning: 1 });
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] });
    const core = await seedCore(provider);
    const first = await submit(core, 'first');
    const second = await submit(core, 'second');
    expect(first.upstream).not.toBeNull();
    expect(second.upstream).toBeNull();
    expect((await core.service.waitInfo(second)).ahead).toBe(1);
    await advanceSeconds(181);
    await until(async () => (await core.service.get(first.id)).status === 'completed');
    await until(async () => (await core.service.get(second.id)).upstream !== null);
    expect(provider.calls.filter((c) => c.method === 'start')).toHaveLength(2);
  });

  it('survives a crash in the middle of an attempt: a second service on the same file finishes the task', async () => {
    useFakeClock();
    const crashed = scriptedProvider();
    const env = { ATTEMPT_TIMEOUT_S: '600', DOWNLOAD_TIMEOUT_S: '60' };
    const first = await seedCore(crashed, env);
    const task = await submit(first);
    const release = crashed.holdNextPoll();
    await advanceSeconds(181);
    expect(pollTimes(crashed)).toEqual([180]);
    expect(await first.service.get(task.id)).toMatchObject({ status: 'processing', attempts: 1 });
    // The process "dies": its loop takes no more work, its attempt never returns, it writes nothing more.
    void first.scheduler.stop();
    await first.store.close();

    const revived = scriptedProvider();
    revived.pollScript.push({ state: 'succeeded', videoUrls: [revived.videoUrl] });
    const second = await seedCore(revived, env, first.dataDir);
    const completed = vi.fn();
    second.service.on('completed', completed);
    // The dead process's lease is released at start-up: the task is looked at again at once (test/leases.test.ts).
    await advanceSeconds(10);
    await until(async () => (await second.service.get(task.id)).status === 'completed');
    expect(await second.service.get(task.id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(completed).toHaveBeenCalledOnce();
    expect(revived.calls[0]?.ref?.id).toBe(task.upstream?.id);

    release(); // the old attempt's late answer must not change the finished task
    await settle();
    expect((await second.service.get(task.id)).status).toBe('completed');
  });
});
