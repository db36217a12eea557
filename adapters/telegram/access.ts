/**
 * Who may use the Telegram bot: the chats in TELEGRAM_ALLOWED_CHATS (a user's private chat has the user's id) and
 * the TELEGRAM_ADMIN_IDS users anywhere; an empty list lets everyone in. Updates from anywhere else stop here, so
 * nothing is downloaded, stored or sent upstream. A chat that is refused gets one polite reply naming its id (what
 * the owner needs to allow it), then silence for a while: the refusal is remembered in memory, per chat, for
 * `quietMs`. In groups only messages meant for the bot (commands, mentions, replies to it) are answered.
 */
import type { Middleware } from 'grammy';
import type { Logger } from '../../src/logger.js';
import type { BotContext } from './context.js';

export interface AccessOptions {
  allowedChats: ReadonlySet<string>;
  adminIds: ReadonlySet<string>;
  log: Logger;
  /** How long a refused chat is not told again. @defaultValue one hour */
  quietMs?: number;
}

/** Refused chats remembered at most (the oldest is forgotten first), so a flood of strangers cannot grow memory. */
const MAX_REMEMBERED = 10_000;

export function accessGate(options: AccessOptions): Middleware<BotContext> {
  const quietMs = options.quietMs ?? 60 * 60 * 1000;
  const toldUntil = new Map<number, number>();

  const alreadyTold = (chatId: number): boolean => {
    const until = toldUntil.get(chatId);
    if (until !== undefined && until > Date.now()) return true;
    toldUntil.delete(chatId);
    toldUntil.set(chatId, Date.now() + quietMs);
    if (toldUntil.size > MAX_REMEMBERED) toldUntil.delete(toldUntil.keys().next().value as number);
    return false;
  };

  return async (ctx, next) => {
    if (options.allowedChats.size === 0) return next();
    const chatId = ctx.chat?.id;
    if (
      options.adminIds.has(String(ctx.from?.id ?? '')) ||
      (chatId !== undefined && options.allowedChats.has(String(chatId)))
    ) {
      return next();
    }
    if (ctx.callbackQuery) {
      await ctx.answerCallbackQuery({ text: ctx.t.notAllowed(chatId ?? 0) }).catch(() => undefined);
      return;
    }
    if (chatId === undefined || !ctx.msg || !meantForBot(ctx) || alreadyTold(chatId)) return;
    options.log.info(
      { chatId, userId: ctx.from?.id },
      'Telegram: refused a chat that is not in TELEGRAM_ALLOWED_CHATS',
    );
    await ctx.reply(ctx.t.notAllowed(chatId)).catch((err: unknown) => {
      options.log.debug({ err, chatId }, 'could not send the refusal');
    });
  };
}

/** A private message, or in a group a command, a mention of the bot or a reply to one of its messages. */
function meantForBot(ctx: BotContext): boolean {
  if (ctx.chat?.type === 'private') return true;
  const msg = ctx.msg;
  const text = msg?.text ?? msg?.caption ?? '';
  const username = ctx.me?.username;
  return (
    text.startsWith('/') ||
    (username !== undefined && text.toLowerCase().includes(`@${username.toLowerCase()}`)) ||
    (msg?.reply_to_message?.from?.id !== undefined && msg.reply_to_message.from.id === ctx.me?.id)
  );
}
