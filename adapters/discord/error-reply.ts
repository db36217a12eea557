/**
 * `toDiscordReply`: the one mapping from an error to what the user is told (an ephemeral sentence in their
 * language), by core error `code`. Anything unknown is an internal error, to be logged by the caller.
 * Also `safeError`, the only form in which Discord errors reach the log: a DiscordAPIError's `url` carries the
 * interaction token on webhook routes, so only name, status, code and message are kept.
 */
import { DiscordAPIError } from 'discord.js';
import { isCoreError, OptionRefused } from '../../src/core/index.js';
import type { Messages } from './messages.js';

export function toDiscordReply(error: unknown, t: Messages): { content: string; internal: boolean } {
  // Worded here from its fields, in the user's language (the core's sentence is English).
  if (error instanceof OptionRefused) return { content: t.optionRefused(error), internal: false };
  if (isCoreError(error)) {
    switch (error.code) {
      case 'UNSUPPORTED_MEDIA':
        return { content: t.notImage, internal: false };
      case 'INVALID_INPUT':
      case 'TOO_LARGE':
        return { content: t.badInput(error.message), internal: false };
      case 'QUOTA_EXCEEDED':
        return { content: t.quota(error.message), internal: false };
      case 'NOT_FOUND':
        return { content: t.notFound, internal: false };
      case 'CONFLICT':
      case 'STORAGE_FULL':
        return { content: t.conflict(error.message), internal: false };
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
