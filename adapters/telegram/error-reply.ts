/**
 * `toTelegramReply` is the adapter's one mapping from an error to the sentence the user reads. Core errors map by
 * `code`, the adapter's own FileTooBig by its limit; anything else gets a generic sentence (its details go to the log, never to the chat).
 */
import { isCoreError, OptionRefused, reasonOf } from '../../src/core/index.js';
import type { Messages } from './locale.js';
import { FlagWithoutValue } from './option-flags.js';
import { FileTooBig } from './telegram-file.js';

/** The reason a core error gives, without the trailing full stop the templates add themselves. */
function reason(message: string): string {
  return message.replace(/[.。]\s*$/, '');
}

export function toTelegramReply(error: unknown, t: Messages): string {
  if (error instanceof FileTooBig)
    return error.byTelegram ? t.tooBigForTelegram(error.limit) : t.tooBigImage(error.limit);
  // Option refusals are worded here from their fields, in the user's language (the core's sentence is English).
  if (error instanceof OptionRefused) return t.optionRefused(error);
  if (error instanceof FlagWithoutValue) return t.flagWithoutValue(error.flag);
  if (!isCoreError(error)) return t.internal;
  // The reason in the user's language when the core gave its code; its English message otherwise.
  const why = reasonOf(error);
  const text = why ? t.reason(why) : reason(error.message);
  switch (error.code) {
    case 'TOO_LARGE':
    case 'INVALID_INPUT':
    case 'REQUEST_KEY_REUSED':
    case 'QUOTA_EXCEEDED':
      return t.refused(text);
    case 'UNSUPPORTED_MEDIA':
      return why?.code === 'IMAGE_UNREADABLE' ? t.refused(text) : t.notImage;
    case 'NOT_FOUND':
      return t.notFound(text);
    case 'CONFLICT':
      return t.busy(text);
    case 'STORAGE_FULL':
      return t.busy(t.reason({ code: 'DISK_FULL', params: {} }));
    case 'UPSTREAM_FAILED':
      return t.upstream;
  }
}
