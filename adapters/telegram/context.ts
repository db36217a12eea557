/**
 * The bot's context: grammY's `Context` plus a locale flavor, so every handler answers in the user's language
 * through `ctx.t` without looking it up again.
 */
import type { Context } from 'grammy';
import type { Lang, Messages } from './locale.js';

export interface LocaleFlavor {
  /** The language replies use, from the user's `language_code` or DEFAULT_LOCALE. */
  lang: Lang;
  t: Messages;
}

export type BotContext = Context & LocaleFlavor;
