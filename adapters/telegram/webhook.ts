/**
 * Telegram webhook mode (TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET): instead of one process polling,
 * Telegram POSTs every update to the URL, so any process behind a load balancer can take it (issue 16), and a single
 * process needs no open long poll. The URL's path is served on the HTTP adapter's Fastify app through grammY's
 * `webhookCallback`; a request without the secret in `X-Telegram-Bot-Api-Secret-Token` is refused with 401 and
 * never reaches the bot. Until the bot has started (and after it stops) the route answers 503, which Telegram
 * retries later: no update is lost while a process starts or restarts. Stopping leaves the webhook set, because the
 * other processes of a cluster keep receiving; switching back to polling deletes it (index.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import { type Api, type Bot, webhookCallback } from 'grammy';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { BotContext } from './context.js';

export interface WebhookSettings {
  url: string;
  /** The route on the HTTP app: the URL's path (a reverse proxy forwards it unchanged). */
  path: string;
  secret: string;
}

/** The webhook settings when webhook mode is configured (config.ts makes the secret required with the URL). */
export function webhookSettings(config: Config): WebhookSettings | undefined {
  const url = config.TELEGRAM_WEBHOOK_URL;
  const secret = config.TELEGRAM_WEBHOOK_SECRET;
  if (!url || !secret) return undefined;
  return { url, path: new URL(url).pathname, secret };
}

/**
 * Longest an update's handling holds Telegram's request. A longer one (a photo download) is answered 200 and goes
 * on: Telegram would otherwise take the wait for a failure and send the update again.
 */
const ANSWER_WITHIN_MS = 9_000;

export class WebhookReceiver {
  readonly #bot: Bot<BotContext>;
  readonly #settings: WebhookSettings;
  readonly #log: Logger;
  readonly #inFlight = new Set<Promise<unknown>>();
  #handle: ((request: unknown, reply: unknown) => Promise<unknown>) | undefined;

  constructor(bot: Bot<BotContext>, settings: WebhookSettings, log: Logger) {
    this.#bot = bot;
    this.#settings = settings;
    this.#log = log;
  }

  /** The route, for the HTTP adapter's `extraRoutes`: registered before the app listens, answering 503 until start. */
  readonly routes: FastifyPluginAsync = async (app) => {
    app.post(this.#settings.path, { schema: { hide: true } }, async (request, reply) => {
      const handle = this.#handle;
      if (!handle) return reply.status(503).send({ detail: 'the Telegram bot is not running yet' });
      const handling = handle(request, reply);
      this.#inFlight.add(handling);
      try {
        return await handling;
      } finally {
        this.#inFlight.delete(handling);
      }
    });
  };

  /** Tells Telegram where to send updates, and with which secret. */
  async register(signal: Parameters<Api['setWebhook']>[2]): Promise<void> {
    await this.#bot.api.setWebhook(this.#settings.url, { secret_token: this.#settings.secret }, signal);
  }

  /** Starts handling the updates Telegram POSTs (`bot.botInfo` must be set). */
  open(): void {
    this.#handle ??= webhookCallback(this.#bot, 'fastify', {
      secretToken: this.#settings.secret,
      onTimeout: 'return',
      timeoutMilliseconds: ANSWER_WITHIN_MS,
    }) as (request: unknown, reply: unknown) => Promise<unknown>;
    this.#log.info({ url: this.#settings.url }, 'Telegram bot receiving updates by webhook');
  }

  /** Answers 503 from now on (Telegram sends those updates again later) and waits for the updates being handled. */
  async stop(): Promise<void> {
    this.#handle = undefined;
    await Promise.allSettled([...this.#inFlight]);
  }
}
