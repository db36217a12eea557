/**
 * What the store conformance cases share (test/store-conformance.test.ts runs them against every store): the fake
 * clock every store of a test reads, a task factory, how a case reaches a store kind (`Fixture`), and small waits.
 */
import type { TaskStoreAsync } from '../../src/core/store/contract.js';
import type { NewTask } from '../../src/core/store.js';
import type { Origin } from '../../src/core/task.js';
import { newTask } from './new-task.js';

export const START = 1_000_000;
/** The epoch-ms clock of every store a case opens; cases move it forward. */
export const clock = { at: START };
export const now = () => clock.at;
/** How long a PostgreSQL owner may stay silent before it is taken for gone (SQLite: any other owner is gone). */
export const OWNER_TIMEOUT_MS = 30_000;

export const http: Origin = { platform: 'http', userId: 'u' };
export const telegram: Origin = { platform: 'telegram', userId: 't1', chatId: '42', reply: { messageId: 7 } };

export function task(id: string, fields: Partial<NewTask> = {}): NewTask {
  return newTask(id, {
    conversationId: `c-${id}`,
    messageId: `m-${id}`,
    nextAttemptAt: clock.at,
    origin: http,
    ...fields,
  });
}

/** How a test reaches a store kind: stores of one database, a second process, and a process's death. */
export interface Fixture {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A fresh, empty database for the next test. */
  fresh(): Promise<void>;
  /** A store (a process) on this test's database. */
  open(): Promise<TaskStoreAsync>;
  /** A second claimer beside `store`: another process on PostgreSQL, the same process on SQLite. */
  peer(store: TaskStoreAsync): Promise<TaskStoreAsync>;
  /** The process of `store` dies: it writes nothing more and its heartbeat stops. */
  kill(store: TaskStoreAsync): Promise<void>;
}

export interface Case {
  name: string;
  run(f: Fixture): Promise<void>;
}

export const ids = (tasks: { id: string }[]) => tasks.map((t) => t.id);

export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
