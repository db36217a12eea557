/**
 * Issue 16's cluster test: three `npm start` processes on one PostgreSQL database (a throw-away cluster) and one
 * shared DATA_DIR, against the fake Ark and the fake Telegram on real sockets. 200 tasks arrive over HTTP and
 * Telegram; one process is killed with SIGKILL and started again, then the process leading Telegram's polling is
 * killed. Every task must end once, every Telegram user be told once, no Ark job be created twice, and the polling
 * must move to another process.
 *
 * The kills land while tasks are being looked at, re-hosted and delivered, not while a start is under way: a start
 * cut by SIGKILL between Ark's answer and our write is the one case no store can make exactly-once (Ark keeps no
 * key of ours); test/ark-recovery.test.ts covers how it is recovered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresTaskStore } from '../src/core/store/postgres.js';
import { type ArkFake, startArkFake } from './fakes/ark/index.js';
import { startTelegramFake } from './fakes/telegram/index.js';
import { textMessage } from './fakes/telegram/updates.js';
import { arkEnv } from './support/ark-setup.js';
import { clusterForFile } from './support/postgres.js';
import { eventually, type ServiceProcess, spawnService } from './support/service-process.js';

const cluster = clusterForFile();
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const POLLING = /^Telegram bot polling: this process leads the polling$/;
/** Ark's running-job slots, for the whole cluster. */
const SLOTS = 8;
const leadsPolling = (p: ServiceProcess) => p.lines().some((l) => POLLING.test(l.msg));

/** How many Ark jobs were created for each prompt. */
function createsByPrompt(ark: ArkFake): Map<string, number> {
  const counts = new Map<string, number>();
  for (const task of ark.tasks) {
    const text = (task.body.content as { type: string; text?: string }[]).find((c) => c.type === 'text')?.text ?? '';
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return counts;
}

/** The most intervals [from, until) open at one moment. */
function mostAtOnce(intervals: number[][]): number {
  const edges = intervals.flatMap(([from, until]) => [
    [from!, 1],
    [until!, -1],
  ]);
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let open = 0;
  let most = 0;
  for (const [, step] of edges) {
    open += step!;
    most = Math.max(most, open);
  }
  return most;
}

describe('three processes sharing PostgreSQL (issue 16)', () => {
  it('200 tasks over HTTP and Telegram, kill -9 twice: each ends once, each user is told once, no job twice', async () => {
    const url = await cluster().createDatabase('three_processes');
    const ark = await startArkFake({ queuedMs: 200, runningMs: 1000 });
    const telegram = await startTelegramFake();
    const dataDir = mkdtempSync(join(tmpdir(), 'cluster-'));
    const store = await PostgresTaskStore.open(url);
    cleanups.push(
      () => ark.close(),
      () => telegram.close(),
      () => rmSync(dataDir, { recursive: true, force: true }),
    );
    cleanups.push(() => store.close());
    const env = {
      ...arkEnv(ark),
      DATABASE_URL: url,
      OWNER_TIMEOUT_S: '3',
      TELEGRAM_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      USER_MAX_ACTIVE: '1000',
      USER_DAILY_LIMIT: '1000',
      PROVIDER_CONCURRENCY: '8',
      ARK_MAX_CONCURRENT: String(SLOTS),
      OUTBOX_RETRY_BASE_S: '0.2',
    };
    const processes: ServiceProcess[] = [];
    const spawn = () => {
      const p = spawnService(dataDir, env);
      processes.push(p);
      cleanups.push(() => (p.child.exitCode === null && p.child.signalCode === null ? p.terminate() : undefined));
      return p;
    };
    const alive = () => processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    const kill = async (p: ServiceProcess) => {
      p.child.kill('SIGKILL');
      await p.exited;
    };
    for (let i = 0; i < 3; i++) spawn();
    await Promise.all(processes.map((p) => p.baseUrl()));
    await eventually('one process polls Telegram', () => processes.some(leadsPolling), 20_000);

    let httpCount = 0;
    const submitHttp = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const target = alive()[httpCount % alive().length]!;
        const res = await request(`${await target.baseUrl()}/api/video-gen/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `http video ${httpCount++}` }),
        });
        expect(res.statusCode).toBe(200);
        await res.body.dump();
      }
    };
    let chatCount = 0;
    const submitTelegram = (n: number) => {
      for (let i = 0; i < n; i++) {
        const user = 5000 + chatCount;
        telegram.pushUpdate(textMessage({ chatId: user, userId: user }, `/video telegram video ${chatCount++}`));
      }
    };
    /** Waits until Ark has at least `jobs` jobs and, at that moment, no start is under way in any process. */
    const quietAfter = (jobs: number) =>
      eventually(
        `${jobs} Ark jobs, no start under way`,
        async () =>
          ark.tasks.length >= jobs &&
          (await store.list({ limit: 1000 })).tasks.every((t) => t.upstream !== null || t.leaseUntil === null),
        90_000,
      );
    const poller = () => alive().find(leadsPolling);

    // Phase 1: 70 over HTTP, 30 over Telegram; while they run, a process that does not poll dies, and a new one
    // takes its place.
    await submitHttp(70);
    submitTelegram(30);
    await quietAfter(30);
    await kill(alive().find((p) => p !== poller())!);
    await spawn().baseUrl();

    // Phase 2: 30 more over HTTP; then the process leading the polling dies, and 70 Telegram requests follow,
    // which only a new leader can take.
    await submitHttp(30);
    await quietAfter(70);
    await kill(poller()!);
    submitTelegram(70);
    await eventually('another process leads the polling', () => alive().some(leadsPolling), 30_000);

    const done = await eventually(
      'every task final',
      async () => {
        const { total, tasks } = await store.list({ limit: 1000 });
        return total === 200 && tasks.every((t) => t.status === 'completed' || t.status === 'failed');
      },
      120_000,
    ).then(() => store.list({ limit: 1000 }));

    expect(done.tasks.filter((t) => t.status !== 'completed').map((t) => [t.id, t.error])).toEqual([]);
    // No Ark job twice: one create per prompt, 200 in all.
    const creates = createsByPrompt(ark);
    expect([...creates.values()].filter((n) => n !== 1)).toEqual([]);
    expect(creates.size).toBe(200);
    // The slots held for the cluster: never more Ark jobs running at once than SLOTS (a job runs from its creation
    // until Ark says it succeeded; our tasks hold their slot longer, until the video is re-hosted).
    expect(mostAtOnce(ark.tasks.map((t) => [t.createdAt, t.createdAt + 1200]))).toBeLessThanOrEqual(SLOTS);
    // Each task ended once: one `completed` row in its history.
    for (const task of done.tasks) {
      const ends = (await store.taskEvents(task.id)).filter((e) => e.event === 'completed');
      expect(ends.length, `task ${task.id}`).toBe(1);
    }
    // Each Telegram user was told once: one video in each of the 100 chats.
    await eventually(
      'every Telegram result delivered',
      () => telegram.calls('sendVideo').filter((c) => c.errorCode === undefined).length >= 100,
      60_000,
    );
    for (let i = 0; i < 100; i++) expect(telegram.delivered('sendVideo', 5000 + i), `chat ${5000 + i}`).toBe(1);
  }, 300_000);
});
