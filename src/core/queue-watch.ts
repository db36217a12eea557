/**
 * Keeps the bots' status messages' queue positions current without flooding the chat APIs: when the line moves
 * (a task is queued, starts or ends) it looks again at most once per `intervalMs`, and reports only the waiting
 * tasks (upstream job not started) of one platform whose number of tasks ahead changed since last reported. A
 * position change is worth an edit; a clock tick is not, so the ETA alone never causes one. Only the first
 * `limit` waiting tasks of the platform are followed (those further back move too little to be worth an edit).
 */
import type { GenerationService } from './service.js';
import type { Platform, Task } from './task.js';
import type { WaitInfo } from './wait-estimate.js';

const LINE_EVENTS = ['queued', 'started', 'completed', 'failed', 'cancelled'] as const;

export class QueueWatch {
  readonly #service: GenerationService;
  readonly #platform: Platform;
  readonly #onMove: (task: Task, wait: WaitInfo) => void;
  readonly #intervalMs: number;
  readonly #limit: number;
  readonly #shownOf: (task: Task) => number | undefined;
  /** Tasks ahead as last shown, per task id. */
  readonly #shown = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #lastLookAt = 0;
  /** A look is reading the line; a move of the line meanwhile asks for one more look after it. */
  #looking = false;
  #lookAgain = false;
  #stopped = false;
  readonly #onLineEvent = () => this.#schedule();

  constructor(
    service: GenerationService,
    platform: Platform,
    onMove: (task: Task, wait: WaitInfo) => void,
    options: {
      intervalMs: number;
      limit?: number;
      /**
       * The place the task's status message showed when it was posted (stored with the task, so it holds across
       * restarts); undefined while no message was posted, and such a task is not reported.
       */
      shownOf?: (task: Task) => number | undefined;
    },
  ) {
    this.#service = service;
    this.#platform = platform;
    this.#onMove = onMove;
    this.#intervalMs = options.intervalMs;
    this.#limit = options.limit ?? 100;
    this.#shownOf = options.shownOf ?? (() => undefined);
  }

  start(): void {
    this.#stopped = false;
    for (const event of LINE_EVENTS) this.#service.on(event, this.#onLineEvent);
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    for (const event of LINE_EVENTS) this.#service.off(event, this.#onLineEvent);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#shown.clear();
  }

  #schedule(): void {
    if (this.#looking) this.#lookAgain = true;
    if (this.#timer || this.#looking || this.#stopped) return;
    const wait = Math.max(0, this.#lastLookAt + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => void this.#look(), wait);
    this.#timer.unref();
  }

  async #look(): Promise<void> {
    this.#timer = undefined;
    this.#lastLookAt = Date.now();
    this.#looking = true;
    try {
      this.#report(await this.#service.waitingLine(this.#platform, this.#limit));
    } catch {
      // the store is closing or busy; the next move of the line looks again
    } finally {
      this.#looking = false;
    }
    if (!this.#lookAgain) return;
    this.#lookAgain = false;
    this.#schedule();
  }

  #report(line: Awaited<ReturnType<GenerationService['waitingLine']>>): void {
    if (this.#stopped) return;
    const waiting = new Set<string>();
    for (const { task, wait } of line) {
      if (task.upstream) continue;
      waiting.add(task.id);
      const shown = this.#shown.get(task.id) ?? this.#shownOf(task);
      // Nothing shown yet: the adapter is still posting the status message, which will show the place itself.
      if (shown === undefined || shown === wait.ahead) continue;
      this.#shown.set(task.id, wait.ahead);
      this.#onMove(task, wait);
    }
    for (const id of this.#shown.keys()) if (!waiting.has(id)) this.#shown.delete(id);
  }
}
