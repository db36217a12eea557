/**
 * After a crash: the starts a dead process had under way may have created upstream jobs it never recorded. This
 * asks the provider (its `recover`) for those jobs and adopts them instead of starting the tasks again (and paying
 * twice); the tasks it finds nothing for are released to be started as usual. The tasks arrive held by this
 * process (`TaskStore.takeOverLeases`), and every write states the token of that hold, so a task the loop claimed
 * meanwhile (the hold lapsed) is left to the loop.
 */
import type { Logger } from 'pino';
import type { UpstreamRef, VideoProvider } from '../providers/provider.js';
import type { TaskEventBus } from './events.js';
import type { TaskStoreAsync } from './store/contract.js';
import { StaleTask } from './store.js';
import type { Task } from './task.js';

export interface StartRecoveryDeps {
  store: TaskStoreAsync;
  provider: VideoProvider;
  events: TaskEventBus;
  log: Logger;
  /** How long a start may have run after it began: the window in which its upstream job was created. */
  startWindowMs: number;
  /** When an adopted job's first look is due. */
  firstLookAt: () => number;
  now: () => number;
  /** Bounds the provider's answer (an upstream call's time limit). */
  limit: <T>(work: Promise<T>) => Promise<T>;
}

export async function recoverInterruptedStarts(deps: StartRecoveryDeps, tasks: Task[]): Promise<void> {
  const { store, provider, log } = deps;
  if (!provider.recover) return;
  const interrupted = tasks.map((t) => {
    const from = t.claimedAt ?? deps.now() - deps.startWindowMs;
    return { taskId: t.id, kind: t.kind, from, until: from + deps.startWindowMs };
  });
  let found = new Map<string, UpstreamRef>();
  try {
    found = await deps.limit(
      provider.recover(interrupted, async (id) => !!(await store.findByUpstreamId(provider.name, id))),
    );
  } catch (err) {
    log.warn({ err, tasks: tasks.length }, 'could not look for upstream jobs of interrupted starts');
  }
  for (const task of tasks) {
    const ref = found.get(task.id);
    try {
      if (!ref) {
        await store.releaseLease(task.id, task.leaseToken);
        continue;
      }
      const adopted = await store.update(
        task.id,
        { upstream: ref, nextAttemptAt: deps.firstLookAt(), leaseUntil: null },
        { status: task.status, token: task.leaseToken },
      );
      log.info({ taskId: task.id, upstreamId: ref.id }, 'adopted the upstream job of an interrupted start');
      deps.events.emit('started', adopted);
    } catch (err) {
      if (!(err instanceof StaleTask)) log.error({ err, taskId: task.id }, 'could not recover a start');
    }
  }
}
