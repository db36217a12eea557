/**
 * The limits an upstream sets on us, as one small interface with two implementations: `InProcessLimiter` (one
 * process, what bottleneck's per-key limiters do today: at most `maxConcurrent` holders of a key at once, and starts
 * at least `minSpacingMs` apart) and `PostgresLimiter` (src/core/store/postgres-limiter.ts: the same limits held by
 * every process sharing one PostgreSQL database). A key names what is limited, e.g. `doubao:<session id>`.
 */

export interface LimitRules {
  /** Holders of the key at once (≥ 1). */
  maxConcurrent: number;
  /** Least milliseconds between two starts of the key (0: no spacing). */
  minSpacingMs: number;
}

/** A held slot of a key; `release` is idempotent. */
export interface LimiterSlot {
  release(): Promise<void>;
}

export interface UpstreamLimiter {
  /**
   * Waits until the key has a free slot and its spacing allows a start, then holds a slot. Rejects when `signal`
   * aborts first (nothing is held then).
   */
  acquire(key: string, rules: LimitRules, signal?: AbortSignal): Promise<LimiterSlot>;
  /** Stops: pending acquisitions reject, held slots are let go. */
  close(): Promise<void>;
}

/** Runs `work` holding a slot of `key`, and lets the slot go however `work` ends. */
export async function limited<T>(
  limiter: UpstreamLimiter,
  key: string,
  rules: LimitRules,
  work: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const slot = await limiter.acquire(key, rules, signal);
  try {
    return await work();
  } finally {
    await slot.release();
  }
}

/** Throws when the rules cannot be met by anyone (a zero concurrency would wait forever). */
export function checkRules(rules: LimitRules): void {
  if (!Number.isInteger(rules.maxConcurrent) || rules.maxConcurrent < 1) {
    throw new RangeError(`maxConcurrent must be an integer ≥ 1, got ${rules.maxConcurrent}`);
  }
  if (!Number.isFinite(rules.minSpacingMs) || rules.minSpacingMs < 0) {
    throw new RangeError(`minSpacingMs must be ≥ 0, got ${rules.minSpacingMs}`);
  }
}

interface Waiter {
  rules: LimitRules;
  grant: (slot: LimiterSlot) => void;
  fail: (error: unknown) => void;
}

interface KeyState {
  held: number;
  nextStartAt: number;
  queue: Waiter[];
  timer?: NodeJS.Timeout;
}

/** One process's limiter: first come, first served per key, like a bottleneck Group with maxConcurrent and minTime. */
export class InProcessLimiter implements UpstreamLimiter {
  readonly #keys = new Map<string, KeyState>();
  readonly #now: () => number;
  #closed = false;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  acquire(key: string, rules: LimitRules, signal?: AbortSignal): Promise<LimiterSlot> {
    try {
      checkRules(rules);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(new Error('the limiter is closed'));
    signal?.throwIfAborted();
    const state = this.#state(key);
    return new Promise<LimiterSlot>((resolve, reject) => {
      const onAbort = () => {
        const at = state.queue.indexOf(waiter);
        if (at >= 0) state.queue.splice(at, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        rules,
        grant: (slot) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(slot);
        },
        fail: reject,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      state.queue.push(waiter);
      this.#pump(key, state);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const state of this.#keys.values()) {
      clearTimeout(state.timer);
      for (const waiter of state.queue.splice(0)) waiter.fail(new Error('the limiter is closed'));
    }
    this.#keys.clear();
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (!state) {
      state = { held: 0, nextStartAt: 0, queue: [] };
      this.#keys.set(key, state);
    }
    return state;
  }

  /** Grants the head of the queue when a slot is free and its spacing has passed; otherwise waits for either. */
  #pump(key: string, state: KeyState): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    const head = state.queue[0];
    if (!head) {
      if (state.held === 0 && state.nextStartAt <= this.#now()) this.#keys.delete(key);
      return;
    }
    if (state.held >= head.rules.maxConcurrent) return; // a release pumps again
    const wait = state.nextStartAt - this.#now();
    if (wait > 0) {
      state.timer = setTimeout(() => this.#pump(key, state), wait);
      return;
    }
    state.queue.shift();
    state.held++;
    state.nextStartAt = this.#now() + head.rules.minSpacingMs;
    let released = false;
    head.grant({
      release: async () => {
        if (released) return;
        released = true;
        state.held--;
        this.#pump(key, state);
      },
    });
    this.#pump(key, state);
  }
}
