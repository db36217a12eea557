/**
 * The admin pages and actions: overview, task list, one task (and its image), sessions; Retry and Cancel go through
 * the service as an admin (the same calls as the bots' admin commands), a session re-check through the provider.
 * An action answers with a redirect back to its page (303, so a reload does not post again) carrying what was done.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { inspectImage, isCoreError, NotFound } from '../../src/core/index.js';
import type { WebDeps } from './deps.js';
import { trusted } from './html.js';
import type { PageContext } from './index.js';
import { layout, type PageFrame } from './layout.js';
import { historyReader, overviewPage } from './pages/overview.js';
import { sessionsPage, sessionViews } from './pages/sessions.js';
import { taskPage } from './pages/task.js';
import { type TaskListQuery, tasksPage } from './pages/tasks.js';

type RouteDeps = WebDeps & { context: (req: FastifyRequest) => PageContext };

const send = (reply: FastifyReply, frame: PageFrame, body: { text: string }, status = 200) =>
  reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(layout(frame, trusted(body.text)));

export async function pageRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const history = historyReader(deps.reads);
  app.get('/', async (req, reply) => {
    const c = deps.context(req);
    return send(
      reply,
      c.frame(c.t('nav.overview'), 'overview'),
      await overviewPage(deps, c.t, (deps.now ?? Date.now)(), history),
    );
  });

  app.get<{ Querystring: TaskListQuery }>('/tasks', async (req, reply) => {
    const c = deps.context(req);
    return send(reply, c.frame(c.t('tasks.title'), 'tasks'), await tasksPage(deps, c.t, req.query));
  });

  app.get<{ Params: { id: string }; Querystring: { done?: string; error?: string } }>(
    '/tasks/:id',
    async (req, reply) => {
      const c = deps.context(req);
      const task = await find(deps, req.params.id);
      if (!task)
        return send(
          reply,
          { ...c.frame(c.t('error.notFound'), 'tasks'), error: c.t('error.notFound') },
          { text: '' },
          404,
        );
      const frame = c.frame(c.t('task.title', { id: task.id }), 'tasks');
      const done =
        req.query.done === 'cancel' || req.query.done === 'retry' ? c.t(`task.done.${req.query.done}`) : undefined;
      return send(
        reply,
        { ...frame, ...(done && { flash: done }), ...(req.query.error && { error: req.query.error.slice(0, 300) }) },
        await taskPage(deps, c.t, task, c.session.csrf),
      );
    },
  );

  app.get<{ Params: { id: string } }>('/tasks/:id/image', async (req, reply) => {
    const path = (await find(deps, req.params.id))?.imagePath;
    const bytes = path ? await readFile(path).catch(() => undefined) : undefined;
    if (!bytes) return reply.status(404).type('text/plain').send('no image');
    const { mime } = inspectImage(bytes, Number.POSITIVE_INFINITY);
    return reply.type(mime).header('cache-control', 'private, max-age=300').send(bytes);
  });

  for (const action of ['cancel', 'retry'] as const) {
    app.post<{ Params: { id: string } }>(`/tasks/:id/${action}`, async (req, reply) => {
      const back = `/admin/tasks/${encodeURIComponent(req.params.id)}`;
      try {
        await deps.service[action](req.params.id, { admin: true });
        deps.log.info({ task: req.params.id, action }, 'admin page: task action');
        return reply.redirect(`${back}?done=${action}`, 303);
      } catch (error) {
        if (!isCoreError(error) || error instanceof NotFound) throw error;
        return reply.redirect(`${back}?error=${encodeURIComponent(error.message)}`, 303);
      }
    });
  }

  app.get<{ Querystring: { done?: string } }>('/sessions', async (req, reply) => {
    const c = deps.context(req);
    const frame = c.frame(c.t('nav.sessions'), 'sessions');
    const recheck = req.query.done && sessionViews(deps).find((s) => s.id === req.query.done);
    const flash = recheck ? c.t('sessions.done.recheck', { label: recheck.label, state: recheck.state }) : undefined;
    return send(
      reply,
      { ...frame, ...(flash && { flash }) },
      await sessionsPage(deps, c.t, c.session.csrf, (deps.now ?? Date.now)()),
    );
  });

  app.post<{ Params: { id: string } }>('/sessions/:id/recheck', async (req, reply) => {
    const { id } = req.params;
    if (!deps.provider.recheck || !sessionViews(deps).some((s) => s.id === id)) throw new NotFound(`no session ${id}`);
    await deps.provider.recheck(id);
    deps.log.info({ session: id }, 'admin page: session re-checked');
    return reply.redirect(`/admin/sessions?done=${encodeURIComponent(id)}`, 303);
  });
}

async function find(deps: WebDeps, id: string) {
  try {
    return await deps.service.get(id);
  } catch (error) {
    if (error instanceof NotFound) return undefined;
    throw error;
  }
}
