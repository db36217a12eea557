/**
 * The shapes of what the store answers the admin web page (issue 17): a task's history, tasks per day, time to
 * video per provider, and the page's task filters. The queries are in the "Admin page reads" block of store.ts (and store/postgres-admin-reads.ts).
 */
import type { Platform, TaskStatus } from './task.js';

/** One row of a task's history (see `recordTaskEvent`). */
export interface TaskEventRecord {
  event: string;
  generation: number;
  status: TaskStatus;
  attempts: number;
  progress: number | null;
  /** What the upstream said at that step: the error or note the task carried. */
  note: string | null;
  at: string;
}

/** A `task_events` row as either store reads it (same columns in SQLite and PostgreSQL). */
export function taskEventFromRow(r: Record<string, unknown>): TaskEventRecord {
  return {
    event: String(r.event),
    generation: Number(r.generation),
    status: r.status as TaskStatus,
    attempts: Number(r.attempts),
    progress: r.progress === null ? null : Number(r.progress),
    note: r.note === null ? null : String(r.note),
    at: String(r.at),
  };
}

/** Tasks created on one UTC day (`YYYY-MM-DD`) for one provider, by how they stand now. */
export interface DayCount {
  day: string;
  provider: string;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** Videos a provider made in a window, and how long they took from request to video (ms). */
export interface VideoTiming {
  provider: string;
  videos: number;
  medianMs: number;
  p95Ms: number;
}

/** The admin page's task filters. */
export interface TaskSearch {
  status?: TaskStatus;
  platform?: Platform;
  provider?: string;
  userId?: string;
  text?: string;
  limit: number;
  offset: number;
}
