/**
 * Keeps every task event as a row of the task's history (issue 17): the admin page shows it as the attempts
 * timeline (when, what the upstream said) and measures the time from request to video with it. A write that fails
 * (a full disk) is logged by the event bus and never stops the step that emitted the event.
 */
import type { TaskEventBus, TaskEventName } from './events.js';
import type { SerialWrites } from './serial-writes.js';
import type { TaskStoreAsync } from './store/contract.js';

const RECORDED = ['queued', 'started', 'progress', 'completed', 'failed', 'cancelled', 'delivered'] as const;

export function recordTaskHistory(events: TaskEventBus, store: TaskStoreAsync, writes: SerialWrites): void {
  for (const name of RECORDED satisfies readonly TaskEventName[]) {
    events.on(name, (task) => writes.add(() => store.recordTaskEvent(name, task, task.error)));
  }
}
