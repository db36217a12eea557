/**
 * Keeps one chat adapter (Telegram, Discord) starting on its own, so that a platform that is down, slow or refusing
 * never holds up or takes down the HTTP API or the other bot.
 *
 * `start()` returns at once; the adapter's start runs in the background with a time limit per try. A failed try is
 * logged as one line saying why (DNS, refused, 404…), the half-started adapter is released, and the next try
 * follows after a doubling delay capped at `maxDelayMs`. A permanent refusal (a bad token) turns the adapter off
 * with one error line instead of hammering the platform. An adapter that was up and reports it stopped working is
 * restarted the same way. `stop()` aborts a try under way, cancels a pending retry and stops the adapter, without
 * waiting long for a start that ignores its abort signal.
 * `status()` feeds `GET /readyz`.
 */
import type { Logger } from './logger.js';
import type { StartFailure } from './start-failure.js';

/** A chat adapter as the supervisor drives it. */
export interface ChatAdapter {
  /**
   * Connects and begins serving; resolves once users are served and results delivered. Honours `signal`. Calls
   * `onDown` if, after that, it stops working on its own (Telegram's polling refused with 409 or 401).
   */
  start(signal: AbortSignal, onDown: (error: unknown) => void): Promise<void>;
  /** Releases whatever a finished or half-finished start holds; safe to call repeatedly, and before a new start. */
  stop(): Promise<void>;
  /** The operator's sentence for an error its start threw, and whether retrying can help. */
  describeFailure(error: unknown): StartFailure;
}

export type AdapterState = 'starting' | 'up' | 'retrying' | 'off';

export interface AdapterStatus {
  state: AdapterState;
  /** When the adapter entered this state (ISO 8601); retries do not move it. */
  since: string;
  /** Failed starts so far. */
  failures: number;
  lastError?: string;
  /** When the next try begins, while retrying (ISO 8601). */
  nextTryAt?: string;
}

export interface SupervisorOptions {
  log: Logger;
  /** Wait before the 2nd try; doubled after each failure. @defaultValue 1000 */
  firstDelayMs?: number;
  /** The longest wait between two tries. */
  maxDelayMs: number;
  /** A try that has not succeeded by then is aborted and counted as failed. @defaultValue 60 000 */
  attemptTimeoutMs?: number;
  /** How long `stop()` waits for an aborted start to give up before stopping the adapter anyway. @defaultValue 3000 */
  stopGraceMs?: number;
  now?: () => number;
}

export class AdapterSupervisor {
  readonly name: string;
  readonly #adapter: ChatAdapter;
  readonly #log: Logger;
  readonly #firstDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #stopGraceMs: number;
  readonly #now: () => number;
  #status: AdapterStatus;
  #stopped = false;
  #attempt: { controller: AbortController; done: Promise<void> } | undefined;
  #wake: (() => void) | undefined;
  #stopWatching: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(name: string, adapter: ChatAdapter, options: SupervisorOptions) {
    this.name = name;
    this.#adapter = adapter;
    this.#log = options.log.child({ adapter: name });
    this.#firstDelayMs = options.firstDelayMs ?? 1000;
    this.#maxDelayMs = options.maxDelayMs;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 60_000;
    this.#stopGraceMs = options.stopGraceMs ?? 3000;
    this.#now = options.now ?? Date.now;
    this.#status = { state: 'starting', since: this.#iso(), failures: 0 };
  }

  /** Begins starting the adapter in the background; never throws, never waits. */
  start(): void {
    this.#loop ??= this.#run().catch((err: unknown) => {
      // #run catches every failure of the adapter; reaching this is a bug in the loop itself.
      this.#log.error({ err }, `${this.name}: the start loop failed; the adapter stays off`);
      this.#set({ state: 'off', failures: this.#status.failures, lastError: String(err) });
    });
  }

  status(): AdapterStatus {
    return { ...this.#status };
  }

  /** Aborts a start under way, cancels a pending retry, and stops the adapter. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.#stopWatching?.();
    const attempt = this.#attempt;
    if (attempt) {
      attempt.controller.abort(new Error('the service is stopping'));
      await Promise.race([attempt.done, delay(this.#stopGraceMs)]);
    }
    await this.#adapter.stop();
  }

  async #run(): Promise<void> {
    const firstWait = Math.min(this.#firstDelayMs, this.#maxDelayMs);
    let wait = firstWait;
    while (!this.#stopped) {
      const down = this.#watchForDown();
      let failure = await this.#try(down.report);
      let what = 'cannot start';
      if (!failure && !this.#stopped) {
        failure = await down.reported;
        what = 'stopped working';
        wait = firstWait;
      }
      if (!failure || this.#stopped) return;
      const failures = this.#status.failures + 1;
      const repeated = this.#status.lastError === failure.reason;
      await this.#adapter.stop().catch((err: unknown) => this.#log.debug({ err }, 'releasing a failed start failed'));
      if (failure.permanent) {
        this.#set({ state: 'off', failures, lastError: failure.reason });
        this.#log.error(`${this.name} stays off: ${failure.reason}`);
        return;
      }
      const nextTryAt = this.#now() + wait;
      this.#set({
        state: 'retrying',
        failures,
        lastError: failure.reason,
        nextTryAt: new Date(nextTryAt).toISOString(),
      });
      // One line per distinct reason; the same reason again only at debug, so an outage of hours stays readable.
      const line = `${this.name} ${what}: ${failure.reason}; retrying in ${formatDelay(wait)}`;
      if (repeated) this.#log.debug({ failures }, line);
      else this.#log.warn({ failures }, line);
      await this.#sleep(wait);
      wait = Math.min(wait * 2, this.#maxDelayMs);
    }
  }

  /** One start; resolves with why it failed, or undefined once the adapter is up (or the service is stopping). */
  async #try(onDown: (error: unknown) => void): Promise<StartFailure | undefined> {
    const controller = new AbortController();
    const timeout = new Error(`no answer within ${formatDelay(this.#attemptTimeoutMs)}`);
    const timer = setTimeout(() => controller.abort(timeout), this.#attemptTimeoutMs);
    const done = this.#adapter.start(controller.signal, onDown);
    this.#attempt = { controller, done: done.then(noop, noop) };
    try {
      await done;
      if (this.#stopped) return undefined;
      const { failures } = this.#status;
      this.#set({ state: 'up', failures });
      if (failures > 0) this.#log.info({ failures }, `${this.name} is up after ${failures} failed tries`);
      return undefined;
    } catch (error) {
      if (this.#stopped) return undefined;
      if (controller.signal.reason === timeout) return { reason: timeout.message, permanent: false, expected: true };
      return this.#describe(error);
    } finally {
      clearTimeout(timer);
      this.#attempt = undefined;
    }
  }

  /** `reported` resolves with why the adapter stopped working once up, or with undefined when the service stops. */
  #watchForDown(): { report: (error: unknown) => void; reported: Promise<StartFailure | undefined> } {
    let settle: (failure: StartFailure | undefined) => void = noop;
    const reported = new Promise<StartFailure | undefined>((resolve) => {
      settle = resolve;
    });
    this.#stopWatching = () => settle(undefined);
    const report = (error: unknown) => {
      if (this.#status.state === 'up' && !this.#stopped) settle(this.#describe(error));
    };
    return { report, reported };
  }

  #describe(error: unknown): StartFailure {
    const failure = this.#adapter.describeFailure(error);
    if (!failure.expected) this.#log.error({ err: error }, `${this.name}: unexpected error`);
    return failure;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(finish, ms);
      this.#wake = finish;
      function finish() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  #set(status: { state: AdapterState; failures: number; lastError?: string; nextTryAt?: string }): void {
    this.#status = {
      state: status.state,
      since: status.state === this.#status.state ? this.#status.since : this.#iso(),
      failures: status.failures,
      ...(status.lastError !== undefined && { lastError: status.lastError }),
      ...(status.nextTryAt !== undefined && { nextTryAt: status.nextTryAt }),
    };
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

function noop(): void {}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function formatDelay(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}
