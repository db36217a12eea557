/**
 * Fake-clock helpers: vitest fakes `setTimeout` and `Date` only, so real I/O (SQLite, files) still completes.
 * Fake timers fire only when virtual time moves, so `settle` moves it by 1 ms a round and lets pending I/O finish;
 * `advanceSeconds` accounts for those milliseconds so virtual time moves by exactly what was asked.
 */
import { vi } from 'vitest';

const realSetTimeout = globalThis.setTimeout;

export const START = new Date('2026-01-01T00:00:00Z').getTime();

export function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: START });
}

/**
 * Lets timers and I/O run until `done()` holds or `rounds` pass; returns the virtual milliseconds it used.
 * `realWaitMs` also waits real time each round, for file I/O on the thread pool to complete. `done` may read the
 * (asynchronous) store.
 */
export async function settle(
  done: () => boolean | Promise<boolean> = () => false,
  rounds = 100,
  realWaitMs = 0,
): Promise<number> {
  let used = 0;
  for (; used < rounds && !(await done()); used++) {
    await vi.advanceTimersByTimeAsync(1);
    await new Promise((resolve) => (realWaitMs ? realSetTimeout(resolve, realWaitMs) : setImmediate(resolve)));
  }
  return used;
}

/** Settles until `done()` holds; throws when it does not within `rounds`. */
export async function until(done: () => boolean | Promise<boolean>, rounds = 500): Promise<void> {
  await settle(done, rounds, 2);
  if (!(await done())) throw new Error(`condition not met after ${rounds} rounds: ${done}`);
}

/** Moves virtual time forward by exactly `seconds`, a second at a time, letting each second's work finish. */
export async function advanceSeconds(seconds: number): Promise<void> {
  for (let s = 0; s < seconds; s++) {
    const used = await settle(undefined, 3);
    await vi.advanceTimersByTimeAsync(1000 - used);
  }
  await settle(undefined, 3);
}

/**
 * Disposes `cores` while their steps may still wait on fake timers: keeps virtual time moving until they have
 * stopped, then goes back to real timers.
 */
export async function disposeUnderFakeClock(cores: { dispose(): Promise<void> }[]): Promise<void> {
  let stopped = false;
  const stopping = Promise.all(cores.map((core) => core.dispose())).finally(() => {
    stopped = true;
  });
  await settle(() => stopped, 5000, 1);
  await stopping;
  vi.useRealTimers();
}
