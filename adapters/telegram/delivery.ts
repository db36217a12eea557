/**
 * The Telegram delivery the outbox calls once per finished task (also after a restart): the re-hosted MP4 as a
 * multipart `sendVideo` replying to the user's message, with the prompt and the link as caption; the link alone
 * when the file is over Telegram's 50 MB upload limit, or the provider's link (saying it may expire) when the
 * video could not be copied here; the reason in plain words when the task failed.
 * The status message then says how it ended, with the buttons that fit (Retry and Again, or Again).
 * A chat that blocked the bot or no longer exists (403, 400 "chat not found") is given up, not retried.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Api, GrammyError, InputFile } from 'grammy';
import type { AdminAlert, Deliver, Task } from '../../src/core/index.js';
import { DeliveryRefused, formatBytes } from '../../src/core/index.js';
import type { Logger } from '../../src/logger.js';
import { TELEGRAM_LIMITS } from './deps.js';
import { type Lang, MESSAGES, type Messages } from './locale.js';
import type { StatusUpdates } from './status-updates.js';
import { taskKeyboard } from './task-buttons.js';
import { replyRefOf, type TelegramReplyRef } from './task-submission.js';

export interface DeliveryDeps {
  api: Api;
  log: Logger;
  statusUpdates: StatusUpdates;
  videosDir: string;
  publicBaseUrl: string;
  fallbackLang: Lang;
}

export function createDelivery(deps: DeliveryDeps): Deliver {
  return async (task) => {
    const ref = replyRefOf(task);
    if (!ref) throw new DeliveryRefused('the task has no Telegram chat to answer');
    deps.statusUpdates.forget(task);
    const lang = task.origin.locale === 'zh' || task.origin.locale === 'en' ? task.origin.locale : deps.fallbackLang;
    const t = MESSAGES[lang];
    await sendResult(deps, task, ref, t).catch(refusalAsDeliveryRefused);
    if (ref.statusMessageId) {
      const done =
        task.status === 'completed'
          ? t.finished(task.id)
          : task.status === 'failed'
            ? t.failedStatus(task.id)
            : t.cancelledStatus(task.id);
      const keyboard = { reply_markup: taskKeyboard(task, lang) };
      await deps.api.editMessageText(ref.chatId, ref.statusMessageId, done, keyboard).catch((err) => {
        deps.log.debug({ err, taskId: task.id }, 'could not edit the final status message');
      });
    }
  };
}

async function sendResult(deps: DeliveryDeps, task: Task, ref: TelegramReplyRef, t: Messages): Promise<void> {
  const replyTo = ref.replyToMessageId
    ? { reply_parameters: { message_id: ref.replyToMessageId, allow_sending_without_reply: true } }
    : {};
  if (task.status === 'failed') {
    const why = task.errorReason ? t.reason(task.errorReason) : (task.error ?? 'unknown error');
    await deps.api.sendMessage(ref.chatId, t.failed(task.id, why.replace(/[.。]\s*$/, '')), replyTo);
    return;
  }
  if (task.status === 'cancelled') {
    await deps.api.sendMessage(ref.chatId, t.cancelled(task.id), replyTo);
    return;
  }
  if (!task.videoFile) {
    const upstream = task.videoUrls[0];
    await deps.api.sendMessage(
      ref.chatId,
      upstream ? t.upstreamLink(task.id, upstream) : t.noVideoFile(task.id),
      replyTo,
    );
    return;
  }
  const path = join(deps.videosDir, task.videoFile);
  const link = `${deps.publicBaseUrl}/videos/${task.videoFile}`;
  const size = await stat(path).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined) {
    await deps.api.sendMessage(ref.chatId, t.noVideoFile(task.id), replyTo);
    return;
  }
  if (size > TELEGRAM_LIMITS.uploadBytes) {
    await deps.api.sendMessage(ref.chatId, t.videoLink(link, formatBytes(size)), replyTo);
    return;
  }
  // Not awaited: a cosmetic call must not hold the upload up (auto-retry spends 45 s on it while Telegram answers 5xx).
  void deps.api.sendChatAction(ref.chatId, 'upload_video').catch(() => undefined);
  await deps.api.sendVideo(ref.chatId, new InputFile(path, `${task.id}.mp4`), {
    caption: caption(task.prompt, link),
    supports_streaming: true,
    ...replyTo,
  });
}

/** The prompt, shortened to fit Telegram's caption limit, then the link on its own line. */
function caption(prompt: string, link: string): string {
  const room = TELEGRAM_LIMITS.captionChars - link.length - 2;
  const text = prompt.length > room ? `${prompt.slice(0, Math.max(0, room - 1))}…` : prompt;
  return `${text}\n\n${link}`;
}

/** Sends a provider incident to one admin's chat (TELEGRAM_ADMIN_IDS), in DEFAULT_LOCALE. */
export function createAlertDelivery(deps: Pick<DeliveryDeps, 'api' | 'fallbackLang'>) {
  return async ({ recipient, incident }: AdminAlert): Promise<void> => {
    await deps.api.sendMessage(recipient, MESSAGES[deps.fallbackLang].alert(incident)).catch(refusalAsDeliveryRefused);
  };
}

/** 400 answers that mean the chat itself is gone or closed to the bot, not that this one message was wrong. */
const CHAT_GONE =
  /chat not found|user not found|peer_id_invalid|bot was kicked|bot was blocked|user is deactivated|have no rights|not enough rights|chat_write_forbidden/i;

/**
 * Telegram's permanent "no" for this chat (403: blocked, kicked, deactivated; 400: chat not found…) becomes
 * `DeliveryRefused`, so it is recorded and not retried; anything else is rethrown for a later try.
 */
function refusalAsDeliveryRefused(error: unknown): never {
  if (
    error instanceof GrammyError &&
    (error.error_code === 403 || (error.error_code === 400 && CHAT_GONE.test(error.description)))
  ) {
    throw new DeliveryRefused(`Telegram answered ${error.error_code}: ${error.description}`, { cause: error });
  }
  throw error;
}
