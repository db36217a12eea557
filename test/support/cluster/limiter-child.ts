/**
 * A child process for the cross-process limiter tests (test/postgres-limiter.test.ts), run with `node --import tsx`.
 * `hammer`: acquires the key `count` times through a PostgresLimiter and records each holding's start and end in
 * `limiter_probe` with the database's clock. `hold`: acquires once, prints `held`, and keeps the slot until killed.
 * Arguments: one JSON object (see `Job`).
 */
import pg from 'pg';
import { PostgresLimiter } from '../../../src/core/store/postgres-limiter.js';

interface Job {
  mode: 'hammer' | 'hold';
  url: string;
  key: string;
  name: string;
  count: number;
  maxConcurrent: number;
  minSpacingMs: number;
  /** Longest holding in `hammer` mode; each one lasts a random time up to it. */
  workMs: number;
}

const job = JSON.parse(process.argv[2]!) as Job;
const rules = { maxConcurrent: job.maxConcurrent, minSpacingMs: job.minSpacingMs };
const limiter = await PostgresLimiter.open(job.url, { recheckMs: 500 });

if (job.mode === 'hold') {
  await limiter.acquire(job.key, rules);
  console.log('held');
  setInterval(() => undefined, 60_000);
} else {
  const probe = new pg.Client({ connectionString: job.url });
  await probe.connect();
  await Promise.all(
    Array.from({ length: job.count }, async () => {
      const slot = await limiter.acquire(job.key, rules);
      const { rows } = await probe.query<{ id: number }>(
        'INSERT INTO limiter_probe (child, started_at) VALUES ($1, clock_timestamp()) RETURNING id',
        [job.name],
      );
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * (job.workMs - 10)));
      await probe.query('UPDATE limiter_probe SET ended_at = clock_timestamp() WHERE id = $1', [rows[0]!.id]);
      await slot.release();
    }),
  );
  await probe.end();
  await limiter.close();
  console.log('done');
}
