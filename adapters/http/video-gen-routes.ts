/**
 * The seed's `/api/video-gen` routes: generate, status and list, field for field, plus cancel and retry by seed ids.
 * `image_url` is downloaded with the image size limit, a time limit, http(s) only and no private addresses;
 * `callback_url` passes the same guard and is POSTed the task when it ends (callbacks.ts).
 */
import type { FastifyInstance } from 'fastify';
import { downloadLimited, InvalidInput, type SeedImport, type TaskStatus } from '../../src/core/index.js';
import { checkCallbackUrl } from './callbacks.js';
import type { HttpDeps } from './deps.js';
import { cancelSchema, generateSchema, importSchema, listSchema, retrySchema, statusSchema } from './schemas.js';
import { estimatedTime, toSeedTask } from './seed-task.js';

interface SeedFileTask {
  conversation_id: string;
  message_id: string;
  status: SeedImport['status'];
  video_urls: string[];
  retry_count: number;
  max_retries: number;
  error: string | null;
}

interface GenerateBody {
  prompt: string;
  image_attachment?: { key: string } | null;
  image_url?: string | null;
  guest?: boolean;
  callback_url?: string | null;
  conversation_id?: string | null;
  section_id?: string | null;
  ratio?: string;
  duration?: number;
  resolution?: string;
}

export async function videoGenRoutes(app: FastifyInstance, { service, config }: HttpDeps) {
  app.post<{ Body: GenerateBody; Headers: { 'idempotency-key'?: string } }>(
    '/generate',
    { schema: generateSchema },
    async (req, reply) => {
      const { prompt, image_attachment, image_url, guest, callback_url } = req.body;
      if (image_attachment && image_url) throw new InvalidInput('send either image_attachment or image_url, not both');
      if (typeof image_url === 'string' && !image_url.trim()) {
        throw new InvalidInput('image_url is empty: give the http(s) URL of the image, or leave image_url out');
      }
      // Checked before anything is kept: a bad URL is a 400 now, not a delivery that gives up later.
      const callbackUrl =
        typeof callback_url === 'string' ? await checkCallbackUrl(callback_url.trim(), config) : undefined;
      const bytes = image_url
        ? await downloadLimited(image_url, {
            maxBytes: config.MAX_IMAGE_BYTES,
            timeoutMs: config.DOWNLOAD_TIMEOUT_S * 1000,
            allowPrivate: config.IMAGE_URL_ALLOW_PRIVATE,
            what: 'image_url',
          }).catch((error: unknown) => {
            if (error instanceof InvalidInput) throw error;
            throw new InvalidInput(error instanceof Error ? error.message : 'could not download image_url');
          })
        : undefined;
      const task = await service.submit({
        prompt,
        guest,
        ...(bytes && { image: { bytes } }),
        ...(image_attachment && { imageKey: image_attachment.key }),
        options: { ratio: req.body.ratio, durationS: req.body.duration, resolution: req.body.resolution },
        origin: { platform: 'http', userId: 'api', ...(callbackUrl && { reply: { callbackUrl } }) },
        ...(req.headers['idempotency-key'] && { requestKey: `http:${req.headers['idempotency-key']}` }),
      });
      if (task.status === 'failed') {
        const code = task.errorReason?.code;
        return reply.status(502).send({ detail: task.error ?? 'video generation failed', ...(code && { code }) });
      }
      return {
        success: true,
        message: '视频生成任务已创建',
        conversation_id: task.conversationId,
        message_id: task.messageId,
        section_id: task.sectionId,
        task_status: task.status, // 'pending' for a new task; a re-sent request gets its task's current status
        estimated_time: estimatedTime(service.estimateWindowS()),
      };
    },
  );

  app.get<{ Querystring: { conversation_id: string; message_id: string } }>(
    '/status',
    { schema: statusSchema },
    async (req) => ({
      success: true,
      task: toSeedTask(
        await service.getBySeedIds(req.query.conversation_id, req.query.message_id),
        config.PUBLIC_BASE_URL,
      ),
    }),
  );

  // The same service calls the bots' admins use; the bearer token (required beyond loopback) is the operator's key.
  type SeedIds = { Body: { conversation_id: string; message_id: string } };
  app.post<SeedIds>('/cancel', { schema: cancelSchema }, async (req) => {
    const task = await service.getBySeedIds(req.body.conversation_id, req.body.message_id);
    return { success: true, task: toSeedTask(await service.cancel(task.id, { admin: true }), config.PUBLIC_BASE_URL) };
  });
  app.post<SeedIds>('/retry', { schema: retrySchema }, async (req) => {
    const task = await service.getBySeedIds(req.body.conversation_id, req.body.message_id);
    return { success: true, task: toSeedTask(await service.retry(task.id, { admin: true }), config.PUBLIC_BASE_URL) };
  });

  app.get<{ Querystring: { conversation_id?: string; status?: TaskStatus; limit: number; offset: number } }>(
    '/list',
    { schema: listSchema },
    async (req) => {
      const { conversation_id, status, limit, offset } = req.query;
      const { total, tasks } = await service.list({ conversationId: conversation_id, status, limit, offset });
      return { success: true, total, tasks: tasks.map((t) => toSeedTask(t, config.PUBLIC_BASE_URL)) };
    },
  );

  app.post<{ Body: Record<string, SeedFileTask> }>(
    '/import',
    { schema: importSchema, bodyLimit: 20 * 1024 * 1024 },
    async (req) => {
      let imported = 0;
      for (const t of Object.values(req.body)) {
        const task = await service.importSeedTask({
          conversationId: t.conversation_id,
          messageId: t.message_id,
          status: t.status,
          videoUrls: t.video_urls,
          attempts: t.retry_count,
          maxAttempts: t.max_retries,
          error: t.error,
        });
        if (task) imported += 1;
      }
      return { success: true, imported, skipped: Object.keys(req.body).length - imported };
    },
  );
}
