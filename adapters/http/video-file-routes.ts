/**
 * `GET /videos/<task id>.mp4`: our copies of finished videos, served as static files (HTTP Range supported).
 * A video that retention removed answers 410 Gone with a sentence, so a client knows it is not coming back;
 * any other missing file is a 404.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';

export async function videoFileRoutes(app: FastifyInstance, { service, videosDir, config }: HttpDeps) {
  await app.register(fastifyStatic, { root: videosDir, prefix: '/', decorateReply: false, index: false });
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const file = path.slice(path.lastIndexOf('/') + 1);
    if ((await service.missingVideo(file)) === 'expired') {
      const days = config.VIDEO_RETENTION_DAYS;
      const kept = days > 0 ? ` (videos are kept for ${days} day${days === 1 ? '' : 's'} after they are made)` : '';
      return reply.status(410).send({ detail: `this video has been removed${kept}; generate it again` });
    }
    return reply.status(404).send({ detail: `no video ${file}` });
  });
}
