/**
 * Issue 17 on the async store: the admin overview's history figures (tasks per day, time to video, failing
 * deliveries) are read from a real SQLite store behind the async contract, one reading serving every visit for
 * 30 s. A reading that fails (a database that dropped its connection) must not be served for those 30 s: the next
 * visit reads again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { historyReader } from '../adapters/web/pages/overview.js';
import { SqliteTaskStoreAsync } from '../src/core/store/sqlite-async.js';
import { TaskStore } from '../src/core/store.js';
import { newTask } from './support/new-task.js';

const DAY = '2026-03-10';
let dir: string;
let store: SqliteTaskStoreAsync;

afterEach(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function storeWithOneTask(): Promise<SqliteTaskStoreAsync> {
  dir = mkdtempSync(join(tmpdir(), 'dvb-admin-history-'));
  store = new SqliteTaskStoreAsync(new TaskStore(join(dir, 'tasks.db'), () => Date.parse(`${DAY}T08:00:00Z`)));
  await store.insert(newTask('t1', { provider: 'local' }));
  return store;
}

/** The store's admin reads, with `tasksPerDay` failing the first `failures` times and every call counted. */
function flakyReads(reads: SqliteTaskStoreAsync, failures: number) {
  const calls = { tasksPerDay: 0 };
  return {
    calls,
    reads: {
      taskEvents: reads.taskEvents.bind(reads),
      timeToVideo: reads.timeToVideo.bind(reads),
      failingDeliveries: reads.failingDeliveries.bind(reads),
      liveTasksByUpstreamField: reads.liveTasksByUpstreamField.bind(reads),
      searchTasks: reads.searchTasks.bind(reads),
      countRunning: reads.countRunning.bind(reads),
      tasksPerDay: async (since: string) => {
        calls.tasksPerDay++;
        if (calls.tasksPerDay <= failures) throw new Error('connection terminated unexpectedly');
        return reads.tasksPerDay(since);
      },
    },
  };
}

describe('#17 admin overview history on the async store', () => {
  it('reads again on the next visit after a reading failed, instead of serving the failure for 30 s', async () => {
    const { reads, calls } = flakyReads(await storeWithOneTask(), 1);
    const history = historyReader(reads);
    await expect(history(DAY)).rejects.toThrow('connection terminated');
    const figures = await history(DAY);
    expect(calls.tasksPerDay).toBe(2);
    expect(figures.counts).toEqual([{ day: DAY, provider: 'local', total: 1, completed: 0, failed: 0, cancelled: 0 }]);
    expect(figures.failing).toEqual({ retrying: 0, givenUp: 0, recent: [] });
  });

  it('serves one reading to every visit within 30 s, the ones made while it is under way included', async () => {
    const { reads, calls } = flakyReads(await storeWithOneTask(), 0);
    const history = historyReader(reads);
    const [first, second] = await Promise.all([history(DAY), history(DAY)]);
    await store.insert(newTask('t2', { provider: 'local' }));
    const third = await history(DAY);
    expect(calls.tasksPerDay).toBe(1);
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(third.counts[0]?.total).toBe(1);
  });
});
