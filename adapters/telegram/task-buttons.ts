/**
 * Inline buttons on a task's status message and what a press does. The buttons follow the status: Cancel while
 * the task runs; Retry and Again once it failed or was cancelled; Again once it is done. Callback data is
 * `task:<action>:<task id>`. Cancel and Retry are for the task's owner and the bot's admins (the core's
 * `mayControl` rule); Again is for the owner only, as it makes a new task of theirs from their own prompt and
 * image. Anyone else gets a polite answer; a press on a stale message (the task moved on, or is gone) is
 * answered with what is true now and the buttons are brought up to date. Every press is answered, so the
 * button's spinner never hangs.
 */
import { Composer, InlineKeyboard } from 'grammy';
import {
  type Actor,
  Conflict,
  type GenerationService,
  isCoreError,
  isFinal,
  mayControl,
  NotFound,
  type Task,
} from '../../src/core/index.js';
import type { BotContext } from './context.js';
import { CONTROL_MESSAGES, type ControlAction, type ControlMessages } from './control-text.js';
import { toTelegramReply } from './error-reply.js';
import type { Lang } from './locale.js';
import { postStatusMessage, replyRefOf } from './task-submission.js';

const DATA = /^task:(cancel|retry|again):([\w-]{1,40})$/;
/** Telegram shows at most 200 characters in a callback answer. */
const ANSWER_MAX = 200;

/** The buttons a task's status message carries in its current status. */
export function taskKeyboard(task: Task, lang: Lang): InlineKeyboard {
  const t = CONTROL_MESSAGES[lang];
  const button = (action: ControlAction) => InlineKeyboard.text(t.buttons[action], `task:${action}:${task.id}`);
  if (!isFinal(task.status)) return InlineKeyboard.from([[button('cancel')]]);
  if (task.status === 'completed') return InlineKeyboard.from([[button('again')]]);
  return InlineKeyboard.from([[button('retry'), button('again')]]);
}

export function taskButtons(service: GenerationService, adminIds: ReadonlySet<string>): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.callbackQuery(DATA, async (ctx) => {
    const [, action, id] = ctx.match as [string, ControlAction, string];
    const t = CONTROL_MESSAGES[ctx.lang];
    const userId = String(ctx.from.id);
    const answer = (text: string, alert = false) =>
      ctx.answerCallbackQuery({ text: text.slice(0, ANSWER_MAX), show_alert: alert }).catch(() => undefined);
    let task: Task;
    try {
      task = await service.get(id);
    } catch {
      return void (await answer(t.gone));
    }
    const owner: Actor = { platform: 'telegram', userId };
    const actor: Actor = action !== 'again' && adminIds.has(userId) ? { admin: true } : owner;
    if (!mayControl(task, actor)) return void (await answer(t.notOwner(action), true));
    try {
      if (action === 'cancel') {
        await service.cancel(id, actor);
        await answer(t.cancelled(id));
      } else if (action === 'retry') {
        const retried = await service.retry(id, actor);
        await answer(t.retried(id));
        await showWaiting(ctx, service, retried, t);
      } else {
        const again = await pressAgain(ctx, service, task);
        await answer(t.againDone(again.id));
      }
    } catch (error) {
      await answerRefusal(ctx, service, { id, action }, error, answer);
    }
  });
  // Buttons of another shape (an older version's, or forged): answered, never left spinning.
  composer.on('callback_query:data', (ctx) => ctx.answerCallbackQuery().catch(() => undefined));
  return composer;
}

/** A retried task's status message goes back to "waiting", with its Cancel button. */
async function showWaiting(ctx: BotContext, service: GenerationService, task: Task, t: ControlMessages) {
  await ctx
    .editMessageText(t.waiting(task.id, await service.waitInfo(task)), { reply_markup: taskKeyboard(task, ctx.lang) })
    .catch(() => undefined);
}

/** Again: the same prompt and image as a new task of the owner, with its own status message. */
async function pressAgain(ctx: BotContext, service: GenerationService, task: Task): Promise<Task> {
  const ref = replyRefOf(task);
  const chatId = ctx.chat?.id ?? ref?.chatId;
  if (chatId === undefined) throw new NotFound('the chat of this task is unknown');
  const replyTo = ref?.replyToMessageId ?? 0;
  const again = await service.again(
    task.id,
    { platform: 'telegram', userId: String(ctx.from?.id) },
    {
      origin: {
        platform: 'telegram',
        userId: String(ctx.from?.id),
        chatId: String(chatId),
        locale: ctx.lang,
        reply: { chatId, replyToMessageId: replyTo },
      },
      // One press is one task, even when Telegram delivers the update twice.
      requestKey: `telegram:again:${ctx.callbackQuery?.id}`,
    },
  );
  if (!isFinal(again.status)) await postStatusMessage(ctx, service, again, replyTo);
  return again;
}

/** A refused press: the reason as an alert, and the pressed message's buttons set to what the task allows now. */
async function answerRefusal(
  ctx: BotContext,
  service: GenerationService,
  { id, action }: { id: string; action: ControlAction },
  error: unknown,
  answer: (text: string, alert?: boolean) => Promise<unknown>,
) {
  const t = CONTROL_MESSAGES[ctx.lang];
  if (!isCoreError(error)) {
    await answer(ctx.t.internal, true);
    throw error;
  }
  const current = await service.get(id).catch(() => undefined);
  // A cancel or retry refused as a conflict came too late: say what the task is now.
  const stale = error instanceof Conflict && current && action !== 'again';
  const text = stale ? t.stale(current.status) : toTelegramReply(error, ctx.t);
  await answer(text, true);
  if (current) {
    await ctx.editMessageReplyMarkup({ reply_markup: taskKeyboard(current, ctx.lang) }).catch(() => undefined);
  }
}
