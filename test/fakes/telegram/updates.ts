/**
 * Builders for the updates a Telegram user produces (text, commands, photos, image documents, albums, presses
 * of inline buttons), shaped as
 * the Bot API sends them: commands carry a `bot_command` entity, photos list their sizes smallest first.
 */

export interface FromUser {
  chatId: number;
  userId: number;
  languageCode?: string;
  /** Group chats have negative ids; set to answer as a group. */
  chatType?: 'private' | 'group';
}

let nextMessageId = 1;

function base(from: FromUser, extra: Record<string, unknown>) {
  const message = {
    message_id: nextMessageId++,
    date: Math.floor(Date.now() / 1000),
    chat: { id: from.chatId, type: from.chatType ?? (from.chatId < 0 ? 'group' : 'private') },
    from: {
      id: from.userId,
      is_bot: false,
      first_name: `user${from.userId}`,
      ...(from.languageCode && { language_code: from.languageCode }),
    },
    ...extra,
  };
  return { message };
}

/** A text message; a leading `/command` gets its entity. `replyTo` makes it a reply to that message id. */
export function textMessage(from: FromUser, text: string, replyTo?: number) {
  const command = /^\/\S+/.exec(text);
  return base(from, {
    text,
    ...(command && { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] }),
    ...(replyTo && { reply_to_message: { message_id: replyTo, date: 0, chat: { id: from.chatId, type: 'private' } } }),
  });
}

/** A photo message; `file` is what `fake.addFile` returned (used as the largest size). */
export function photoMessage(
  from: FromUser,
  file: { file_id: string; file_unique_id: string; file_size: number },
  options: { caption?: string; mediaGroupId?: string } = {},
) {
  return base(from, {
    photo: [
      { file_id: 'thumb-small', file_unique_id: 'thumb-small', width: 90, height: 56, file_size: 1200 },
      { ...file, width: 320, height: 200 },
    ],
    ...(options.caption && { caption: options.caption }),
    ...(options.mediaGroupId && { media_group_id: options.mediaGroupId }),
  });
}

/** A file sent as a document; `fileSize: null` leaves `file_size` out (the Bot API may omit it). */
export function documentMessage(
  from: FromUser,
  file: { file_id: string; file_unique_id: string; file_size: number },
  options: { caption?: string; mimeType?: string; fileSize?: number | null } = {},
) {
  const { file_size, ...rest } = file;
  const size = options.fileSize === undefined ? file_size : options.fileSize;
  return base(from, {
    document: {
      ...rest,
      file_name: 'picture.jpg',
      mime_type: options.mimeType ?? 'image/jpeg',
      ...(size !== null && { file_size: size }),
    },
    ...(options.caption && { caption: options.caption }),
  });
}

let nextCallbackId = 1;

/** A press of an inline button with `data` on the bot's message `messageId` (in the presser's chat). */
export function callbackQuery(from: FromUser, messageId: number, data: string) {
  return {
    callback_query: {
      id: `cb-${nextCallbackId++}`,
      from: {
        id: from.userId,
        is_bot: false,
        first_name: `user${from.userId}`,
        ...(from.languageCode && { language_code: from.languageCode }),
      },
      chat_instance: `ci-${from.chatId}`,
      data,
      message: {
        message_id: messageId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: from.chatId, type: from.chatType ?? (from.chatId < 0 ? 'group' : 'private') },
        from: { id: 12345, is_bot: true, first_name: 'Doubao' },
        text: 'status',
      },
    },
  };
}
