/**
 * What every user can do: /start, /help, /video <prompt>, plain text in private chats (or a mention in groups) as a
 * text-to-video prompt, /mytasks, /cancel <id> and /retry <id> for their own tasks. Errors go to `bot.catch`.
 */

import { Composer } from 'grammy';
import type { GenerationService } from '../../src/core/index.js';
import type { BotContext } from './context.js';
import { withoutMention } from './mention.js';
import { submitVideoRequest } from './task-submission.js';
import { taskLine } from './task-text.js';

export function userCommands(service: GenerationService): Composer<BotContext> {
  const composer = new Composer<BotContext>();

  composer.command('start', (ctx) => ctx.reply(ctx.t.start));
  composer.command('help', (ctx) => {
    const options = ctx.t.optionsHelp(service.capabilities);
    return ctx.reply(options ? `${ctx.t.help}\n\n${options}` : ctx.t.help);
  });

  composer.command('video', async (ctx) => {
    const prompt = ctx.match.trim();
    if (!prompt) return void (await ctx.reply(ctx.t.videoUsage));
    await submitVideoRequest(ctx, service, { prompt, replyToMessageId: ctx.msg.message_id });
  });

  composer.command('mytasks', async (ctx) => {
    const { tasks } = await service.list({ platform: 'telegram', userId: String(ctx.from?.id), limit: 10 });
    await ctx.reply(
      tasks.length === 0 ? ctx.t.noTasks : [ctx.t.yourTasks, ...tasks.map((t) => taskLine(t))].join('\n'),
    );
  });

  composer.command('cancel', async (ctx) => {
    const id = ctx.match.trim();
    if (!id) return void (await ctx.reply(ctx.t.cancelUsage));
    const task = await service.cancel(id, { platform: 'telegram', userId: String(ctx.from?.id) });
    await ctx.reply(ctx.t.cancelDone(task.id));
  });

  // Owners retry their own failed or cancelled tasks (the core's owner-or-admin rule); admins are answered by the
  // admin commands first, for any task.
  composer.command('retry', async (ctx) => {
    const id = ctx.match.trim();
    if (!id) return void (await ctx.reply(ctx.t.adminUsage('retry')));
    const task = await service.retry(id, { platform: 'telegram', userId: String(ctx.from?.id) });
    await ctx.reply(ctx.t.retryDone(task.id));
  });

  composer.on('message:text', async (ctx, next) => {
    const text = ctx.msg.text;
    if (text.startsWith('/')) {
      if (ctx.chat.type === 'private') await ctx.reply(ctx.t.unknownCommand);
      return;
    }
    const prompt = ctx.chat.type === 'private' ? text.trim() : withoutMention(text, ctx.me.username);
    if (prompt === undefined) return next();
    if (!prompt) return void (await ctx.reply(ctx.t.videoUsage));
    await submitVideoRequest(ctx, service, { prompt, replyToMessageId: ctx.msg.message_id });
  });

  return composer;
}
