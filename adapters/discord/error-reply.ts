/**
 * `toDiscordReply`: the one mapping from an error to what the user is told (an ephemeral sentence in their
 * language), by core error `code`. Anything unknown is an internal error, to be logged by the caller.
 * Also `safeError`, the only form in which Discord errors reach the log: a DiscordAPIError's `url` carries the
 * interaction token on webhook routes, so only name, status, code and message are kept.
 */
import { DiscordAPIError } from 'discord.js';
import { isCoreError, OptionRefused, reasonOf } from '../../src/core/index.js';
import type { Messages } from './messages.js';

export function toDiscordReply(error: unknown, t: Messages): { content: string; internal: boolean } {
  // Worded here from its fields, in the user's language (the core's sentence is English).
  if (error instanceof OptionRefused) return { content: t.optionRefused(error), internal: false };
  if (isCoreError(error)) {
    // The reason in the user's language when the core gave its code; its English message otherwise.
    const why = reasonOf(error);
    const text = why ? t.reason(why) : error.message;
    switch (error.code) {
      case 'UNSUPPORTED_MEDIA':
        return { content: why?.code === 'IMAGE_UNREADABLE' ? t.badInput(text) : t.notImage, internal: false };
      case 'INVALID_INPUT':
      case 'TOO_LARGE':
      case 'REQUEST_KEY_REUSED':
        return { content: t.badInput(text), internal: false };
      case 'QUOTA_EXCEEDED':
        return { content: t.quota(text), internal: false };
      case 'NOT_FOUND':
        return { content: t.notFound, internal: false };
      case 'CONFLICT':
        return { content: t.conflict(text), internal: false };
      case 'STORAGE_FULL':
        return { content: t.conflict(t.reason({ code: 'DISK_FULL', params: {} })), internal: false };
      case 'UPSTREAM_FAILED':
        return { content: t.upstream, internal: false };
    }
  }
  return { content: t.internal, internal: true };
}

/** An error reduced to fields that can never hold a token. */
export function safeError(error: unknown): Record<string, unknown> {
  if (error instanceof DiscordAPIError) {
    return { name: error.name, status: error.status, code: error.code, message: error.message, method: error.method };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { message: String(error) };
}

/** The numeric Discord error code of a failed REST call, or undefined. */
export function apiCode(error: unknown): number | undefined {
  return error instanceof DiscordAPIError && typeof error.code === 'number' ? error.code : undefined;
}

export function apiStatus(error: unknown): number | undefined {
  return error instanceof DiscordAPIError ? error.status : undefined;
}
