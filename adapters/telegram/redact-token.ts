/**
 * An API transformer that keeps the bot token out of errors. grammY's `HttpError` message is safe, but the
 * network error it wraps (node-fetch's FetchError) quotes the request URL, `…/bot<token>/sendVideo`, and a logger
 * serializing the error would print it. The wrapped error is replaced by a copy with the token blanked out.
 */
import { HttpError, type Transformer } from 'grammy';

export function redactToken(token: string): Transformer {
  const blank = (text: string) => text.replaceAll(token, '<token>');
  return async (prev, method, payload, signal) => {
    try {
      return await prev(method, payload, signal);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      const cause = error.error as { message?: unknown; code?: unknown } | undefined;
      const safe = Object.assign(new Error(blank(String(cause?.message ?? cause))), {
        ...(typeof cause?.code === 'string' && { code: cause.code }),
      });
      safe.stack = blank(safe.stack ?? '');
      throw new HttpError(blank(error.message), safe);
    }
  };
}
