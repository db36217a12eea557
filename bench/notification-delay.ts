/**
 * Notification delay in virtual time: no timers, no I/O. 10 000 videos whose completion times are drawn (seeded)
 * uniformly from 3–15 minutes after their start are looked at on the seed's fixed schedule, on
 * POLL_SCHEDULE=adaptive (both with the seed's timings: 180 s, 180 s, 5 attempts) and on the doubao provider's own
 * timing (first look after DOUBAO_FIRST_CHECK_S=150, then every DOUBAO_POLL_INTERVAL_S=15 for 20 minutes, a look
 * being one message-list call), all through the core's own pure `lookTimesMs`. A video is found at the first look at or after its completion (a look is taken as instant).
 * Measures the wait between the video being ready and the look that finds it, the looks spent per video, and the
 * share never found within MAX_ATTEMPTS.
 */
import { lookTimesMs, type RetryPolicy } from '../src/core/task.js';
import { doubaoTiming } from '../src/providers/doubao/index.js';
import { type Bench, percentile } from './bench-row.js';

const VIDEOS = 10_000;
const SEED_POLICY: RetryPolicy = { firstAttemptDelayMs: 180_000, retryIntervalMs: 180_000, maxAttempts: 5 };
const EARLIEST_MS = 3 * 60_000;
const LATEST_MS = 15 * 60_000;

/** mulberry32: a small seeded generator, so every run draws the same videos. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Outcome {
  meanDelayS: number;
  p95DelayS: number;
  meanLooks: number;
  missedShare: number;
}

function simulate(policy: RetryPolicy, completionsMs: readonly number[]): Outcome {
  const looks = lookTimesMs(policy);
  const delaysS: number[] = [];
  let lookCount = 0;
  let missed = 0;
  for (const readyAt of completionsMs) {
    const found = looks.findIndex((at) => at >= readyAt);
    if (found === -1) {
      missed++;
      lookCount += looks.length;
      continue;
    }
    lookCount += found + 1;
    delaysS.push((looks[found]! - readyAt) / 1000);
  }
  return {
    meanDelayS: delaysS.reduce((sum, d) => sum + d, 0) / delaysS.length,
    p95DelayS: percentile(delaysS, 95),
    meanLooks: lookCount / completionsMs.length,
    missedShare: missed / completionsMs.length,
  };
}

const bench: Bench = async () => {
  const random = seededRandom(20_260_101);
  const completions = Array.from({ length: VIDEOS }, () => EARLIEST_MS + random() * (LATEST_MS - EARLIEST_MS));
  const fixed = simulate({ ...SEED_POLICY, schedule: 'fixed' }, completions);
  const adaptive = simulate({ ...SEED_POLICY, schedule: 'adaptive' }, completions);
  const timing = doubaoTiming();
  const doubao = simulate(
    {
      firstAttemptDelayMs: timing.firstAttemptDelayS * 1000,
      retryIntervalMs: timing.retryIntervalS * 1000,
      maxAttempts: timing.maxAttempts!,
      schedule: 'fixed',
    },
    completions,
  );
  const s = (v: number) => `${v.toFixed(1)} s`;
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  const seed = (v: string) => `seed's fixed schedule: ${v}`;
  const label = `(${VIDEOS / 1000}k videos ready 3–15 min, adaptive)`;
  const doubaoLabel = `(${VIDEOS / 1000}k videos ready 3–15 min, doubao timing ${timing.firstAttemptDelayS} s + ${timing.retryIntervalS} s)`;
  // An account with 20 videos in flight: each is looked at once per interval (one list call each).
  const perMinute = (20 * 60) / timing.retryIntervalS;
  return [
    { name: `notification delay mean ${label}`, value: s(adaptive.meanDelayS), reference: seed(s(fixed.meanDelayS)) },
    { name: `notification delay p95 ${label}`, value: s(adaptive.p95DelayS), reference: seed(s(fixed.p95DelayS)) },
    {
      name: `browser looks per video ${label}`,
      value: adaptive.meanLooks.toFixed(2),
      reference: seed(fixed.meanLooks.toFixed(2)),
    },
    {
      name: `never found within MAX_ATTEMPTS ${label}`,
      value: pct(adaptive.missedShare),
      reference: seed(pct(fixed.missedShare)),
    },
    {
      name: `notification delay mean ${doubaoLabel}`,
      value: s(doubao.meanDelayS),
      reference: seed(s(fixed.meanDelayS)),
    },
    { name: `notification delay p95 ${doubaoLabel}`, value: s(doubao.p95DelayS), reference: seed(s(fixed.p95DelayS)) },
    {
      name: `list calls per video ${doubaoLabel}`,
      value: doubao.meanLooks.toFixed(2),
      reference: seed(`${fixed.meanLooks.toFixed(2)} browser page loads`),
    },
    {
      name: `never found within ${timing.maxAttempts} looks ${doubaoLabel}`,
      value: pct(doubao.missedShare),
      reference: seed(pct(fixed.missedShare)),
    },
    {
      name: 'look calls per account with 20 videos in flight (doubao timing)',
      value: `${perMinute.toFixed(0)} / min (${(perMinute / 60).toFixed(2)} / s)`,
      reference: `cap 120 / min (DOUBAO_MIN_SPACING_MS=500); seed: ${((20 * 60) / 180).toFixed(1)} page loads / min`,
    },
  ];
};

export default bench;
