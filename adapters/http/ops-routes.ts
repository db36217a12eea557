/**
 * Routes for operators, outside the bearer auth: `/healthz` (liveness: the process answers, which provider),
 * `/readyz` (readiness: database, provider and each chat adapter, 503 while one is not up) and `/metrics` (the core's
 * prom-client registry in the Prometheus text format: see src/core/metrics.ts). `/readyz` is in the API docs because
 * its answer has a shape worth documenting; the other two are hidden.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';

const readinessPart = {
  type: 'object',
  required: ['ready'],
  properties: {
    ready: { type: 'boolean' },
    state: { type: 'string', enum: ['starting', 'up', 'retrying', 'off'], description: 'chat adapters only' },
    since: { type: 'string', format: 'date-time', description: 'when the adapter entered this state' },
    failures: { type: 'integer', description: 'failed starts so far' },
    lastError: { type: 'string', description: 'why the last start failed (DNS, refused, 401…)' },
    nextTryAt: { type: 'string', format: 'date-time' },
    name: { type: 'string', description: 'the provider' },
    reason: { type: 'string', description: 'why the provider is not ready' },
    error: { type: 'string', description: 'why the database takes no writes' },
  },
  additionalProperties: true,
};

const readinessSchema = {
  type: 'object',
  required: ['ready', 'parts'],
  properties: {
    ready: { type: 'boolean' },
    parts: {
      type: 'object',
      description: '`database`, `provider`, and one entry per configured chat adapter (`telegram`, `discord`)',
      additionalProperties: readinessPart,
    },
  },
};

export async function opsRoutes(app: FastifyInstance, { service, readiness, metrics }: HttpDeps) {
  // A browser pointed at the server lands on the interactive docs rather than a 404.
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/docs', 302));
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true, provider: service.providerName }));

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Is every configured part up?',
        description:
          'Readiness: 200 when the database takes writes, the provider can take work and every configured chat ' +
          'adapter is connected; 503 otherwise, with the state of each part. A chat adapter that cannot connect ' +
          'is retried in the background (`retrying`, with its last error) or, after a refused token, `off`. ' +
          'Use `/healthz` for liveness.',
        security: [],
        response: { 200: readinessSchema, 503: readinessSchema },
      },
    },
    async (_req, reply) => {
      const report = (await readiness?.()) ?? { ready: true, parts: {} };
      return reply.status(report.ready ? 200 : 503).send(report);
    },
  );

  if (!metrics) return;
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const { contentType, text } = await metrics.render();
    return reply.type(contentType).send(text);
  });
}
