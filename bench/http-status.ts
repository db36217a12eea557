/**
 * Status endpoint throughput: autocannon against `GET /api/video-gen/status` of the real HTTP app, listening on
 * loopback with 3 000 started tasks in its SQLite database (first looks an hour away, so the scheduler stays out
 * of the measurement), each request asking for a random one; then, in the same process and run, against a bare
 * Fastify route answering the same JSON as a constant. The gap is what the app's routing, validation, lookup and
 * serialization cost. Both servers share the process with autocannon: read the two figures side by side.
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { buildHttpApp } from '../adapters/http/index.js';
import { idleProvider } from '../test/support/idle-provider.js';
import { insertStartedTasks, startBenchCore } from './bench-core.js';
import type { Bench, BenchRow } from './bench-row.js';

const TASKS = 3_000;
const SECONDS = 6;
const CONNECTIONS = 20;

async function load(url: string, paths: () => string) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths() }) }],
  });
  if (result.errors + result.timeouts + result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
  }
  return result;
}

const bench: Bench = async () => {
  const core = await startBenchCore(idleProvider());
  const app = await buildHttpApp({
    service: core.service,
    config: core.config,
    log: core.log,
    videosDir: core.media.videosDir,
  });
  const bare = Fastify();
  try {
    const ids = (await insertStartedTasks(core, TASKS, 3_600_000)).map(
      (task) => `conversation_id=${task.conversationId}&message_id=${task.messageId}`,
    );
    const statusPath = () => `/api/video-gen/status?${ids[Math.floor(Math.random() * ids.length)]}`;
    const sample = await app.inject({ method: 'GET', url: statusPath() });
    const constant = sample.json();
    bare.get('/bare', async () => constant);

    const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
    const status = await load(appUrl, statusPath);
    const baseline = await load(bareUrl, () => '/bare');

    const label = `(${CONNECTIONS} connections, ${SECONDS} s, ${TASKS} tasks)`;
    const rows: BenchRow[] = [
      {
        name: `status endpoint req/s ${label}`,
        value: status.requests.average.toFixed(0),
        reference: `bare Fastify route, same run: ${baseline.requests.average.toFixed(0)} req/s`,
      },
      {
        name: `status endpoint latency p99 ${label}`,
        value: `${status.latency.p99} ms`,
        reference: `bare Fastify route, same run: ${baseline.latency.p99} ms`,
      },
    ];
    return rows;
  } finally {
    await bare.close();
    await app.close();
    await core.dispose();
  }
};

export default bench;
