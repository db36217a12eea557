// The retry policy's pure timing: the seed's fixed schedule and POLL_SCHEDULE=adaptive, without timers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { lookTimesMs, nextAttemptDelayMs, type RetryPolicy } from '../src/core/task.js';
import { advanceSeconds, START, settle, useFakeClock } from './support/fake-clock.js';
import { scriptedProvider } from './support/scripted-provider.js';
import { startTestCore, type TestCore } from './support/test-core.js';

const SEED: RetryPolicy = { firstAttemptDelayMs: 180_000, retryIntervalMs: 180_000, maxAttempts: 5 };
const seconds = (ms: number[]) => ms.map((v) => v / 1000);

describe('fixed schedule (the seed)', () => {
  it('is the default and looks at +180, +360 … +900 s', () => {
    expect(seconds(lookTimesMs(SEED))).toEqual([180, 360, 540, 720, 900]);
    expect(lookTimesMs({ ...SEED, schedule: 'fixed' })).toEqual(lookTimesMs(SEED));
  });
});

describe('adaptive schedule', () => {
  const adaptive: RetryPolicy = { ...SEED, schedule: 'adaptive' };

  it('spreads the same number of looks evenly after the first delay, ending with the fixed last look', () => {
    expect(seconds(lookTimesMs(adaptive))).toEqual([324, 468, 612, 756, 900]);
    expect(nextAttemptDelayMs(adaptive, 0)).toBe(324_000);
    expect(nextAttemptDelayMs(adaptive, 3)).toBe(144_000);
  });

  it('never looks more often than maxAttempts, never before the first delay, never after the fixed last look', () => {
    const cases: RetryPolicy[] = [
      { firstAttemptDelayMs: 15_000, retryIntervalMs: 15_000, maxAttempts: 40, schedule: 'adaptive' },
      { firstAttemptDelayMs: 60_000, retryIntervalMs: 30_000, maxAttempts: 2, schedule: 'adaptive' },
      { firstAttemptDelayMs: 0, retryIntervalMs: 7_000, maxAttempts: 3, schedule: 'adaptive' },
    ];
    for (const policy of cases) {
      const looks = lookTimesMs(policy);
      const fixed = lookTimesMs({ ...policy, schedule: 'fixed' });
      expect(looks).toHaveLength(policy.maxAttempts);
      expect(looks[0]).toBeGreaterThan(policy.firstAttemptDelayMs);
      expect(Math.abs(looks.at(-1)! - fixed.at(-1)!)).toBeLessThanOrEqual(policy.maxAttempts);
      const gaps = looks.slice(1).map((t, i) => t - looks[i]!);
      expect(new Set(gaps).size).toBe(1);
    }
  });

  it('looks once at the first delay when only one attempt is allowed', () => {
    expect(lookTimesMs({ ...adaptive, maxAttempts: 1 })).toEqual([180_000]);
  });
});

describe('POLL_SCHEDULE', () => {
  it('defaults to fixed, accepts adaptive and refuses anything else by name', () => {
    expect(loadConfig({}).POLL_SCHEDULE).toBe('fixed');
    expect(loadConfig({ POLL_SCHEDULE: 'adaptive' }).POLL_SCHEDULE).toBe('adaptive');
    expect(() => loadConfig({ POLL_SCHEDULE: 'often' })).toThrow(/Invalid POLL_SCHEDULE/);
  });
});

describe('the scheduler with POLL_SCHEDULE=adaptive', () => {
  let core: TestCore | undefined;
  afterEach(async () => {
    let stopped = false;
    const stopping = core?.dispose().finally(() => {
      stopped = true;
    });
    await settle(() => stopped, 5000, 1);
    await stopping;
    vi.useRealTimers();
  });

  it('looks at +324, +468 … +900 s and tells the asker that window', async () => {
    useFakeClock();
    const provider = scriptedProvider();
    const env = { FIRST_ATTEMPT_DELAY_S: '180', RETRY_INTERVAL_S: '180', MAX_ATTEMPTS: '5', POLL_SCHEDULE: 'adaptive' };
    core = await startTestCore({ env, provider: () => provider });
    let done = false;
    void core.service.submit({ prompt: 'a kite', origin: { platform: 'http', userId: 'api' } }).then(() => {
      done = true;
    });
    await settle(() => done);
    await advanceSeconds(1000);
    const polls = provider.calls.filter((c) => c.method === 'poll').map((c) => Math.round((c.at - START) / 1000));
    expect(polls).toEqual([324, 468, 612, 756, 900]);
    expect(core.service.estimateWindowS()).toEqual({ firstS: 324, lastS: 900 });
  });
});
