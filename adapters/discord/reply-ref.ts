/**
 * Where a Discord task is answered, stored in the task's `origin.reply` so delivery survives a restart:
 * application id, interaction token and its expiry, channel id, the reply message id, the upload limit and the
 * language. The token is used only while it lives (webhook routes); after that the bot token edits and posts
 * in the channel.
 */
import type { Task } from '../../src/core/index.js';
import type { Lang } from './messages.js';

export interface ReplyRef {
  appId: string;
  token: string;
  /** Epoch ms after which the token is no longer used (0 once Discord has refused it). */
  tokenExpiresAt: number;
  channelId: string;
  /** The deferred reply, from `fetchReply()`; editable through the channel with the bot token. */
  messageId: string | null;
  /** `interaction.attachmentSizeLimit`: uploads above it go as a link. */
  sizeLimit: number;
  lang: Lang;
}

/** Interaction tokens live 15 minutes; stop using one a minute early rather than meet a 401. */
export const TOKEN_LIFETIME_MS = 14 * 60 * 1000;
export const DEFAULT_SIZE_LIMIT = 10 * 1024 * 1024;

export function readReplyRef(task: Task): ReplyRef | null {
  const r = task.origin.reply ?? {};
  if (typeof r.appId !== 'string' || typeof r.token !== 'string' || typeof r.channelId !== 'string') return null;
  return {
    appId: r.appId,
    token: r.token,
    tokenExpiresAt: typeof r.tokenExpiresAt === 'number' ? r.tokenExpiresAt : 0,
    channelId: r.channelId,
    messageId: typeof r.messageId === 'string' ? r.messageId : null,
    sizeLimit: typeof r.sizeLimit === 'number' && r.sizeLimit > 0 ? r.sizeLimit : DEFAULT_SIZE_LIMIT,
    lang: r.lang === 'zh' ? 'zh' : 'en',
  };
}

export function tokenAlive(ref: ReplyRef, now = Date.now()): boolean {
  return now < ref.tokenExpiresAt;
}
