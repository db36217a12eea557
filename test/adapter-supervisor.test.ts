/**
 * The supervisor that starts each chat adapter on its own (issue 12, case 16): capped doubling backoff, one log line
 * per distinct reason, a refused token stays off, a hung start is timed out, and stop() never waits on a start
 * that is retrying or hung. Timers are faked, so the delays are asserted exactly.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdapterSupervisor, type ChatAdapter } from '../src/adapter-supervisor.js';
import { createLogger } from '../src/logger.js';
import { describeStartFailure } from '../src/start-failure.js';
import { START, settle, useFakeClock } from './support/fake-clock.js';

type Outcome = 'ok' | 'hang' | 'hang-ignoring-abort' | Error;

/** A chat adapter whose starts play `outcomes` in order (the last one repeats), recording when each began. */
class ScriptedAdapter implements ChatAdapter {
  readonly startedAt: number[] = [];
  readonly signals: AbortSignal[] = [];
  /** The `onDown` of the latest start: how the adapter says it stopped working on its own. */
  onDown: (error: unknown) => void = () => {};
  stops = 0;
  constructor(private readonly outcomes: Outcome[]) {}

  async start(signal: AbortSignal, onDown: (error: unknown) => void): Promise<void> {
    this.startedAt.push(Date.now() - START);
    this.signals.push(signal);
    this.onDown = onDown;
    const outcome = this.outcomes[Math.min(this.startedAt.length - 1, this.outcomes.length - 1)]!;
    if (outcome === 'ok') return;
    if (outcome === 'hang') {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    }
    if (outcome === 'hang-ignoring-abort') return new Promise(() => {});
    throw outcome;
  }

  async stop(): Promise<void> {
    this.stops++;
  }

  describeFailure(error: unknown) {
    return describeStartFailure(error, { host: 'chat.example', tokenVariable: 'CHAT_TOKEN', token: 'tok' });
  }
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
const unauthorized = () => Object.assign(new Error("Call to 'getMe' failed! (401: Unauthorized)"), { error_code: 401 });

let logged: { level: number; msg: string; err?: unknown }[];
function supervise(adapter: ChatAdapter, options: { maxDelayMs?: number; attemptTimeoutMs?: number } = {}) {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logged.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return new AdapterSupervisor('chat', adapter, {
    log: createLogger('debug', sink),
    firstDelayMs: 1000,
    maxDelayMs: options.maxDelayMs ?? 8000,
    attemptTimeoutMs: options.attemptTimeoutMs ?? 60_000,
    stopGraceMs: 500,
  });
}

beforeEach(() => {
  logged = [];
  useFakeClock();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('16. a chat adapter starts on its own (supervisor)', () => {
  it('retries a failing start after 1, 2, 4, 8, 8… s and reports retrying with the reason, then up', async () => {
    const adapter = new ScriptedAdapter([refused(), refused(), refused(), refused(), refused(), 'ok']);
    const supervisor = supervise(adapter);
    expect(supervisor.status()).toMatchObject({ state: 'starting', failures: 0 });
    supervisor.start();
    await settle(() => supervisor.status().state === 'retrying');
    expect(supervisor.status()).toMatchObject({
      state: 'retrying',
      failures: 1,
      lastError: 'chat.example refused the connection (ECONNREFUSED)',
    });
    const since = supervisor.status().since;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(adapter.startedAt).toEqual([0, 1000, 3000, 7000, 15_000, 23_000]);
    expect(supervisor.status()).toMatchObject({ state: 'up', failures: 5 });
    expect(supervisor.status().lastError).toBeUndefined();
    expect(since).toBe(new Date(START).toISOString());
    // Each failed try released what it held before the next one.
    expect(adapter.stops).toBe(5);
  });

  it('logs one warning per distinct reason (no stack), repeats only at debug, and one line when up', async () => {
    const adapter = new ScriptedAdapter([refused(), refused(), unauthorizedAs404(), 'ok']);
    supervise(adapter).start();
    await vi.advanceTimersByTimeAsync(10_000);
    const warnings = logged.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warnings).toEqual([
      'chat cannot start: chat.example refused the connection (ECONNREFUSED); retrying in 1 s',
      'chat cannot start: chat.example answered 404 Not Found to getMe; retrying in 4 s',
    ]);
    expect(logged.filter((l) => l.level === 20 && /refused the connection/.test(l.msg))).toHaveLength(1);
    expect(logged.every((l) => l.err === undefined)).toBe(true);
    expect(logged.filter((l) => l.level === 30).map((l) => l.msg)).toEqual(['chat is up after 3 failed tries']);
  });

  it('a refused token (401) turns the adapter off with one error line and no further tries', async () => {
    const adapter = new ScriptedAdapter([unauthorized()]);
    const supervisor = supervise(adapter);
    supervisor.start();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(adapter.startedAt).toEqual([0]);
    expect(supervisor.status()).toMatchObject({
      state: 'off',
      failures: 1,
      lastError: 'the token was refused (401 Unauthorized): check CHAT_TOKEN',
    });
    expect(logged.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([
      'chat stays off: the token was refused (401 Unauthorized): check CHAT_TOKEN',
    ]);
  });

  it('a start that does not finish in time is aborted and counted as a failure', async () => {
    const adapter = new ScriptedAdapter(['hang', 'ok']);
    const supervisor = supervise(adapter, { attemptTimeoutMs: 5000 });
    supervisor.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(adapter.signals[0]!.aborted).toBe(true);
    expect(supervisor.status()).toMatchObject({ state: 'retrying', lastError: 'no answer within 5 s' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(supervisor.status().state).toBe('up');
  });

  it('stop() during the wait before a retry returns at once and no try follows', async () => {
    const adapter = new ScriptedAdapter([refused()]);
    const supervisor = supervise(adapter, { maxDelayMs: 300_000 });
    supervisor.start();
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 10);
    expect(adapter.startedAt).toHaveLength(4);
    await supervisor.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(adapter.startedAt).toHaveLength(4);
  });

  it('stop() aborts a start under way, and does not wait long for one that ignores the abort', async () => {
    const hung = new ScriptedAdapter(['hang']);
    const first = supervise(hung);
    first.start();
    await settle(() => hung.startedAt.length === 1);
    await first.stop();
    expect(hung.signals[0]!.aborted).toBe(true);
    expect(hung.stops).toBe(1);

    const deaf = new ScriptedAdapter(['hang-ignoring-abort']);
    const second = supervise(deaf);
    second.start();
    await settle(() => deaf.startedAt.length === 1);
    const stopped = second.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(500);
    expect(done).toBe(true);
    expect(deaf.stops).toBe(1);
  });

  it('an unexpected error is logged with its stack (a bug), and retried', async () => {
    const adapter = new ScriptedAdapter([new TypeError('cannot read properties of undefined'), 'ok']);
    const supervisor = supervise(adapter);
    supervisor.start();
    await vi.advanceTimersByTimeAsync(1000);
    const error = logged.find((l) => l.level === 50);
    expect(error?.msg).toBe('chat: unexpected error');
    expect(String((error?.err as { stack?: string } | undefined)?.stack)).toContain('TypeError');
    expect(supervisor.status().state).toBe('up');
  });
});

describe('16. a chat adapter that stops working after it was up', () => {
  it('is restarted with the backoff starting over, with one line saying why', async () => {
    const adapter = new ScriptedAdapter([refused(), 'ok']);
    const supervisor = supervise(adapter);
    supervisor.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(supervisor.status().state).toBe('up');

    const conflict = Object.assign(new Error("Call to 'getUpdates' failed! (409: Conflict)"), {
      error_code: 409,
      method: 'getUpdates',
    });
    adapter.onDown(conflict);
    await settle(() => supervisor.status().state === 'retrying');
    expect(adapter.stops).toBe(2);
    expect(logged.filter((l) => l.level === 40).at(-1)?.msg).toBe(
      'chat stopped working: chat.example answered 409 Conflict to getUpdates (another process is polling with this ' +
        'token, or a webhook is set); retrying in 1 s',
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(adapter.startedAt).toEqual([0, 1000, 2000]);
    expect(supervisor.status()).toMatchObject({ state: 'up', failures: 2 });
  });

  it('a revoked token (401) while polling turns it off; a report after stop() is ignored', async () => {
    const adapter = new ScriptedAdapter(['ok']);
    const supervisor = supervise(adapter);
    supervisor.start();
    await settle(() => supervisor.status().state === 'up');
    adapter.onDown(unauthorized());
    await settle(() => supervisor.status().state === 'off');
    expect(supervisor.status().lastError).toBe('the token was refused (401 Unauthorized): check CHAT_TOKEN');

    const other = new ScriptedAdapter(['ok']);
    const stopped = supervise(other);
    stopped.start();
    await settle(() => stopped.status().state === 'up');
    await stopped.stop();
    other.onDown(refused());
    await vi.advanceTimersByTimeAsync(60_000);
    expect(other.startedAt).toHaveLength(1);
    expect(other.stops).toBe(1);
  });
});

function unauthorizedAs404() {
  return Object.assign(new Error("Call to 'getMe' failed! (404: Not Found)"), { error_code: 404, method: 'getMe' });
}
