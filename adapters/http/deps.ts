/** What the HTTP adapter's plugins receive: the service, the configuration and a logger. */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../src/config.js';
import type { GenerationService, Metrics, Outbox } from '../../src/core/index.js';
import type { Logger } from '../../src/logger.js';
import type { Readiness } from '../../src/readiness.js';
import type { AdminSources } from '../web/deps.js';

export interface HttpDeps {
  service: GenerationService;
  config: Config;
  log: Logger;
  /** Where re-hosted videos are served from (DATA_DIR/videos). */
  videosDir: string;
  /** The provider's health report (`VideoProvider.status`), shown by `GET /api/sessions`. */
  providerStatus?: () => Record<string, unknown>;
  /** Sends the callbacks API clients ask for (platform `http`); absent → callback_url is still kept, sent later. */
  outbox?: Outbox;
  /** What `GET /readyz` reports (database, provider, chat adapters); absent → only the HTTP API is checked. */
  readiness?: () => Promise<Readiness>;
  /** The core's metrics, served by `GET /metrics`; absent → no `/metrics` route. */
  metrics?: Pick<Metrics, 'render'>;
  /** The admin web page's sources (adapters/web); absent → no page at /admin. */
  admin?: AdminSources;
  /**
   * Routes other adapters serve on this app, outside the API's bearer auth (they authenticate their own callers):
   * the Telegram webhook. Registered before the app listens.
   */
  extraRoutes?: FastifyPluginAsync[];
}
