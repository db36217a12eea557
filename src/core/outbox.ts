/**
 * The Outbox tells each asker the final result of their task exactly once, also across restarts.
 *
 * An adapter registers one delivery function for its platform. The outbox calls it for every task of that
 * platform that reaches a final state, and on registration for every final task not yet delivered (those
 * that finished while the process was down, or whose delivery was cut short). A delivery that resolves is
 * marked in the store; one that throws is tried again later, a few times, then given up and logged.
 * Delivery is at-least-once: a duplicate is possible only if the process dies during the send itself.
 */
import type { Logger } from 'pino';
import type { TaskEventBus } from './events.js';
import type { TaskStore } from './store.js';
import type { Platform, Task } from './task.js';

export type Deliver = (task: Task) => Promise<void>;

export interface OutboxOptions {
  /** Waits before the 2nd, 3rd… try of a delivery that threw. @defaultValue [5 s, 30 s, 120 s] */
  retryDelaysMs?: readonly number[];
}

export class Outbox {
  readonly #store: TaskStore;
  readonly #events: TaskEventBus;
  readonly #log: Logger;
  readonly #retryDelaysMs: readonly number[];
  readonly #inFlight = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #sends = new Set<Promise<void>>();

  constructor(deps: { store: TaskStore; events: TaskEventBus; log: Logger }, options: OutboxOptions = {}) {
    this.#store = deps.store;
    this.#events = deps.events;
    this.#log = deps.log;
    this.#retryDelaysMs = options.retryDelaysMs ?? [5_000, 30_000, 120_000];
  }

  /** Starts delivering `platform`'s results with `deliver`; returns the function that stops it. */
  register(platform: Platform, deliver: Deliver): () => Promise<void> {
    const onFinal = (task: Task) => {
      if (task.origin.platform === platform) this.#send(task, deliver, 0);
    };
    for (const event of ['completed', 'failed', 'cancelled'] as const) this.#events.on(event, onFinal);
    for (const task of this.#store.undelivered(platform)) this.#send(task, deliver, 0);
    return async () => {
      for (const event of ['completed', 'failed', 'cancelled'] as const) this.#events.off(event, onFinal);
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      await Promise.allSettled([...this.#sends]);
    };
  }

  #send(task: Task, deliver: Deliver, tries: number): void {
    if (this.#inFlight.has(task.id)) return;
    this.#inFlight.add(task.id);
    const send = (async () => {
      const current = this.#store.get(task.id);
      if (!current || current.deliveredAt) return;
      try {
        await deliver(current);
        this.#store.markDelivered(task.id);
        this.#events.emit('delivered', current);
      } catch (error) {
        const delay = this.#retryDelaysMs[tries];
        if (delay === undefined) {
          this.#log.error({ err: error, taskId: task.id }, 'giving up delivering the result; the task keeps its link');
          this.#store.markDelivered(task.id);
          return;
        }
        this.#log.warn({ err: error, taskId: task.id, retryInMs: delay }, 'delivery failed; will try again');
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          this.#send(task, deliver, tries + 1);
        }, delay);
        this.#timers.add(timer);
      }
    })().finally(() => {
      this.#inFlight.delete(task.id);
      this.#sends.delete(send);
    });
    this.#sends.add(send);
  }
}
