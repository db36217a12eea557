/**
 * Builds the HTTP adapter's Fastify app, not yet listening (tests use it with `inject` or `listen({port: 0})`).
 * Route groups are plugins under their seed prefixes, wrapped in bearer auth when API_TOKEN is set; the OpenAPI
 * document comes from the route schemas and is browsable at /docs. Browser pages of the CORS_ORIGINS may call it.
 */
import fastifyCors from '@fastify/cors';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { adminWeb } from '../web/index.js';
import { arkCallbackRoutes } from './ark-callback-routes.js';
import { requireBearer } from './bearer-auth.js';
import { callbackSender } from './callbacks.js';
import type { HttpDeps } from './deps.js';
import { clientErrorReply, errorHandler, toHttpReply } from './error-reply.js';
import { fileRoutes } from './file-routes.js';
import { swaggerOptions } from './openapi.js';
import { opsRoutes } from './ops-routes.js';
import { attachmentSchema, detailSchema, seedTaskSchema } from './schemas.js';
import { sessionRoutes } from './session-routes.js';
import { videoFileRoutes } from './video-file-routes.js';
import { videoGenRoutes } from './video-gen-routes.js';
import { videoRoutes } from './video-routes.js';

/** CORS for the configured origins (`*`: any); the token travels in a header, never a cookie, so no credentials. */
function corsOptions(origins: readonly string[]) {
  return {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
    credentials: false,
    maxAge: 600,
  };
}

/** Longer than the longest a route waits on purpose (get_url: up to 120 s), so idle sockets are cut, not answers. */
const IDLE_SOCKET_MS = 130_000;

export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const requestTimeout = deps.config.HTTP_REQUEST_TIMEOUT_S * 1000;
  const app = Fastify({
    // A client that sends part of a request and goes silent is answered 408 and cut off (see error-reply.ts).
    requestTimeout,
    connectionTimeout: Math.max(IDLE_SOCKET_MS, requestTimeout),
    keepAliveTimeout: 5_000,
    maxRequestsPerSocket: 1_000,
    // Node takes the request timeout only when the server is created (Fastify sets it later: too late), and looks
    // for overdue requests this often (its default, 30 s, would let them linger that much longer).
    http: { requestTimeout, connectionsCheckingInterval: Math.min(1_000, requestTimeout) },
    loggerInstance: deps.log.child({ adapter: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    clientErrorHandler: clientErrorReply,
    // A URL Fastify cannot decode (`GET /%ff`) is answered in the same `{detail}` shape as everything else.
    frameworkErrors: (error, _req, reply) => {
      const { status, detail } = toHttpReply(error, 0);
      return (reply as FastifyReply).status(status).send({ detail });
    },
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  });
  app.server.maxConnections = deps.config.HTTP_MAX_CONNECTIONS;
  app.setErrorHandler(errorHandler());
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ detail: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
  for (const schema of [detailSchema, seedTaskSchema, attachmentSchema]) app.addSchema(schema);
  // Before every route: its hook answers preflights ahead of the bearer check (a preflight carries no token), and
  // adds the headers to every answer, errors and 401s included, so a page can read why a call failed.
  if (deps.config.CORS_ORIGINS.length > 0) await app.register(fastifyCors, corsOptions(deps.config.CORS_ORIGINS));

  await app.register(fastifySwagger, swaggerOptions(deps.service.providerName, deps.config.API_TOKEN));
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(videoFileRoutes, { prefix: '/videos', ...deps });
  await app.register(opsRoutes, deps);
  // Ark cannot send our bearer token, so its callback sits outside the API's auth (see ark-callback-routes.ts).
  if (deps.service.providerName === 'ark') await app.register(arkCallbackRoutes, { prefix: '/api/ark', ...deps });
  for (const routes of deps.extraRoutes ?? []) await app.register(routes);

  // The admin page signs in with its own session cookie (adapters/web), so it sits outside the API's bearer auth.
  if (deps.admin) await app.register(adminWeb, { prefix: '/admin', ...deps, ...deps.admin });

  await app.register(async (api) => {
    requireBearer(api, deps.config.API_TOKEN);
    await api.register(fileRoutes, { prefix: '/api/file', ...deps });
    await api.register(videoGenRoutes, { prefix: '/api/video-gen', ...deps });
    await api.register(videoRoutes, { prefix: '/api/video', ...deps });
    await api.register(sessionRoutes, { prefix: '/api/sessions', ...deps });
  });
  // Tasks' callback_url POSTs go out while the API is up, from the outbox's rows (they survive restarts).
  const stopCallbacks = deps.outbox?.register('http', {
    result: callbackSender(deps.config),
    separateReceivers: true,
  });
  if (stopCallbacks) app.addHook('onClose', stopCallbacks);
  return app;
}
