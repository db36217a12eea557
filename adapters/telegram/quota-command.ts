/**
 * `/quota` for TELEGRAM_ADMIN_IDS: a user's own limits, kept in the database by the core.
 * `/quota <user id>` shows them and today's use; `/quota <user id> <active> <daily>` sets them (0 stops the user);
 * `/quota <user id> reset` forgets the tasks made so far today; `/quota <user id> default` goes back to
 * USER_MAX_ACTIVE / USER_DAILY_LIMIT. Replying to one of the user's messages with `/quota [<active> <daily> | reset | default]` names them instead.
 */
import type { CommandContext } from 'grammy';
import type { GenerationService } from '../../src/core/index.js';
import type { BotContext } from './context.js';

export async function quotaCommand(ctx: CommandContext<BotContext>, service: GenerationService): Promise<void> {
  const args = ctx.match.trim().split(/\s+/).filter(Boolean);
  const repliedTo = ctx.msg.reply_to_message?.from;
  // A reply names the user, so every argument is the action; otherwise the first one is the user id.
  const userId =
    repliedTo && !repliedTo.is_bot ? String(repliedTo.id) : /^\d+$/.test(args[0] ?? '') ? args.shift() : undefined;
  if (!userId) return void (await ctx.reply(ctx.t.quotaUsage));
  const [first, second, ...rest] = args;
  const whole = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined);
  if (first === undefined) {
    await ctx.reply(ctx.t.quotaShow(userId, await service.userQuota('telegram', userId)));
  } else if (first === 'reset' && second === undefined) {
    await ctx.reply(ctx.t.quotaReset(userId, await service.resetUserDaily('telegram', userId)));
  } else if (first === 'default' && second === undefined) {
    const quota = await service.setUserQuota('telegram', userId, { maxActive: null, dailyLimit: null });
    await ctx.reply(ctx.t.quotaShow(userId, quota));
  } else if (whole(first) !== undefined && whole(second) !== undefined && rest.length === 0) {
    const quota = await service.setUserQuota('telegram', userId, {
      maxActive: whole(first)!,
      dailyLimit: whole(second)!,
    });
    await ctx.reply(ctx.t.quotaShow(userId, quota));
  } else {
    await ctx.reply(ctx.t.quotaUsage);
  }
}
