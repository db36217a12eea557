/**
 * The HTTP adapter: the seed's REST API, /docs, /videos/<id>.mp4, /healthz and /metrics, served by Fastify.
 * `createHttpAdapter` returns `{ start(), stop() }` for main.ts; `buildHttpApp` gives tests the bare app.
 */
import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from './app.js';
import type { HttpDeps } from './deps.js';

export { buildHttpApp } from './app.js';
export type { HttpDeps } from './deps.js';

export function createHttpAdapter(deps: HttpDeps) {
  let app: FastifyInstance | undefined;
  return {
    /** Listens on HOST:PORT; resolves with the address actually bound (PORT=0 picks a free port). */
    async start(): Promise<string> {
      app = await buildHttpApp(deps);
      const address = await app.listen({ host: deps.config.HOST, port: deps.config.PORT });
      const cors = deps.config.CORS_ORIGINS;
      deps.log.info({ address, docs: `${address}/docs`, ...(cors.length > 0 && { cors }) }, 'HTTP API listening');
      return address;
    },
    async stop(): Promise<void> {
      await app?.close();
    },
  };
}
