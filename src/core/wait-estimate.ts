/**
 * Honest waits: how many tasks are ahead of one, and when its video may be ready, from what the provider really
 * took lately — the median start-to-video time of its last completions (kept in the store's `video_times`), never
 * a constant. Without history there is no estimate (`etaMs: null`, shown as "estimating…").
 *
 * The model: a task waits for the tasks ahead of it to leave the provider's `slots` (its `maxRunning`; unlimited
 * when it has none), one median per round, then takes one median itself; a started task has only its own median
 * left, less the time it has run. The pure `estimateWaitMs` is tested with a fake clock; `recordVideoTimes` keeps
 * the history from the task events.
 */
import type { TaskEventBus } from './events.js';
import type { SerialWrites } from './serial-writes.js';
import type { TaskStoreAsync } from './store/contract.js';
import type { Task } from './task.js';

/** How many recent completions the median is taken over. */
export const RECENT_COMPLETIONS = 20;

/** A task's place in line and its estimated time to video. */
export interface WaitInfo {
  /** Unfinished tasks of the same provider created before this one (0 = next in line, or running). */
  ahead: number;
  /** Milliseconds until the video is likely ready; null while there is no history to estimate from. */
  etaMs: number | null;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Milliseconds until a task's video is likely ready, or null without history.
 * @param recentMs start-to-video times of the provider's recent completions
 * @param ahead unfinished tasks before this one
 * @param slots upstream jobs the provider runs at once (Infinity when unlimited)
 * @param startedAt when this task's own upstream job started, if it has
 */
export function estimateWaitMs(input: {
  recentMs: readonly number[];
  ahead: number;
  slots: number;
  startedAt?: number;
  now: number;
}): number | null {
  const typical = median(input.recentMs.filter((ms) => Number.isFinite(ms) && ms >= 0));
  if (typical === undefined) return null;
  if (input.startedAt !== undefined) return Math.max(0, typical - (input.now - input.startedAt));
  const slots = Number.isFinite(input.slots) && input.slots >= 1 ? Math.floor(input.slots) : Number.POSITIVE_INFINITY;
  const roundsBefore = Number.isFinite(slots) ? Math.floor(input.ahead / slots) : 0;
  return typical * (roundsBefore + 1);
}

/** Keeps `video_times` from the events: a start stamps the task, a completion closes it, a failure forgets it. */
export function recordVideoTimes(
  events: TaskEventBus,
  store: TaskStoreAsync,
  writes: SerialWrites,
  now: () => number,
): void {
  events.on('started', (task: Task) => {
    const at = now();
    writes.add(() => store.videoStarted(task.id, task.provider, at));
  });
  events.on('completed', (task: Task) => {
    const at = now();
    writes.add(() => store.videoDone(task.id, task.provider, at, Date.parse(task.createdAt) || at));
  });
  const forget = (task: Task) => writes.add(() => store.forgetVideoTime(task.id));
  events.on('failed', forget);
  events.on('cancelled', forget);
}
