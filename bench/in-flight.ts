/**
 * 10 000 tasks in flight, without and then with 200 000 finished tasks of history: started jobs of a provider that
 * never finishes, written into the store, with the scheduler running on short timings (a look every 5 s per task,
 * 4 steps at once) so it really claims, looks at and reschedules them for the whole run. Measures event-loop lag
 * (`monitorEventLoopDelay`), the process's resident memory, how many looks the scheduler got through, what a claim
 * costs, and the per-call cost of the questions asked on every submit, callback and kick (`countAhead`,
 * `findByUpstreamId`, `countRunning`), which must not grow with the history.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { idleProvider } from '../test/support/idle-provider.js';
import { type BenchCore, insertFinishedTasks, insertStartedTasks, startBenchCore } from './bench-core.js';
import { type Bench, type BenchRow, percentile } from './bench-row.js';

const TASKS = 10_000;
const HISTORY = 200_000;
const RUN_MS = 15_000;
const MiB = 1024 * 1024;
const ms = (value: number) => `${value.toFixed(value < 1 ? 3 : 1)} ms`;

/**
 * Mean milliseconds per call of `work`, over `calls` calls made one after another, each awaited before the next:
 * the time a caller waits for the answer, the store's work plus the turn of the promise that carries it.
 */
async function perCall(work: () => Promise<unknown>, calls = 500): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < calls; i++) await work();
  return (performance.now() - started) / calls;
}

async function run(history: number): Promise<BenchRow[]> {
  const idle = idleProvider();
  let looks = 0;
  const provider = {
    ...idle,
    poll: (ref: Parameters<typeof idle.poll>[0]) => {
      looks++;
      return idle.poll(ref);
    },
  };
  const env = { FIRST_ATTEMPT_DELAY_S: '5', RETRY_INTERVAL_S: '5', MAX_ATTEMPTS: '1000', PROVIDER_CONCURRENCY: '4' };
  const core: BenchCore = await startBenchCore(provider, env);
  try {
    await insertFinishedTasks(core, history);
    const rssBefore = process.memoryUsage().rss;
    const tasks = await insertStartedTasks(core, TASKS, 5_000);
    const claims: number[] = [];
    const claimOldestDue = core.store.claimOldestDue.bind(core.store);
    // Timed from the call until its answer is there, as the scheduler awaits it.
    core.store.claimOldestDue = async (...args) => {
      const started = performance.now();
      try {
        return await claimOldestDue(...args);
      } finally {
        claims.push(performance.now() - started);
      }
    };
    core.scheduler.kick();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    let rssPeak = 0;
    const until = Date.now() + RUN_MS;
    while (Date.now() < until) {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      await sleep(250);
    }
    lag.disable();
    const active = await core.store.countByStatus();
    const inFlight = active.pending + active.processing;
    if (inFlight !== TASKS) throw new Error(`expected ${TASKS} tasks in flight, found ${inFlight}`);
    const newest = (await core.store.get(tasks.at(-1)!.id))!;
    const hot = {
      countAhead: await perCall(() => core.store.countAhead(newest)),
      findByUpstreamId: await perCall(() => core.store.findByUpstreamId(provider.name, 'upstream-5000')),
      countRunning: await perCall(() => core.store.countRunning(provider.name), 50),
    };
    const label = `(${TASKS / 1000}k in flight, ${history ? `${history / 1000}k finished` : 'no history'}, ${RUN_MS / 1000} s)`;
    return [
      {
        name: `event-loop lag p99 ${label}`,
        value: ms(lag.percentile(99) / 1e6),
        reference: `p50 ${ms(lag.percentile(50) / 1e6)}, max ${ms(lag.max / 1e6)}; sampled every 10 ms`,
      },
      {
        name: `RSS peak ${label}`,
        value: `${(rssPeak / MiB).toFixed(0)} MiB`,
        reference: `${(rssBefore / MiB).toFixed(0)} MiB before the tasks in flight (whole bench process)`,
      },
      {
        name: `scheduler looks per second ${label}`,
        value: (looks / (RUN_MS / 1000)).toFixed(0),
        reference: `${TASKS / 5} due per second (a look every 5 s each)`,
      },
      {
        name: `claim (claimOldestDue) mean / p99 ${label}`,
        value: `${ms(claims.reduce((a, b) => a + b, 0) / claims.length)} / ${ms(percentile(claims, 99))}`,
        reference: `${claims.length} claims`,
      },
      {
        name: `countAhead / findByUpstreamId per call ${label}`,
        value: `${ms(hot.countAhead)} / ${ms(hot.findByUpstreamId)}`,
        reference: `countRunning (walks the ${TASKS / 1000}k live rows' index): ${ms(hot.countRunning)}`,
      },
    ];
  } finally {
    await core.dispose();
  }
}

const bench: Bench = async () => [...(await run(0)), ...(await run(HISTORY))];

export default bench;
