/**
 * Issue 17, the store's reads for the admin page, on a store with a controlled clock: tasks per day, the median and
 * p95 time to video per provider (nearest rank, computed in SQL; a retried run counts from its retry), failing
 * deliveries, live tasks per upstream session, and the task search (a prompt's `%` and `_` are literal).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type NewTask, TaskStore } from '../src/core/store.js';
import { newTask } from './support/new-task.js';

const DAY = '2026-03-10';
let clock = Date.parse(`${DAY}T08:00:00Z`);
const MIN = 60_000;
let dir: string;
let store: TaskStore;

afterEach(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): TaskStore {
  dir = mkdtempSync(join(tmpdir(), 'dvb-admin-reads-'));
  store = new TaskStore(join(dir, 'tasks.db'), () => clock);
  return store;
}

function task(id: string, over: Partial<NewTask> = {}): NewTask {
  return newTask(id, {
    provider: 'local',
    nextAttemptAt: clock,
    origin: { platform: 'telegram', userId: 'u1', chatId: 'c1' },
    ...over,
  });
}

/** A task queued now that completes `minutes` later (the clock is moved back afterwards). */
function videoAfter(id: string, minutes: number, provider = 'local'): void {
  const start = clock;
  const queued = store.insert(task(id, { provider }));
  store.recordTaskEvent('queued', queued, null);
  clock += minutes * MIN;
  const done = store.update(id, { status: 'completed', videoFile: `${id}.mp4`, nextAttemptAt: null });
  store.recordTaskEvent('completed', done, null);
  clock = start;
}

describe('#17 admin reads in the store', () => {
  it('gives the median and p95 time to video per provider by nearest rank', () => {
    open();
    for (let m = 1; m <= 20; m++) videoAfter(`l${m}`, m);
    videoAfter('a1', 2, 'ark');
    videoAfter('a2', 4, 'ark');
    const timing = store.timeToVideo(`${DAY}T00:00:00Z`);
    expect(timing).toEqual([
      { provider: 'ark', videos: 2, medianMs: 2 * MIN, p95Ms: 4 * MIN },
      { provider: 'local', videos: 20, medianMs: 10 * MIN, p95Ms: 19 * MIN },
    ]);
    expect(store.timeToVideo('2026-03-11T00:00:00Z')).toEqual([]);
  });

  it('counts a retried run from its retry, not from the task creation', () => {
    open();
    const first = store.insert(task('r'));
    store.recordTaskEvent('queued', first, null);
    clock += 60 * MIN;
    const failed = store.update('r', { status: 'failed', error: 'upstream said no', nextAttemptAt: null });
    store.recordTaskEvent('failed', failed, failed.error);
    const retried = store.update('r', { status: 'pending', nextAttemptAt: clock }, { status: 'failed' });
    store.recordTaskEvent('queued', retried, null);
    clock += 3 * MIN;
    store.recordTaskEvent('completed', store.update('r', { status: 'completed', nextAttemptAt: null }), null);
    expect(store.timeToVideo(`${DAY}T00:00:00Z`)).toEqual([
      { provider: 'local', videos: 1, medianMs: 3 * MIN, p95Ms: 3 * MIN },
    ]);
    expect(store.taskEvents('r').map((e) => [e.event, e.generation, e.note])).toEqual([
      ['queued', 0, null],
      ['failed', 0, 'upstream said no'],
      ['queued', 1, null],
      ['completed', 1, null],
    ]);
  });

  it('counts tasks per day and provider by how they stand', () => {
    open();
    videoAfter('a', 1);
    store.insert(task('b'));
    store.update('b', { status: 'failed', nextAttemptAt: null });
    store.insert(task('c', { provider: 'ark' }));
    clock += 24 * 60 * MIN;
    store.insert(task('d'));
    expect(store.tasksPerDay(`${DAY}T00:00:00Z`)).toEqual([
      { day: DAY, provider: 'ark', total: 1, completed: 0, failed: 0, cancelled: 0 },
      { day: DAY, provider: 'local', total: 2, completed: 1, failed: 1, cancelled: 0 },
      { day: '2026-03-11', provider: 'local', total: 1, completed: 0, failed: 0, cancelled: 0 },
    ]);
  });

  it('lists deliveries that failed and are retried or were given up', () => {
    open();
    for (const id of ['x', 'y', 'z']) {
      store.insert(task(id));
      store.update(id, { status: 'completed', nextAttemptAt: null });
    }
    const [x, y] = store.claimDeliveries('telegram', ['result'], 60_000, 10);
    store.deliveryFailed(x!.id, x!.claim, 'telegram is down', clock + MIN);
    store.deliveryGivenUp(y!.id, y!.claim, 'the bot was blocked');
    const failing = store.failingDeliveries(`${DAY}T00:00:00Z`, 10);
    expect(failing).toMatchObject({ retrying: 1, givenUp: 1 });
    expect(failing.recent.map((d) => d.lastError ?? d.givenUpReason)).toEqual([
      'the bot was blocked',
      'telegram is down',
    ]);
  });

  it('counts live tasks per upstream session and searches prompts literally', () => {
    open();
    store.insert(task('s1', { upstream: { id: 'j1', sessionId: 'A' }, prompt: 'a 100% real cat' }));
    store.insert(task('s2', { upstream: { id: 'j2', sessionId: 'A' }, prompt: 'a 100 real dogs' }));
    store.insert(task('s3', { upstream: { id: 'j3', sessionId: 'B' }, prompt: 'snake_case river' }));
    store.update('s3', { status: 'failed', nextAttemptAt: null });
    expect([...store.liveTasksByUpstreamField('local', 'sessionId')]).toEqual([['A', 2]]);
    const search = (text: string) => store.searchTasks({ text, limit: 10, offset: 0 }).tasks.map((t) => t.id);
    expect(search('100%')).toEqual(['s1']);
    expect(search('E_C')).toEqual(['s3']);
    expect(search('e_r')).toEqual([]);
    expect(
      store.searchTasks({ status: 'failed', platform: 'telegram', userId: 'u1', limit: 10, offset: 0 }).total,
    ).toBe(1);
  });
});
