/**
 * The Telegram adapter: a grammY bot on long polling (@grammyjs/runner), or in webhook mode (webhook.ts, when
 * TELEGRAM_WEBHOOK_URL is set; main.ts serves its `webhookRoutes` on the HTTP app), that turns photos and prompts into tasks,
 * keeps a status message current, and delivers the result through the core's outbox (so also after a restart),
 * as well as the alerts of provider incidents to every TELEGRAM_ADMIN_IDS chat.
 * `createTelegramAdapter` returns `{ start(signal), stop(), describeFailure() }` for main.ts's supervisor, which
 * retries a failed start; `stop()` ends polling, waits for updates under way and for deliveries being sent.
 */
import { type RunnerHandle, run } from '@grammyjs/runner';
import type { Api } from 'grammy';
import { QueueWatch } from '../../src/core/index.js';
import type { Leadership } from '../../src/leadership.js';
import { describeStartFailure } from '../../src/start-failure.js';
import { createBot, DEFAULT_API_ROOT } from './bot.js';
import { createAlertDelivery, createDelivery } from './delivery.js';
import { DEFAULT_TIMING, type TelegramDeps } from './deps.js';
import { StatusUpdates } from './status-updates.js';
import { replyRefOf } from './task-submission.js';
import { WebhookReceiver, webhookSettings } from './webhook.js';

export type { TelegramDeps, TelegramTiming } from './deps.js';

/** The command menu registered with `setMyCommands`, per language. */
const COMMANDS = {
  en: [
    { command: 'video', description: 'Make a video from a prompt' },
    { command: 'mytasks', description: 'Your recent videos' },
    { command: 'cancel', description: 'Cancel one of your videos' },
    { command: 'retry', description: 'Run one of your failed videos again' },
    { command: 'help', description: 'How to use the bot' },
  ],
  zh: [
    { command: 'video', description: '用提示词生成视频' },
    { command: 'mytasks', description: '你最近的视频' },
    { command: 'cancel', description: '取消你的视频' },
    { command: 'retry', description: '重新生成你失败的视频' },
    { command: 'help', description: '使用说明' },
  ],
  admin: [
    { command: 'tasks', description: 'All tasks: /tasks [status] [page]' },
    { command: 'task', description: 'One task in detail: /task <id>' },
    { command: 'retry', description: 'Run any task again: /retry <id>' },
    { command: 'cancel', description: 'Cancel any task: /cancel <id>' },
    { command: 'stats', description: 'Task counts' },
    { command: 'quota', description: 'A user’s limits: /quota <user id> [<active> <daily> | reset | default]' },
  ],
};

/** The admins' menu: the user commands, with the admin wording for those both have (/cancel, /retry). */
const ADMIN_MENU = [
  ...COMMANDS.en.filter((c) => !COMMANDS.admin.some((a) => a.command === c.command)),
  ...COMMANDS.admin,
];

export function createTelegramAdapter(deps: TelegramDeps) {
  const token = deps.config.TELEGRAM_TOKEN;
  if (!token) throw new Error('createTelegramAdapter needs TELEGRAM_TOKEN');
  const timing = { ...DEFAULT_TIMING, ...deps.timing };
  const bot = createBot(deps, token, timing);
  const statusUpdates = new StatusUpdates(
    { api: bot.api, service: deps.service, log: deps.log },
    timing.editIntervalMs,
    deps.config.DEFAULT_LOCALE,
  );
  // Live queue: a waiting task's status message is edited when its place in line changes (coalesced, per chat
  // throttled by statusUpdates), never just because time passed.
  const queueWatch = new QueueWatch(deps.service, 'telegram', (task, wait) => statusUpdates.showWaiting(task, wait), {
    intervalMs: timing.queueRefreshMs,
    shownOf: (task) => replyRefOf(task)?.shownAhead,
  });
  const failureContext = { host: apiHost(deps.config.TELEGRAM_API_ROOT), tokenVariable: 'TELEGRAM_TOKEN', token };
  const webhookMode = webhookSettings(deps.config);
  const webhook = webhookMode && new WebhookReceiver(bot, webhookMode, deps.log);
  let runner: RunnerHandle | undefined;
  let leadership: Leadership | undefined;
  let stopDelivery: (() => Promise<void>) | undefined;

  /** The command menus are a convenience (the commands work without them): a refusal is one line, not a failure. */
  async function setCommandMenus(abort: AbortSignal): Promise<void> {
    const signal = forGrammy(abort);
    try {
      await bot.api.setMyCommands(COMMANDS.en, undefined, signal);
      await bot.api.setMyCommands(COMMANDS.zh, { language_code: 'zh' }, signal);
    } catch (err) {
      abort.throwIfAborted();
      const { reason } = describeStartFailure(err, failureContext);
      deps.log.warn(`Telegram: could not set the command menu (${reason}); the commands work without it`);
      return;
    }
    for (const adminId of deps.config.TELEGRAM_ADMIN_IDS) {
      // Only works once the admin has opened a chat with the bot; the commands work without the menu anyway.
      await bot.api
        .setMyCommands(ADMIN_MENU, { scope: { type: 'chat', chat_id: adminId } }, signal)
        .catch((err: unknown) => deps.log.debug({ err, adminId }, 'could not set the admin command menu'));
    }
  }

  return {
    /**
     * Connects and starts polling (in webhook mode: sets the webhook and starts taking updates). The bot's identity is fetched with one `getMe` (not `bot.init()`, which retries
     * a network failure forever in silence): main.ts's supervisor owns the retries and says why each one failed.
     * `onDown` hears of polling that ends on its own later.
     */
    async start(
      signal: AbortSignal = new AbortController().signal,
      onDown: (error: unknown) => void = (err) => deps.log.error({ err }, 'Telegram polling stopped'),
    ): Promise<void> {
      bot.botInfo = await bot.api.getMe(forGrammy(signal));
      // When polling, a webhook left set from webhook mode is removed: it would make every getUpdates fail with 409.
      if (webhook) await webhook.register(forGrammy(signal));
      else await bot.api.deleteWebhook(undefined, forGrammy(signal));
      await setCommandMenus(signal);
      signal.throwIfAborted();
      statusUpdates.start();
      queueWatch.start();
      // Registered only now that Telegram answers: the outbox then sends what was queued while the bot was down.
      stopDelivery = deps.outbox.register('telegram', {
        result: createDelivery({
          api: bot.api,
          log: deps.log,
          statusUpdates,
          videosDir: deps.videosDir,
          publicBaseUrl: deps.config.PUBLIC_BASE_URL,
          fallbackLang: deps.config.DEFAULT_LOCALE,
        }),
        alert: createAlertDelivery({ api: bot.api, fallbackLang: deps.config.DEFAULT_LOCALE }),
      });
      if (webhook) return webhook.open();
      const poll = () => {
        runner = run(bot, { runner: { fetch: { timeout: timing.pollTimeoutS }, silent: true } });
        // The runner retries network failures itself but ends on 401 (token revoked) and 409 (another poller).
        runner.task()?.catch(onDown);
        return runner;
      };
      if (!deps.leadRole) {
        poll();
        deps.log.info({ bot: bot.botInfo.username }, 'Telegram bot polling');
        return;
      }
      leadership = deps.leadRole('telegram-poller', (signal) => {
        const polling = poll();
        signal.addEventListener('abort', () => void polling.stop(), { once: true });
        deps.log.info({ bot: bot.botInfo.username }, 'Telegram bot polling: this process leads the polling');
      });
      deps.log.info({ bot: bot.botInfo.username }, 'Telegram bot ready; it polls while this process leads the polling');
    },
    async stop(): Promise<void> {
      await webhook?.stop();
      await leadership?.stop();
      leadership = undefined;
      if (runner?.isRunning()) await runner.stop();
      runner = undefined;
      queueWatch.stop();
      statusUpdates.stop();
      await stopDelivery?.();
      stopDelivery = undefined;
    },
    describeFailure: (error: unknown) => describeStartFailure(error, failureContext),
    /** The webhook route for the HTTP app, in webhook mode. */
    webhookRoutes: webhook?.routes,
  };
}

/** grammY types its signals with the `abort-controller` shim; at run time it accepts Node's own. */
function forGrammy(signal: AbortSignal) {
  return signal as unknown as Parameters<Api['getMe']>[0];
}

function apiHost(apiRoot: string | undefined): string {
  return new URL(apiRoot ?? DEFAULT_API_ROOT).host;
}
