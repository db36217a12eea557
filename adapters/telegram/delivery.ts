/**
 * The Telegram delivery the outbox calls once per finished task (also after a restart): the re-hosted MP4 as a
 * multipart `sendVideo` replying to the user's message, with the prompt and the link as caption; the link alone
 * when the file is over Telegram's 50 MB upload limit, or the provider's link (saying it may expire) when the
 * video could not be copied here; the reason in plain words when the task failed.
 * A chat that blocked the bot or no longer exists (403, 400 "chat not found") is given up, not retried.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Api, GrammyError, InputFile } from 'grammy';
import type { Deliver, Task } from '../../src/core/index.js';
import { formatBytes } from '../../src/core/index.js';
import type { Logger } from '../../src/logger.js';
import { TELEGRAM_LIMITS } from './deps.js';
import { type Lang, MESSAGES, type Messages } from './locale.js';
import type { StatusUpdates } from './status-updates.js';
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
    if (!ref) return;
    deps.statusUpdates.forget(task);
    const t =
      MESSAGES[task.origin.locale === 'zh' || task.origin.locale === 'en' ? task.origin.locale : deps.fallbackLang];
    try {
      await sendResult(deps, task, ref, t);
    } catch (error) {
      if (isGone(error)) {
        deps.log.warn({ taskId: task.id, chatId: ref.chatId }, 'the Telegram chat is gone; result not delivered');
        return;
      }
      throw error;
    }
    if (ref.statusMessageId) {
      const done =
        task.status === 'completed'
          ? t.finished(task.id)
          : task.status === 'failed'
            ? t.failedStatus(task.id)
            : t.cancelledStatus(task.id);
      await deps.api.editMessageText(ref.chatId, ref.statusMessageId, done).catch((err) => {
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
    await deps.api.sendMessage(
      ref.chatId,
      t.failed(task.id, (task.error ?? 'unknown error').replace(/[.。]\s*$/, '')),
      replyTo,
    );
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
  const size = (await stat(path)).size;
  if (size > TELEGRAM_LIMITS.uploadBytes) {
    await deps.api.sendMessage(ref.chatId, t.videoLink(link, formatBytes(size)), replyTo);
    return;
  }
  await deps.api.sendChatAction(ref.chatId, 'upload_video').catch(() => undefined);
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

function isGone(error: unknown): boolean {
  return (
    error instanceof GrammyError &&
    (error.error_code === 403 || (error.error_code === 400 && /chat not found/i.test(error.description)))
  );
}
