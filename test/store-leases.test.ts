/**
 * The TaskStore's lease API on its own (issue 12), as a later store (PostgreSQL) must also honour it: a claim names
 * its owner and bumps the fencing token; a write, renewal or release stating an older token is refused; the next
 * owner takes over the leases of a gone one, holding the interrupted starts of a provider that can recover them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseLost, type NewTask, TaskStore } from '../src/core/store.js';
import { newTask } from './support/new-task.js';

let dir: string | undefined;
let clock = 1_000_000;
const now = () => clock;
const stores: TaskStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function open(): TaskStore {
  dir ??= mkdtempSync(join(tmpdir(), 'dvb-store-'));
  const store = new TaskStore(join(dir, 'tasks.db'), now);
  stores.push(store);
  return store;
}

function task(id: string, upstream: NewTask['upstream'] = null): NewTask {
  return newTask(id, { prompt: id, upstream, nextAttemptAt: clock });
}

describe('leases in the store', () => {
  it('a claim names its owner and bumps the token; a write with the older token is refused', () => {
    const store = open();
    store.insert(task('a'));
    const [first] = store.claimDue('p', 'unstarted', 10_000, 1);
    expect(first).toMatchObject({
      leaseOwner: store.owner,
      leaseToken: 1,
      claimedAt: clock,
      leaseUntil: clock + 10_000,
    });
    clock += 10_001; // the lease lapsed: claimed again
    const [second] = store.claimDue('p', 'unstarted', 10_000, 1);
    expect(second!.leaseToken).toBe(2);
    expect(() => store.update('a', { error: 'stale' }, { token: 1 })).toThrow(LeaseLost);
    expect(() => store.renewLease('a', 1, 10_000)).toThrow(LeaseLost);
    expect(store.releaseLease('a', 1)).toBe(false);
    expect(store.update('a', { error: 'fresh' }, { token: 2 }).error).toBe('fresh');
    expect(store.releaseLease('a', 2)).toBe(true);
    expect(store.get('a')).toMatchObject({ leaseUntil: null, leaseOwner: null, leaseToken: 2 });
  });

  it('the next owner releases a gone owner’s leases, and holds interrupted starts for recovery', () => {
    const dead = open();
    dead.insert(task('started', { id: 'job-1' }));
    dead.insert(task('starting'));
    expect(dead.claimOldestDue('p', { limit: 2, startLimit: 2 }, { started: 60_000, unstarted: 60_000 })).toHaveLength(
      2,
    );
    dead.close();
    stores.length = 0;

    clock += 1_000;
    const next = open();
    const held = next.takeOverLeases({ provider: 'p', holdUnstarted: true, leaseMs: 5_000 });
    expect(held.map((t) => t.id)).toEqual(['starting']);
    expect(held[0]).toMatchObject({ leaseOwner: next.owner, leaseToken: 2, leaseUntil: clock + 5_000 });
    expect(held[0]!.claimedAt).toBe(clock - 1_000); // when the interrupted start began
    expect(next.get('started')).toMatchObject({ leaseUntil: null, leaseOwner: null });
    expect(next.claimDue('p', 'started', 60_000, 5).map((t) => t.id)).toEqual(['started']);
  });
});
