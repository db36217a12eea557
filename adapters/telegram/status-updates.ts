/**
 * Keeps each task's status message current: on the service's `started` and `progress` events it edits the message
 * posted when the task was accepted (progress, time left, Cancel button), and `showWaiting` puts a new place in
 * line there (the live queue, see QueueWatch). Edits are throttled per chat (at most one per `intervalMs`, the latest text
 * wins), because Telegram rate-limits edits per chat; delivery calls `forget` so no stale edit lands after the end.
 * A chat is tracked only while it has an edit waiting or its last edit is younger than the interval, so memory
 * follows the chats in progress, not every chat the bot ever served.
 */
import type { Api, InlineKeyboard } from 'grammy';
import type { GenerationService, Task, WaitInfo } from '../../src/core/index.js';
import type { Logger } from '../../src/logger.js';
import { CONTROL_MESSAGES } from './control-text.js';
import { type Lang, MESSAGES } from './locale.js';
import { taskKeyboard } from './task-buttons.js';
import { replyRefOf } from './task-submission.js';

interface ChatQueue {
  lastEditAt: number;
  /** Latest pending edit per task. */
  /** The text may still be read from the store; an edit dropped meanwhile (the task ended) is never sent. */
  pending: Map<string, { messageId: number; text: string | Promise<string>; keyboard: InlineKeyboard }>;
  timer?: NodeJS.Timeout;
}

export class StatusUpdates {
  readonly #api: Api;
  readonly #service: GenerationService;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #fallback: Lang;
  readonly #chats = new Map<number, ChatQueue>();
  readonly #onEvent = (task: Task) => this.#schedule(task);

  constructor(deps: { api: Api; service: GenerationService; log: Logger }, intervalMs: number, fallback: Lang) {
    this.#api = deps.api;
    this.#service = deps.service;
    this.#log = deps.log;
    this.#intervalMs = intervalMs;
    this.#fallback = fallback;
  }

  start(): void {
    this.#service.on('started', this.#onEvent);
    this.#service.on('progress', this.#onEvent);
  }

  stop(): void {
    this.#service.off('started', this.#onEvent);
    this.#service.off('progress', this.#onEvent);
    for (const chat of this.#chats.values()) clearTimeout(chat.timer);
    this.#chats.clear();
  }

  /** How many chats have an entry (edits waiting, or an edit younger than the interval). */
  get trackedChats(): number {
    return this.#chats.size;
  }

  /** Drops a pending edit of this task (its final message is being sent). */
  forget(task: Task): void {
    const ref = replyRefOf(task);
    if (ref) this.#chats.get(ref.chatId)?.pending.delete(task.id);
  }

  /** Shows a waiting task's new place in line (and the wait that goes with it). */
  showWaiting(task: Task, wait: WaitInfo): void {
    this.#edit(task, (lang) => CONTROL_MESSAGES[lang].waiting(task.id, wait));
  }

  #schedule(task: Task): void {
    const wait = this.#service.waitInfo(task).catch(() => ({ etaMs: null }));
    this.#edit(task, async (lang) => {
      const timeLeft = CONTROL_MESSAGES[lang].timeLeft((await wait).etaMs);
      return `${MESSAGES[lang].progress(task)}\n${timeLeft}`;
    });
  }

  #edit(task: Task, text: (lang: Lang) => string | Promise<string>): void {
    const ref = replyRefOf(task);
    if (!ref?.statusMessageId) return;
    const lang = task.origin.locale === 'zh' || task.origin.locale === 'en' ? task.origin.locale : this.#fallback;
    const chat: ChatQueue = this.#chats.get(ref.chatId) ?? { lastEditAt: 0, pending: new Map() };
    this.#chats.set(ref.chatId, chat);
    chat.pending.set(task.id, { messageId: ref.statusMessageId, text: text(lang), keyboard: taskKeyboard(task, lang) });
    if (chat.timer) return;
    const wait = Math.max(0, chat.lastEditAt + this.#intervalMs - Date.now());
    chat.timer = setTimeout(() => void this.#flush(ref.chatId, chat), wait);
    chat.timer.unref();
  }

  async #flush(chatId: number, chat: ChatQueue): Promise<void> {
    chat.timer = undefined;
    const [taskId, edit] = chat.pending.entries().next().value ?? [];
    if (!taskId || !edit) {
      // Nothing left to edit, and the interval since the last edit is over: the chat needs no entry any more.
      if (this.#chats.get(chatId) === chat) this.#chats.delete(chatId);
      return;
    }
    chat.pending.delete(taskId);
    chat.lastEditAt = Date.now();
    try {
      await this.#api.editMessageText(chatId, edit.messageId, await edit.text, { reply_markup: edit.keyboard });
    } catch (err) {
      this.#log.debug({ err, taskId }, 'could not edit a Telegram status message');
    }
    // Looks again after the interval: to send what came meanwhile, or to drop the entry.
    if (!chat.timer) {
      chat.timer = setTimeout(() => void this.#flush(chatId, chat), this.#intervalMs);
      chat.timer.unref();
    }
  }
}
