/**
 * Turns a user's request into a task and answers at once: the reply to their message carries the task id, the
 * position among waiting tasks, the estimated wait and a Cancel button. Everything delivery needs later (chat, message to reply to,
 * status message, language) is stored in the task's `origin`, so a restart loses nothing.
 */
import { type GenerationService, isFinal, type Task } from '../../src/core/index.js';
import type { BotContext } from './context.js';
import { CONTROL_MESSAGES } from './control-text.js';
import { parseOptionFlags } from './option-flags.js';
import { taskKeyboard } from './task-buttons.js';

/** What the adapter keeps in `origin.reply` for a Telegram task. */
export interface TelegramReplyRef {
  chatId: number;
  replyToMessageId: number;
  statusMessageId?: number;
  /** Tasks ahead as the status message last showed them (the live queue edits only when this changes). */
  shownAhead?: number;
}

export interface VideoRequest {
  prompt: string;
  image?: Uint8Array;
  /** The user's message the answers reply to. */
  replyToMessageId: number;
}

/**
 * Submits the request — its option flags (`--ratio 9:16`…) taken out of the prompt and passed as options — and
 * posts the status message. Core errors (a bad flag value among them) propagate to the caller's error mapping.
 */
export async function submitVideoRequest(
  ctx: BotContext,
  service: GenerationService,
  request: VideoRequest,
): Promise<Task> {
  const chatId = ctx.chat?.id;
  const userId = ctx.from?.id;
  if (chatId === undefined || userId === undefined) throw new Error('a video request needs a chat and a user');
  const reply: TelegramReplyRef = { chatId, replyToMessageId: request.replyToMessageId };
  const { prompt, options } = parseOptionFlags(request.prompt);
  await ctx.replyWithChatAction('typing').catch(() => undefined);
  const task = await service.submit({
    prompt,
    options,
    ...(request.image && { image: { bytes: request.image } }),
    origin: {
      platform: 'telegram',
      userId: String(userId),
      chatId: String(chatId),
      locale: ctx.lang,
      reply: { ...reply },
    },
    requestKey: `telegram:${chatId}:${request.replyToMessageId}`,
  });
  // A task that already ended (its upstream refused it for good) is answered by the outbox's delivery alone.
  if (isFinal(task.status)) return task;
  return postStatusMessage(ctx, service, task, request.replyToMessageId);
}

/**
 * Posts a task's status message (place in line, estimated wait, Cancel button) in reply to the user's message,
 * and records it on the task with the place shown, so live-queue edits start from what the user saw.
 */
export async function postStatusMessage(
  ctx: BotContext,
  service: GenerationService,
  task: Task,
  replyToMessageId: number,
): Promise<Task> {
  const wait = await service.waitInfo(task);
  const status = await ctx.reply(CONTROL_MESSAGES[ctx.lang].accepted(task.id, wait), {
    ...(replyToMessageId && {
      reply_parameters: { message_id: replyToMessageId, allow_sending_without_reply: true },
    }),
    reply_markup: taskKeyboard(task, ctx.lang),
  });
  return service.updateOrigin(task.id, { statusMessageId: status.message_id, shownAhead: wait.ahead });
}

/** Reads the reply reference stored with a task; undefined for tasks that did not come from Telegram. */
export function replyRefOf(task: Task): TelegramReplyRef | undefined {
  const reply = task.origin.reply as Partial<TelegramReplyRef> | undefined;
  const chatId = Number(reply?.chatId ?? task.origin.chatId);
  if (!Number.isFinite(chatId) || task.origin.platform !== 'telegram') return undefined;
  return {
    chatId,
    replyToMessageId: Number(reply?.replyToMessageId ?? 0),
    ...(reply?.statusMessageId !== undefined && { statusMessageId: Number(reply.statusMessageId) }),
    ...(typeof reply?.shownAhead === 'number' && { shownAhead: reply.shownAhead }),
  };
}
