/**
 * Discord `/video` acknowledgement under a burst: 500 interactions pushed through the fake gateway at once to a
 * real discord.js client running the adapter on a real core (an idle provider, so nothing renders). The fake runs
 * in a worker thread (bench/discord-fake-worker.ts), as Discord runs elsewhere. Measures the
 * time from the gateway dispatch to the acknowledgement reaching the fake REST API (Discord's 3-second limit), and
 * to the first message showing the task id: since issue 15 a text-to-video is answered directly with the task in
 * the acknowledgement; before, a deferral's follow-up edit queued behind discord.js's 50 req/s global REST limit
 * (p50 15.7 s, p99 19.9 s). Loopback only; gives up after 60 s.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { QUEUE_REFRESH_MS } from '../adapters/discord/index.js';
import { type DiscordEndpoint, startDiscordBot } from '../test/support/discord-harness.js';
import { idleProvider } from '../test/support/idle-provider.js';
import { type Bench, percentile } from './bench-row.js';
import type { BurstResult } from './discord-fake-worker.js';

const BURST = 500;
const LIMIT_MS = 60_000;

const bench: Bench = async () => {
  // The worker loads the TypeScript fake through tsx's API, as a worker does not inherit tsx's loader.
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./discord-fake-worker.ts', import.meta.url).href);
  const worker = new Worker(`import(${api}).then(({ tsImport }) => tsImport(${entry}, ${api}))`, { eval: true });
  const next = async <T>(type: string): Promise<T> => {
    for (;;) {
      const [message] = (await once(worker, 'message')) as [{ type: string } & T];
      if (message.type === type) return message;
    }
  };
  const { endpoint } = await next<{ endpoint: DiscordEndpoint }>('ready');
  const bot = await startDiscordBot(endpoint, {
    provider: idleProvider,
    env: { LOG_LEVEL: 'warn', FIRST_ATTEMPT_DELAY_S: '600' },
    queueRefreshMs: QUEUE_REFRESH_MS,
  });
  try {
    worker.postMessage({ type: 'burst', size: BURST, limitMs: LIMIT_MS });
    const { result } = await next<{ result: BurstResult }>('result');
    const missing = result.visibleMs.filter((v) => !Number.isFinite(v)).length;
    if (missing) throw new Error(`${missing} of ${BURST} interactions were not answered within ${LIMIT_MS} ms`);
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const limit = "Discord's limit to acknowledge: 3000 ms";
    return [
      { name: `discord /video ack p50 (${BURST} burst)`, value: ms(percentile(result.ackMs, 50)), reference: limit },
      { name: `discord /video ack p99 (${BURST} burst)`, value: ms(percentile(result.ackMs, 99)), reference: limit },
      {
        name: `discord /video task id visible p50 / p99 (${BURST} burst)`,
        value: `${ms(percentile(result.visibleMs, 50))} / ${ms(percentile(result.visibleMs, 99))}`,
        reference: `target p99 < 1000 ms; ${result.deferred} of ${BURST} deferred`,
      },
    ];
  } finally {
    await bot.close();
    worker.postMessage({ type: 'close' });
    await once(worker, 'exit');
  }
};

export default bench;
