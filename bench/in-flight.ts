/**
 * 10 000 tasks in flight: started jobs of a provider that never finishes, written into the store, with the
 * scheduler running on short timings (a look every 5 s per task, 4 steps at once) so it really claims, looks at
 * and reschedules them for the whole run. Measures event-loop lag (`monitorEventLoopDelay`) and the process's
 * resident memory while it does, for a bounded 15 s, and how many looks the scheduler got through.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { idleProvider } from '../test/support/idle-provider.js';
import { insertStartedTasks, startBenchCore } from './bench-core.js';
import type { Bench } from './bench-row.js';

const TASKS = 10_000;
const RUN_MS = 15_000;
const MiB = 1024 * 1024;

const bench: Bench = async () => {
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
  const core = await startBenchCore(provider, env);
  try {
    const rssBefore = process.memoryUsage().rss;
    insertStartedTasks(core, TASKS, 5_000);
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
    const active = core.store.countByStatus();
    const inFlight = active.pending + active.processing;
    if (inFlight !== TASKS) throw new Error(`expected ${TASKS} tasks in flight, found ${inFlight}`);
    const ms = (ns: number) => `${(ns / 1e6).toFixed(1)} ms`;
    const label = `(${(TASKS / 1000).toFixed(0)}k in flight, ${RUN_MS / 1000} s)`;
    return [
      {
        name: `event-loop lag p99 ${label}`,
        value: ms(lag.percentile(99)),
        reference: `p50 ${ms(lag.percentile(50))}, max ${ms(lag.max)}; sampled every 10 ms`,
      },
      {
        name: `RSS peak ${label}`,
        value: `${(rssPeak / MiB).toFixed(0)} MiB`,
        reference: `${(rssBefore / MiB).toFixed(0)} MiB before the tasks (whole bench process)`,
      },
      {
        name: `scheduler looks per second ${label}`,
        value: (looks / (RUN_MS / 1000)).toFixed(0),
        reference: `${TASKS / 5} due per second (a look every 5 s each)`,
      },
    ];
  } finally {
    await core.dispose();
  }
};

export default bench;
