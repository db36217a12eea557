/**
 * A child process for the leader-election tests (test/postgres-leader.test.ts), run with `node --import tsx`.
 * It stands for election of a role; while it leads, it records a tick in `leader_ticks` every 100 ms with the
 * database's clock (the shared record that shows who led when) and prints `leading` once.
 * It uses the default timings, so the test measures the hand-over an operator gets. Arguments: the database URL, the role, this child's name.
 */
import pg from 'pg';
import { LeaderElection } from '../../../src/core/store/postgres-leader.js';

const [url, role, name] = process.argv.slice(2) as [string, string, string];
const record = new pg.Pool({ connectionString: url, max: 1 });

new LeaderElection(url, {
  role, // the default timings: a follower tries every 2 s
  lead(signal) {
    console.log('leading');
    const tick = () => record.query('INSERT INTO leader_ticks (child, at) VALUES ($1, clock_timestamp())', [name]);
    const timer = setInterval(() => {
      if (!signal.aborted) void tick().catch(() => undefined);
    }, 100);
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  },
});
