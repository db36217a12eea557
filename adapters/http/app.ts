/**
 * Builds the HTTP adapter's Fastify app, not yet listening (tests use it with `inject` or `listen({port: 0})`).
 * Route groups are plugins under their seed prefixes, wrapped in bearer auth when API_TOKEN is set; the OpenAPI
 * document comes from the route schemas and is browsable at /docs.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { arkCallbackRoutes } from './ark-callback-routes.js';
import { requireBearer } from './bearer-auth.js';
import type { HttpDeps } from './deps.js';
import { clientErrorReply, errorHandler, toHttpReply } from './error-reply.js';
import { fileRoutes } from './file-routes.js';
import { opsRoutes } from './ops-routes.js';
import { attachmentSchema, detailSchema, seedTaskSchema } from './schemas.js';
import { sessionRoutes } from './session-routes.js';
import { videoFileRoutes } from './video-file-routes.js';
import { videoGenRoutes } from './video-gen-routes.js';
import { videoRoutes } from './video-routes.js';

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

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'doubao-video-bot',
        version: '0.1.0',
        description: `Text-to-video and image-to-video tasks (provider: ${deps.service.providerName}). Send \`Authorization: Bearer <API_TOKEN>\` when the service has a token.`,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: deps.config.API_TOKEN ? [{ bearer: [] }] : [],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(videoFileRoutes, { prefix: '/videos', ...deps });
  await app.register(opsRoutes, deps);
  // Ark cannot send our bearer token, so its callback sits outside the API's auth (see ark-callback-routes.ts).
  if (deps.service.providerName === 'ark') await app.register(arkCallbackRoutes, { prefix: '/api/ark', ...deps });
  for (const routes of deps.extraRoutes ?? []) await app.register(routes);

  await app.register(async (api) => {
    requireBearer(api, deps.config.API_TOKEN);
    await api.register(fileRoutes, { prefix: '/api/file', ...deps });
    await api.register(videoGenRoutes, { prefix: '/api/video-gen', ...deps });
    await api.register(videoRoutes, { prefix: '/api/video', ...deps });
    await api.register(sessionRoutes, { prefix: '/api/sessions', ...deps });
  });
  return app;
}
