// Honest waits: the queue position and the ETA come from the provider's recent start-to-video times (median of
// the last completions, kept in the store), never a constant; with no history there is no number.
import { afterEach, describe, expect, it } from 'vitest';
import { TaskStore } from '../src/core/store.js';
import type { Task } from '../src/core/task.js';
import { estimateWaitMs, median } from '../src/core/wait-estimate.js';
import { advanceSeconds, disposeUnderFakeClock, settle, until, useFakeClock } from './support/fake-clock.js';
import { scriptedProvider } from './support/scripted-provider.js';
import { startSeedCore, type TestCore } from './support/test-core.js';

let cores: TestCore[] = [];
afterEach(async () => {
  if (cores.length === 0) return;
  await disposeUnderFakeClock(cores);
  cores = [];
});

const telegram = { platform: 'telegram', userId: '7', chatId: '7' } as const;

async function submit(core: TestCore, prompt: string): Promise<Task> {
  let task: Task | undefined;
  void core.service.submit({ prompt, origin: telegram }).then((t) => {
    task = t;
  });
  await settle(() => task !== undefined);
  return task!;
}

describe('estimateWaitMs', () => {
  it('has no number without history', () => {
    expect(estimateWaitMs({ recentMs: [], ahead: 3, slots: 1, now: 0 })).toBeNull();
  });

  it('takes the median, not the mean, so one slow video does not move it', () => {
    expect(median([60_000, 70_000, 900_000])).toBe(70_000);
    expect(median([60_000, 80_000])).toBe(70_000);
    expect(estimateWaitMs({ recentMs: [60_000, 70_000, 900_000], ahead: 0, slots: 1, now: 0 })).toBe(70_000);
  });

  it('waits one median per round of the slots ahead, then one for itself', () => {
    const recentMs = [100_000];
    expect(estimateWaitMs({ recentMs, ahead: 0, slots: 2, now: 0 })).toBe(100_000);
    expect(estimateWaitMs({ recentMs, ahead: 1, slots: 2, now: 0 })).toBe(100_000);
    expect(estimateWaitMs({ recentMs, ahead: 2, slots: 2, now: 0 })).toBe(200_000);
    expect(estimateWaitMs({ recentMs, ahead: 5, slots: 1, now: 0 })).toBe(600_000);
    expect(estimateWaitMs({ recentMs, ahead: 50, slots: Number.POSITIVE_INFINITY, now: 0 })).toBe(100_000);
  });

  it('counts down a started task from its start, never below zero', () => {
    const recentMs = [100_000];
    expect(estimateWaitMs({ recentMs, ahead: 4, slots: 1, startedAt: 1_000, now: 31_000 })).toBe(70_000);
    expect(estimateWaitMs({ recentMs, ahead: 0, slots: 1, startedAt: 0, now: 500_000 })).toBe(0);
  });
});

describe('the history of video times', () => {
  it('keeps the latest completions of each provider only, newest first', () => {
    const store = new TaskStore(':memory:');
    try {
      for (let i = 0; i < 130; i++) store.videoDone(`t${i}`, 'p', 10_000 + i, 10_000 - i * 10, 100);
      store.videoDone('other', 'q', 5_000, 1_000, 100);
      const times = store.recentVideoTimesMs('p', 1000);
      expect(times).toHaveLength(100);
      expect(times[0]).toBe(129 + 1290); // the newest: done 10 129, started 8 710
      expect(store.recentVideoTimesMs('q', 10)).toEqual([4_000]);
    } finally {
      store.close();
    }
  });
});

describe('waitInfo on a running core (fake clock)', () => {
  it('says "no estimate" before any video, then uses the measured start-to-video time and the line', async () => {
    useFakeClock();
    const provider = scriptedProvider({ maxRunning: 1 });
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] });
    const core = await startSeedCore(cores, provider);

    const first = await submit(core, 'first');
    await advanceSeconds(1);
    const second = await submit(core, 'second');
    expect(await core.service.waitInfo(first)).toEqual({ ahead: 0, etaMs: null });
    expect(await core.service.waitInfo(await core.service.get(second.id))).toEqual({ ahead: 1, etaMs: null });

    // The first video is found at the first look, 180 s after its start: the history now holds 180 s.
    await advanceSeconds(180);
    await until(async () => (await core.service.get(first.id)).status === 'completed');
    const [measured = 0, ...more] = await core.store.recentVideoTimesMs(provider.name, 20);
    expect(more).toEqual([]);
    // The fake clock also moves a few ms per settling round.
    expect(measured).toBeGreaterThanOrEqual(180_000);
    expect(measured).toBeLessThan(185_000);
    await until(async () => (await core.service.get(second.id)).upstream !== null);
    const third = await submit(core, 'third');

    const secondNow = await core.service.waitInfo(await core.service.get(second.id));
    expect(secondNow.ahead).toBe(0);
    expect(secondNow.etaMs).toBeGreaterThan(measured - 10_000);
    expect(secondNow.etaMs).toBeLessThanOrEqual(measured);
    // One task ahead on the provider's single slot: its median, then this one's.
    expect(await core.service.waitInfo(await core.service.get(third.id))).toEqual({ ahead: 1, etaMs: 2 * measured });
    await advanceSeconds(60);
    expect((await core.service.waitInfo(await core.service.get(second.id))).etaMs).toBeLessThanOrEqual(
      measured - 60_000,
    );

    const line = await core.service.waitingLine('telegram', 10);
    expect(line.map((l) => [l.task.id, l.wait.ahead])).toEqual([
      [second.id, 0],
      [third.id, 1],
    ]);
  });
});
