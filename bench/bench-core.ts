/**
 * A real core for a benchmark: SQLite in a fresh temporary DATA_DIR, the given provider, warnings and errors to
 * stderr only (the test core's in-memory log would grow with the bench and skew its memory figures).
 */
import { rmSync } from 'node:fs';
import { type Core, createCore, type Task } from '../src/core/index.js';
import { createLogger } from '../src/logger.js';
import type { VideoProvider } from '../src/providers/provider.js';
import { testConfig } from '../test/support/test-core.js';

export interface BenchCore extends Core {
  /** Stops the core and removes its data folder. */
  dispose(): Promise<void>;
}

export async function startBenchCore(provider: VideoProvider, env: Record<string, string> = {}): Promise<BenchCore> {
  const config = testConfig({ LOG_LEVEL: 'warn', ...env });
  const core = await createCore(config, createLogger(config.LOG_LEVEL, process.stderr), provider);
  await core.start();
  return {
    ...core,
    async dispose() {
      await core.stop();
      rmSync(config.DATA_DIR, { recursive: true, force: true });
    },
  };
}

/**
 * Writes `count` started tasks straight into the store (thousands a second, where `submit`, which starts each
 * job on the spot, manages about a hundred), their first looks spread evenly over `spreadMs` from now.
 */
export async function insertStartedTasks(core: Core, count: number, spreadMs: number): Promise<Task[]> {
  const now = Date.now();
  const tasks: Task[] = [];
  // One after another, in id order, as a stream of submits would arrive (and one statement at a time on PostgreSQL).
  for (let i = 0; i < count; i++) {
    const task = await core.store.insert({
      id: `bench-${i}`,
      provider: core.provider.name,
      kind: 't2v',
      prompt: `bench video ${i}`,
      guest: false,
      imagePath: null,
      imageRef: null,
      conversationId: String(7_000_000_000_000_000 + i),
      messageId: String(8_000_000_000_000_000 + i),
      sectionId: null,
      upstream: { id: `upstream-${i}` },
      status: 'pending',
      attempts: 0,
      maxAttempts: core.scheduler.policy.maxAttempts,
      nextAttemptAt: now + Math.round((i / count) * spreadMs),
      leaseUntil: null,
      progress: null,
      videoUrls: [],
      videoFile: null,
      error: null,
      origin: { platform: 'http', userId: 'bench' },
      deliveredAt: null,
    });
    tasks.push(task);
  }
  return tasks;
}

/** Writes `count` finished tasks (completed a day ago, their upstream jobs known): a service's history. */
export async function insertFinishedTasks(core: Core, count: number): Promise<void> {
  const finishedAt = Date.now() - 24 * 60 * 60 * 1000;
  for (let i = 0; i < count; i++) {
    await core.store.insert({
      id: `done-${i}`,
      provider: core.provider.name,
      kind: 't2v',
      prompt: `finished video ${i}`,
      guest: false,
      imagePath: null,
      imageRef: null,
      conversationId: String(5_000_000_000_000_000 + i),
      messageId: String(6_000_000_000_000_000 + i),
      sectionId: null,
      upstream: { id: `finished-upstream-${i}` },
      status: 'completed',
      attempts: 1,
      maxAttempts: core.scheduler.policy.maxAttempts,
      nextAttemptAt: null,
      leaseUntil: null,
      progress: 1,
      videoUrls: [],
      videoFile: `done-${i}.mp4`,
      error: null,
      origin: { platform: 'http', userId: 'bench' },
      deliveredAt: new Date(finishedAt).toISOString(),
    });
  }
}
