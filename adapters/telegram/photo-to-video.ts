/**
 * Image-to-video from photos: a photo (largest size) or an image sent as a document, with its caption as the
 * prompt. Without a caption the bot asks for a prompt, and a reply to that question continues the request: the
 * photo waiting for its prompt is kept by the core in the database for PENDING_PHOTO_TTL_MS, so a restart in
 * between loses nothing (Telegram's file ids stay valid; the photo is downloaded only once the prompt arrives).
 * In an album only the first item carries the caption: that one becomes the task and a note says the rest are
 * not used; an album without any caption gets the question once.
 */

import { Composer } from 'grammy';
import type { Message } from 'grammy/types';
import type { GenerationService } from '../../src/core/index.js';
import type { Logger } from '../../src/logger.js';
import type { BotContext } from './context.js';
import { withoutMention } from './mention.js';
import { submitVideoRequest } from './task-submission.js';
import { downloadTelegramFile, type FileRef, type FileSource } from './telegram-file.js';

/** What is kept while a photo waits for its prompt (under the question's `chat:message` key, for its user). */
interface PendingPhoto {
  file: FileRef;
  photoMessageId: number;
}

/** How long a photo waits for its prompt. */
export const PENDING_PHOTO_TTL_MS = 30 * 60 * 1000;

interface AlbumState {
  captioned: boolean;
  asked: boolean;
  timer?: NodeJS.Timeout;
}

/** Albums (a second's business) are remembered in memory only, and only this many (oldest dropped first). */
const MAX_REMEMBERED = 500;

export function photoToVideo(
  service: GenerationService,
  source: FileSource,
  options: { albumWaitMs: number; log: Logger },
): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const albums = new Map<string, AlbumState>();

  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.set(key, value);
    if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as string);
  };

  const start = async (ctx: BotContext, file: FileRef, prompt: string, photoMessageId: number) => {
    const image = await downloadTelegramFile(ctx.api, source, file);
    await submitVideoRequest(ctx, service, { prompt, image, replyToMessageId: photoMessageId });
  };

  const askForPrompt = async (ctx: BotContext, file: FileRef, photoMessageId: number) => {
    const question = await ctx.reply(ctx.t.askPrompt, {
      reply_parameters: { message_id: photoMessageId, allow_sending_without_reply: true },
      reply_markup: { force_reply: true, selective: true },
    });
    const pending: PendingPhoto = { file, photoMessageId };
    await service.keepPendingPhoto(
      `${question.chat.id}:${question.message_id}`,
      String(ctx.from?.id ?? 0),
      pending,
      PENDING_PHOTO_TTL_MS,
    );
  };

  const onImage = async (ctx: BotContext, msg: Message, file: FileRef) => {
    // A group caption addressed to the bot (`@bot a kite`) is a prompt without the mention; only a mention: no prompt.
    const caption = withoutMention(msg.caption ?? '', ctx.me.username) ?? msg.caption?.trim();
    const group = msg.media_group_id;
    if (group) {
      const album = albums.get(group) ?? { captioned: false, asked: false };
      remember(albums, group, album);
      if (caption) {
        album.captioned = true;
        clearTimeout(album.timer);
        await start(ctx, file, caption, msg.message_id);
        await ctx.reply(ctx.t.albumNote);
      } else if (!album.captioned && !album.asked && !album.timer) {
        album.timer = setTimeout(() => {
          album.timer = undefined;
          if (album.captioned) return;
          album.asked = true;
          askForPrompt(ctx, file, msg.message_id).catch((err: unknown) => {
            options.log.warn({ err, updateId: ctx.update.update_id }, 'could not ask for an album prompt');
          });
        }, options.albumWaitMs);
        album.timer.unref();
      }
      return;
    }
    if (caption) await start(ctx, file, caption, msg.message_id);
    else await askForPrompt(ctx, file, msg.message_id);
  };

  composer.on('message:photo', async (ctx) => {
    const largest = ctx.msg.photo.at(-1);
    if (!largest) return;
    await onImage(ctx, ctx.msg, { fileId: largest.file_id, ...(largest.file_size && { fileSize: largest.file_size }) });
  });

  composer.on('message:document', async (ctx, next) => {
    const doc = ctx.msg.document;
    if (!doc.mime_type?.startsWith('image/')) {
      if (ctx.chat.type !== 'private') return next();
      return void (await ctx.reply(ctx.t.notImage));
    }
    await onImage(ctx, ctx.msg, { fileId: doc.file_id, ...(doc.file_size && { fileSize: doc.file_size }) });
  });

  composer.on('message:text', async (ctx, next) => {
    const repliedTo = ctx.msg.reply_to_message?.message_id;
    if (repliedTo === undefined || ctx.msg.text.startsWith('/')) return next();
    const pending = (await service.takePendingPhoto(`${ctx.chat.id}:${repliedTo}`, String(ctx.from.id))) as
      | PendingPhoto
      | undefined;
    if (!pending) return next();
    await start(ctx, pending.file, ctx.msg.text.trim(), pending.photoMessageId);
  });

  return composer;
}
