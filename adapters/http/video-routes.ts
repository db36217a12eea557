/**
 * The seed's `/api/video` routes, present in its code though not in its guide: one retrieval attempt now
 * (`get_url`), a task or a conversation's tasks (`task_status`), and every task (`all_tasks`); lists come in pages
 * (see `PAGE` in schemas.ts).
 */
import type { FastifyInstance } from 'fastify';
import { isCoreError, NotFound } from '../../src/core/index.js';
import type { HttpDeps } from './deps.js';
import { allTasksSchema, getUrlSchema, taskStatusSchema } from './schemas.js';
import { toSeedTask } from './seed-task.js';

export async function videoRoutes(app: FastifyInstance, { service, config }: HttpDeps) {
  const seed = (task: Parameters<typeof toSeedTask>[0]) => toSeedTask(task, config.PUBLIC_BASE_URL);

  app.get<{ Querystring: { conversation_id: string; message_id: string; timeout: number } }>(
    '/get_url',
    { schema: getUrlSchema },
    async (req) => {
      const { conversation_id, message_id, timeout } = req.query;
      const task = await service.getBySeedIds(conversation_id, message_id);
      const result = await Promise.race([
        service.probe(task),
        new Promise<{ state: 'timeout' }>((resolve) =>
          setTimeout(() => resolve({ state: 'timeout' }), timeout).unref(),
        ),
      ]).catch((error: unknown) => {
        // Only the core's own errors are meant for clients; anything else stays in the log.
        if (!isCoreError(error)) req.log.warn({ err: error }, 'get_url: the look failed');
        const message = isCoreError(error) ? error.message : 'could not look for the video now; try again later';
        return { state: 'error' as const, message };
      });
      const urls = result.state === 'succeeded' ? result.videoUrls.filter((u) => !u.startsWith('file:')) : [];
      // Read again: the probe may have completed the task (a local video is re-hosted then).
      const known = seed(await service.getBySeedIds(conversation_id, message_id)).video_urls;
      const video_urls = [...new Set([...known, ...urls])];
      const error =
        video_urls.length > 0
          ? null
          : result.state === 'failed'
            ? result.reason
            : result.state === 'error'
              ? result.message
              : 'the video is not ready yet';
      return { success: video_urls.length > 0, conversation_id, video_count: video_urls.length, video_urls, error };
    },
  );

  app.get<{ Querystring: { conversation_id: string; message_id?: string; limit: number; offset: number } }>(
    '/task_status',
    { schema: taskStatusSchema },
    async (req) => {
      const { conversation_id, message_id, limit, offset } = req.query;
      if (message_id) return seed(await service.getBySeedIds(conversation_id, message_id));
      const { total, tasks } = await service.list({ conversationId: conversation_id, limit, offset });
      if (total === 0) throw new NotFound('未找到该视频任务');
      return { conversation_id, total, tasks: tasks.map(seed) };
    },
  );

  app.get<{ Querystring: { limit: number; offset: number } }>('/all_tasks', { schema: allTasksSchema }, async (req) => {
    const { total, tasks } = await service.list({ limit: req.query.limit, offset: req.query.offset });
    return { total, tasks: tasks.map(seed) };
  });
}
