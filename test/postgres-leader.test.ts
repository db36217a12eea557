/**
 * Leader election through a PostgreSQL advisory lock (issue 16): three child processes stand for one role; the
 * leader is killed with SIGKILL twice and another takes over within seconds each time, with never two leaders at
 * once (every leader records ticks in one table, with the database's clock: the ticks of different children never
 * interleave). In the test process: a leader whose connection the server cuts stops leading, one leader per role,
 * and `stop()` hands the role over. PostgreSQL is a throw-away cluster (test/support/postgres.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaderElection } from '../src/core/store/postgres-leader.js';
import { clusterForFile } from './support/postgres.js';

const cluster = clusterForFile();

const children: ChildProcess[] = [];
const elections: LeaderElection[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(elections.splice(0).map((e) => e.stop()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('leader election across processes', () => {
  it('a SIGKILLed leader is replaced within seconds, twice, and two never lead at once', async () => {
    const url = await cluster().createDatabase();
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('CREATE TABLE leader_ticks (child text NOT NULL, at timestamptz NOT NULL)');
    const script = join(import.meta.dirname, 'support/cluster/leader-child.ts');
    const procs = ['a', 'b', 'c'].map((name) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, url, 'telegram-poller', name], {
        cwd: join(import.meta.dirname, '..'),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      const proc = { name, child, leading: false };
      child.stdout!.on('data', (chunk) => {
        if (String(chunk).includes('leading')) proc.leading = true;
      });
      return proc;
    });
    const handOvers: number[] = [];
    let leader: (typeof procs)[number] | undefined;
    await waitFor(() => procs.some((p) => p.leading), 60_000, 'a first leader');
    for (let round = 0; round < 2; round++) {
      leader = procs.find((p) => p.leading && p.child.exitCode === null && p.child.signalCode === null)!;
      await sleep(1_000); // it ticks a while
      const killedAt = (await db.query<{ at: Date }>('SELECT clock_timestamp() AS at')).rows[0]!.at;
      leader.child.kill('SIGKILL');
      handOvers.push(await msToNextLeader(db, killedAt, leader.name));
    }
    const { rows: ticks } = await db.query<{ child: string }>('SELECT child FROM leader_ticks ORDER BY at');
    await db.end();
    const runs = ticks.map((t) => t.child).filter((child, i, all) => i === 0 || child !== all[i - 1]);
    console.info(`leader hand-over after SIGKILL: ${handOvers.map((ms) => `${Math.round(ms)} ms`).join(', ')}`);
    expect(runs).toHaveLength(3); // three leaders one after the other, each one's ticks in one unbroken run
    expect(new Set(runs).size).toBe(3);
    for (const ms of handOvers) expect(ms).toBeLessThan(10_000);
  }, 120_000);

  /** Milliseconds from `killedAt` to the first tick of a leader other than `killed` (database clock). */
  async function msToNextLeader(db: pg.Client, killedAt: Date, killed: string): Promise<number> {
    const until = Date.now() + 30_000;
    for (;;) {
      const { rows } = await db.query<{ ms: number }>(
        `SELECT extract(epoch FROM min(at) - $1::timestamptz) * 1000 AS ms
           FROM leader_ticks WHERE at > $1 AND child <> $2`,
        [killedAt, killed],
      );
      if (rows[0]!.ms !== null) return Number(rows[0]!.ms);
      if (Date.now() > until) throw new Error('no other leader within 30 s');
      await sleep(100);
    }
  }
});

describe('leader election in one process', () => {
  const timings = { retryMs: 200, checkMs: 500, takeoverDelayMs: 100 };

  function stand(url: string, role: string, log: string[], name: string): LeaderElection {
    const election = new LeaderElection(url, {
      role,
      ...timings,
      lead(signal) {
        log.push(`${name} leads`);
        signal.addEventListener('abort', () => log.push(`${name} stops`), { once: true });
      },
    });
    elections.push(election);
    return election;
  }

  it('one leader per role; stop() hands the role over; roles are independent', async () => {
    const url = await cluster().createDatabase();
    const log: string[] = [];
    const a = stand(url, 'telegram-poller', log, 'a');
    await waitFor(() => a.isLeader, 10_000, 'a to lead');
    const b = stand(url, 'telegram-poller', log, 'b');
    const other = stand(url, 'discord-gateway', log, 'other');
    await waitFor(() => other.isLeader, 10_000, 'the other role to have its leader');
    await sleep(600);
    expect(b.isLeader).toBe(false);
    await a.stop();
    await waitFor(() => b.isLeader, 10_000, 'b to take over');
    expect(log.filter((l) => !l.startsWith('other'))).toEqual(['a leads', 'a stops', 'b leads']);
  });

  it('a leader whose connection the server cuts stops leading, and the role is led again', async () => {
    const url = await cluster().createDatabase();
    const log: string[] = [];
    const problems: unknown[] = [];
    const a = new LeaderElection(url, {
      role: 'telegram-poller',
      ...timings,
      lead(signal) {
        log.push('a leads');
        signal.addEventListener('abort', () => log.push('a stops'), { once: true });
      },
      onProblem: (error) => problems.push(error),
    });
    elections.push(a);
    await waitFor(() => a.isLeader, 10_000, 'a to lead');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const { rows } = await admin.query<{ cut: boolean }>(
      `SELECT pg_terminate_backend(pid) AS cut FROM pg_locks
        WHERE locktype = 'advisory' AND classid = 4 AND objid = hashtext('telegram-poller')::oid AND granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    await admin.end();
    expect(rows).toEqual([{ cut: true }]);
    await waitFor(() => log.includes('a stops'), 5_000, 'a to stop leading');
    expect(problems.length).toBeGreaterThan(0);
    await waitFor(() => log.filter((l) => l === 'a leads').length === 2, 10_000, 'a to lead again');
  });
});
