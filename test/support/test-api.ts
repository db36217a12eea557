/** A test core with its HTTP app listening on a free loopback port, for tests that talk to the API over a socket. */
import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from '../../adapters/http/index.js';
import type { Config } from '../../src/config.js';
import type { CoreOptions } from '../../src/core/index.js';
import type { VideoProvider } from '../../src/providers/provider.js';
import { startTestCore, type TestCore } from './test-core.js';

export interface TestApi {
  core: TestCore;
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

export async function startTestApi(
  options: {
    env?: Record<string, string>;
    provider?: (config: Config) => VideoProvider;
    core?: CoreOptions;
    dataDir?: string;
    /** Leave the data folder on disk after `close` (to start again on it: a restart). */
    keepData?: boolean;
  } = {},
): Promise<TestApi> {
  const core = await startTestCore(options);
  const app = await buildHttpApp({
    service: core.service,
    outbox: core.outbox,
    config: core.config,
    log: core.log,
    videosDir: core.media.videosDir,
    metrics: core.metrics,
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    core,
    app,
    base,
    async close() {
      await app.close();
      await core.dispose();
    },
  };
}
