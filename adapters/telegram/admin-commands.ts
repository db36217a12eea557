/**
 * Commands for the ids in TELEGRAM_ADMIN_IDS: /tasks [status] [page] (everyone's recent tasks, paged), /task <id>
 * (full detail), /retry <id>, /cancel <id> (any task), /stats (with the upstream sessions' health) and /quota (a
 * user's own limits, see quota-command.ts). Everyone else gets a polite refusal for the admin-only commands (and
 * their own /cancel and /retry from the user commands); nothing about other users leaks.
 */
import { Composer } from 'grammy';
import { type GenerationService, TASK_STATUSES, type TaskStatus } from '../../src/core/index.js';
import type { BotContext } from './context.js';
import { quotaCommand } from './quota-command.js';
import { taskDetail, taskLine } from './task-text.js';

const PAGE_SIZE = 10;
const ADMIN_ONLY = ['tasks', 'task', 'stats', 'quota'];

export function adminCommands(
  service: GenerationService,
  options: {
    adminIds: ReadonlySet<string>;
    publicBaseUrl: string;
    onError: (error: unknown, ctx: BotContext) => Promise<void>;
  },
): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const admin = composer
    .filter((ctx) => options.adminIds.has(String(ctx.from?.id ?? '')))
    .errorBoundary((err) => options.onError(err.error, err.ctx));

  admin.command('tasks', async (ctx) => {
    const [first, second] = ctx.match.trim().split(/\s+/).filter(Boolean);
    const status = TASK_STATUSES.includes(first as TaskStatus) ? (first as TaskStatus) : undefined;
    const pageText = status ? second : first;
    if ((first && !status && !/^\d+$/.test(first)) || (pageText && !/^\d+$/.test(pageText))) {
      return void (await ctx.reply(ctx.t.tasksUsage));
    }
    const page = Math.max(1, Number(pageText ?? 1));
    const { total, tasks } = await service.list({
      ...(status && { status }),
      limit: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    });
    if (tasks.length === 0) return void (await ctx.reply(ctx.t.noneFound));
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const more = page < pages ? `\n/tasks ${status ? `${status} ` : ''}${page + 1}` : '';
    await ctx.reply([ctx.t.page(page, pages, total), ...tasks.map((t) => taskLine(t, true))].join('\n') + more);
  });

  admin.command('task', async (ctx) => {
    const id = ctx.match.trim();
    if (!id) return void (await ctx.reply(ctx.t.adminUsage('task')));
    await ctx.reply(taskDetail(await service.get(id), options.publicBaseUrl, await service.deliveries(id)));
  });

  admin.command('retry', async (ctx) => {
    const id = ctx.match.trim();
    if (!id) return void (await ctx.reply(ctx.t.adminUsage('retry')));
    const task = await service.retry(id, { admin: true });
    await ctx.reply(ctx.t.retryDone(task.id));
  });

  admin.command('cancel', async (ctx) => {
    const id = ctx.match.trim();
    if (!id) return void (await ctx.reply(ctx.t.adminUsage('cancel')));
    const task = await service.cancel(id, { admin: true });
    await ctx.reply(ctx.t.cancelDone(task.id));
  });

  admin.command('stats', async (ctx) => {
    const { byStatus, provider, accounts } = await service.stats();
    const lines = accounts.length > 0 ? ['', ctx.t.accountsTitle, ...accounts.map(ctx.t.accountLine)] : [];
    await ctx.reply([ctx.t.stats(byStatus, provider), ...lines].join('\n'));
  });

  admin.command('quota', (ctx) => quotaCommand(ctx, service));

  composer.command(ADMIN_ONLY, (ctx) => ctx.reply(ctx.t.adminOnly));
  return composer;
}
