/**
 * `GET /api/sessions`: the health of the provider's upstream sessions (Doubao's pool: id, label, guest or logged
 * in, ok / cooling / paused / expired, since when, until when, Doubao's last code; the pages the Doubao page
 * transport keeps open and which kinds of call each session sends from its page), for operators. The reply
 * schema lists only those fields, so no cookie can leak.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';

const sessionsSchema = {
  summary: 'Health of the upstream sessions (never their cookies)',
  tags: ['ops'],
  response: {
    200: {
      type: 'object',
      properties: {
        success: { type: 'boolean' },
        provider: { type: 'string' },
        sessions: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              label: { type: 'string' },
              guest: { type: 'boolean' },
              state: { type: 'string', enum: ['ok', 'cooling', 'paused', 'expired'] },
              since: { type: 'string', description: 'when the state began (ISO 8601)' },
              until: { type: 'string', description: 'until when a cooling or paused session rests' },
              lastCode: { type: 'string', description: "Doubao's last code about the session" },
            },
            required: ['id', 'guest', 'state'],
          },
        },
        pages: {
          type: 'object',
          properties: { open: { type: 'integer' }, opened: { type: 'integer' } },
          required: ['open', 'opened'],
        },
        pageRoutes: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
      },
      required: ['success', 'provider', 'sessions'],
    },
  },
} as const;

export async function sessionRoutes(app: FastifyInstance, { service, providerStatus }: HttpDeps) {
  app.get('/', { schema: sessionsSchema }, async () => {
    const status = providerStatus?.() ?? {};
    return {
      success: true,
      provider: service.providerName,
      sessions: (status.sessions as unknown[] | undefined) ?? [],
      ...(status.pages !== undefined && { pages: status.pages, pageRoutes: status.pageRoutes }),
    };
  });
}
