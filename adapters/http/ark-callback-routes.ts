/**
 * `POST /api/ark/callback`: Ark calls it (ARK_CALLBACK=1) when a task's status changes. Ark cannot send our bearer
 * token, so the route is open, and it trusts nothing but the task id: an id that is not one of our started Ark
 * tasks gets 404, and for ours the scheduler looks at the task on Ark now, reading the real status from Ark.
 * At worst a caller who guessed an id makes us look early; polling stays the safety net if a callback is lost.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';
import { arkCallbackSchema } from './schemas.js';

export async function arkCallbackRoutes(app: FastifyInstance, { service }: HttpDeps) {
  app.post<{ Body: { id: string } }>('/callback', { schema: arkCallbackSchema }, async (req) => {
    await service.lookNow(req.body.id);
    return { success: true };
  });
}
