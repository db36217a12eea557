/**
 * Routes for operators, hidden from the API docs: `/healthz` (is the service up, which provider) and `/metrics`
 * (task counts by status, bytes kept on disk and process memory, in the Prometheus text format).
 */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';

export async function opsRoutes(app: FastifyInstance, { service }: HttpDeps) {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true, provider: service.providerName }));

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const { byStatus } = service.stats();
    const kept = await service.storageUsage();
    const lines = [
      '# HELP video_tasks Tasks by status.',
      '# TYPE video_tasks gauge',
      ...Object.entries(byStatus).map(([status, n]) => `video_tasks{status="${status}"} ${n}`),
      "# HELP video_storage_bytes Bytes kept under DATA_DIR: re-hosted videos, tasks' images, uploads.",
      '# TYPE video_storage_bytes gauge',
      ...Object.entries(kept).map(([kind, bytes]) => `video_storage_bytes{kind="${kind}"} ${bytes}`),
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    ];
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
}
