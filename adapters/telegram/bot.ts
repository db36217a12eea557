/**
 * Builds the grammY bot: auto-retry for flood waits on every API call, the locale flavor, then the feature
 * composers in order (photos, admin commands, task buttons, user commands), and the one `bot.catch` that answers the user and
 * logs, branching on grammY's errors (GrammyError: Telegram said no; HttpError: Telegram unreachable) and ours.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { Bot, GrammyError, HttpError } from 'grammy';
import { isCoreError } from '../../src/core/index.js';
import type { Logger } from '../../src/logger.js';
import { proxyAgent, tunnelAgentFor } from '../../src/proxy.js';
import { accessGate } from './access.js';
import { adminCommands } from './admin-commands.js';
import type { BotContext } from './context.js';
import type { TelegramDeps, TelegramTiming } from './deps.js';
import { toTelegramReply } from './error-reply.js';
import { MESSAGES, pickLang } from './locale.js';
import { photoToVideo } from './photo-to-video.js';
import { redactToken } from './redact-token.js';
import { taskButtons } from './task-buttons.js';
import { FileTooBig } from './telegram-file.js';
import { userCommands } from './user-commands.js';

export const DEFAULT_API_ROOT = 'https://api.telegram.org';

export function createBot(deps: TelegramDeps, token: string, timing: TelegramTiming): Bot<BotContext> {
  const { config, service, log } = deps;
  const apiRoot = config.TELEGRAM_API_ROOT?.replace(/\/+$/, '') ?? DEFAULT_API_ROOT;
  // Through the configured proxy when there is one (Telegram is not reachable directly from everywhere).
  const agent = tunnelAgentFor(config, apiRoot);
  const downloads = proxyAgent(config);
  const bot = new Bot<BotContext>(token, { client: { apiRoot, ...(agent && { baseFetchConfig: { agent } }) } });
  // Flood waits and 5xx are waited out here; network failures surface at once, because the outbox and the runner
  // retry on their own schedules (auto-retry would otherwise retry them forever, holding up stop()).
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 120, rethrowHttpErrors: true }));
  bot.api.config.use(redactToken(token));

  bot.use((ctx, next) => {
    ctx.lang = pickLang(ctx.from?.language_code, config.DEFAULT_LOCALE);
    ctx.t = MESSAGES[ctx.lang];
    return next();
  });

  const onError = answerError(log);
  // Before anything else that acts on a message: nothing from a chat that may not use the bot goes further.
  bot.use(accessGate({ allowedChats: config.TELEGRAM_ALLOWED_CHATS, adminIds: config.TELEGRAM_ADMIN_IDS, log }));
  bot.use(
    photoToVideo(
      service,
      {
        apiRoot,
        token,
        maxImageBytes: config.MAX_IMAGE_BYTES,
        timeoutMs: config.DOWNLOAD_TIMEOUT_S * 1000,
        ...(downloads && { dispatcher: downloads }),
      },
      { albumWaitMs: timing.albumWaitMs, log },
    ),
  );
  bot.use(
    adminCommands(service, { adminIds: config.TELEGRAM_ADMIN_IDS, publicBaseUrl: config.PUBLIC_BASE_URL, onError }),
  );
  bot.use(taskButtons(service, config.TELEGRAM_ADMIN_IDS));
  bot.use(userCommands(service));

  bot.catch((err) => onError(err.error, err.ctx));
  return bot;
}

/** Answers the user in plain words and logs what went wrong, without the token (grammY keeps it out of messages). */
function answerError(log: Logger) {
  return async (error: unknown, ctx: BotContext): Promise<void> => {
    const updateId = ctx.update.update_id;
    if (isCoreError(error) || error instanceof FileTooBig) {
      log.info({ updateId, code: error instanceof FileTooBig ? 'FILE_TOO_BIG' : error.code }, 'request refused');
    } else if (error instanceof GrammyError) {
      log.warn(
        { updateId, method: error.method, code: error.error_code, description: error.description },
        'Telegram refused a call',
      );
    } else if (error instanceof HttpError) {
      log.warn({ updateId, err: error.message }, 'could not reach Telegram');
      return;
    } else {
      log.error({ updateId, err: error }, 'a Telegram update failed');
    }
    const t = ctx.t;
    const replyTo = ctx.msg?.message_id;
    await ctx
      .reply(toTelegramReply(error, t), {
        ...(replyTo && { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }),
      })
      .catch((replyError: unknown) =>
        log.warn({ updateId, err: String(replyError) }, 'could not send the error reply'),
      );
  };
}
