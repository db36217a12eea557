/**
 * The typed events of the task lifecycle. The service and the scheduler emit them; adapters listen.
 * Every task listener receives the task as stored right after the change.
 */
import { EventEmitter } from 'node:events';
import type { ProviderIncident } from '../providers/provider.js';
import type { Task } from './task.js';

export interface TaskEvents {
  /** A task was accepted and stored (`pending`). */
  queued: (task: Task) => void;
  /** The upstream job started; the first look is at `task.nextAttemptAt`. */
  started: (task: Task) => void;
  /** A look happened and the video is not ready yet (`attempts` of `maxAttempts`), or a transient error was met. */
  progress: (task: Task) => void;
  /** The video is ready and re-hosted (`videoFile`). */
  completed: (task: Task) => void;
  /** The task ended without a video; `error` says why in plain words. */
  failed: (task: Task) => void;
  /** The task was cancelled by its owner or an admin. */
  cancelled: (task: Task) => void;
  /** The result reached the user on the task's platform (the outbox's delivery resolved). */
  delivered: (task: Task) => void;
  /** The provider reported something about its upstream account that operators must hear of. */
  incident: (incident: ProviderIncident) => void;
}

export type TaskEventName = keyof TaskEvents;

/** A node EventEmitter whose `on`/`off`/`emit` are typed by TaskEvents. Listener errors never reach emitters. */
export class TaskEventBus {
  readonly #emitter = new EventEmitter({ captureRejections: true });
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
    this.#emitter.setMaxListeners(50);
    this.#emitter.on('error', onListenerError);
  }

  on<E extends TaskEventName>(event: E, listener: TaskEvents[E]): void {
    this.#emitter.on(event, listener);
  }

  off<E extends TaskEventName>(event: E, listener: TaskEvents[E]): void {
    this.#emitter.off(event, listener);
  }

  emit<E extends TaskEventName>(event: E, ...args: Parameters<TaskEvents[E]>): void {
    for (const listener of this.#emitter.listeners(event)) {
      try {
        const result = (listener as (...a: Parameters<TaskEvents[E]>) => unknown)(...args);
        if (result instanceof Promise) result.catch(this.#onListenerError);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}
