/**
 * Notification delay in virtual time: no timers, no I/O. 10 000 videos whose completion times are drawn (seeded)
 * uniformly from 3–15 minutes after their start are looked at on the seed's fixed schedule and on
 * POLL_SCHEDULE=adaptive, both with the seed's timings (180 s, 180 s, 5 attempts) and the core's own pure
 * `lookTimesMs`. A video is found at the first look at or after its completion (a look is taken as instant).
 * Measures the wait between the video being ready and the look that finds it, the looks spent per video, and the
 * share never found within MAX_ATTEMPTS.
 */
import { lookTimesMs, type PollSchedule, type RetryPolicy } from '../src/core/task.js';
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

function simulate(schedule: PollSchedule, completionsMs: readonly number[]): Outcome {
  const looks = lookTimesMs({ ...SEED_POLICY, schedule });
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
  const fixed = simulate('fixed', completions);
  const adaptive = simulate('adaptive', completions);
  const s = (v: number) => `${v.toFixed(1)} s`;
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  const seed = (v: string) => `seed's fixed schedule: ${v}`;
  const label = `(${VIDEOS / 1000}k videos ready 3–15 min, adaptive)`;
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
  ];
};

export default bench;
