/**
 * Scale-out (issue 16): 1, 2 and 3 service processes (`npm start`, as operators run them) sharing one PostgreSQL
 * database (a throw-away cluster) work through the same burst of tasks against a slow fake Ark whose running-job
 * slots (ARK_MAX_CONCURRENT) are the limit. Measured per process count: throughput, and the time from a task's
 * creation to its upstream start (time to claim a slot). The reference is the upstream's own ceiling, slots divided
 * by a job's duration: more processes cannot go past it, and must not fall short of it either.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { PostgresTaskStore } from '../src/core/store/postgres.js';
import { startArkFake } from '../test/fakes/ark/index.js';
import { arkEnv } from '../test/support/ark-setup.js';
import { startPostgres } from '../test/support/postgres.js';
import { eventually, spawnService } from '../test/support/service-process.js';
import { type Bench, type BenchRow, percentile } from './bench-row.js';

const TASKS = 120;
const SLOTS = 12;
const QUEUED_MS = 500;
const RUNNING_MS = 2_500;

async function runWith(processes: number, url: string): Promise<{ perS: number; startMs: number[] }> {
  const ark = await startArkFake({ queuedMs: QUEUED_MS, runningMs: RUNNING_MS });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const store = await PostgresTaskStore.open(url);
  const env = {
    ...arkEnv(ark, { ARK_FIRST_CHECK_S: '0.25', ARK_POLL_INTERVAL_S: '0.25' }),
    DATABASE_URL: url,
    ARK_MAX_CONCURRENT: String(SLOTS),
    PROVIDER_CONCURRENCY: '8',
  };
  const services = Array.from({ length: processes }, () => spawnService(dataDir, env));
  try {
    const bases = await Promise.all(services.map((s) => s.baseUrl()));
    const began = Date.now();
    await Promise.all(
      Array.from({ length: TASKS }, async (_, i) => {
        const res = await request(`${bases[i % bases.length]}/api/video-gen/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `bench video ${i}` }),
        });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`generate answered ${res.statusCode}`);
      }),
    );
    await eventually(
      `${TASKS} tasks completed`,
      async () => (await store.countByStatus()).completed === TASKS,
      10 * 60_000,
    );
    const { tasks } = await store.list({ limit: TASKS });
    const ended = Math.max(...tasks.map((t) => Date.parse(t.updatedAt)));
    const startMs = await Promise.all(
      tasks.map(async (t) => {
        const events = await store.taskEvents(t.id);
        const started = events.find((e) => e.event === 'started');
        return Date.parse(started?.at ?? t.updatedAt) - Date.parse(t.createdAt);
      }),
    );
    return { perS: TASKS / ((ended - began) / 1000), startMs };
  } finally {
    await Promise.all(services.map((s) => s.terminate()));
    await store.close();
    await ark.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const bench: Bench = async () => {
  const cluster = await startPostgres();
  const rows: BenchRow[] = [];
  const ceiling = SLOTS / ((QUEUED_MS + RUNNING_MS) / 1000);
  try {
    for (const processes of [1, 2, 3]) {
      const { perS, startMs } = await runWith(processes, await cluster.createDatabase(`bench_${processes}`));
      const label = `${processes} process${processes > 1 ? 'es' : ''}`;
      rows.push({
        name: `cluster, ${label}: videos per second (${TASKS} tasks, ${SLOTS} Ark slots)`,
        value: `${perS.toFixed(2)} (${((perS / ceiling) * 100).toFixed(0)} % of the ceiling)`,
        reference: `Ark's ceiling: ${SLOTS} slots / ${(QUEUED_MS + RUNNING_MS) / 1000} s a job = ${ceiling.toFixed(2)}/s`,
      });
      rows.push({
        name: `cluster, ${label}: creation to upstream start, p50 / p99`,
        value: `${(percentile(startMs, 50) / 1000).toFixed(1)} s / ${(percentile(startMs, 99) / 1000).toFixed(1)} s`,
        reference: `the last of ${TASKS} waits ≈ ${((TASKS / ceiling) * (1 - SLOTS / TASKS)).toFixed(1)} s for a slot`,
      });
    }
  } finally {
    await cluster.stop();
  }
  return rows;
};

export default bench;
