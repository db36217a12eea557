/**
 * The Telegram adapter: a grammY bot on long polling (@grammyjs/runner) that turns photos and prompts into tasks,
 * keeps a status message current, and delivers the result through the core's outbox (so also after a restart),
 * as well as the alerts of provider incidents to every TELEGRAM_ADMIN_IDS chat.
 * `createTelegramAdapter` returns `{ start(), stop() }` for main.ts; `stop()` ends polling, waits for updates under
 * way and for deliveries being sent.
 */
import { type RunnerHandle, run } from '@grammyjs/runner';
import { createBot } from './bot.js';
import { createAlertDelivery, createDelivery } from './delivery.js';
import { DEFAULT_TIMING, type TelegramDeps } from './deps.js';
import { StatusUpdates } from './status-updates.js';

export type { TelegramDeps, TelegramTiming } from './deps.js';

/** The command menu registered with `setMyCommands`, per language. */
const COMMANDS = {
  en: [
    { command: 'video', description: 'Make a video from a prompt' },
    { command: 'mytasks', description: 'Your recent videos' },
    { command: 'cancel', description: 'Cancel one of your videos' },
    { command: 'help', description: 'How to use the bot' },
  ],
  zh: [
    { command: 'video', description: '用提示词生成视频' },
    { command: 'mytasks', description: '你最近的视频' },
    { command: 'cancel', description: '取消你的视频' },
    { command: 'help', description: '使用说明' },
  ],
  admin: [
    { command: 'tasks', description: 'All tasks: /tasks [status] [page]' },
    { command: 'task', description: 'One task in detail: /task <id>' },
    { command: 'retry', description: 'Run a task again: /retry <id>' },
    { command: 'cancel', description: 'Cancel any task: /cancel <id>' },
    { command: 'stats', description: 'Task counts' },
  ],
};

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
  let runner: RunnerHandle | undefined;
  let stopDelivery: (() => Promise<void>) | undefined;

  return {
    async start(): Promise<void> {
      await bot.init();
      await bot.api.deleteWebhook();
      await bot.api.setMyCommands(COMMANDS.en);
      await bot.api.setMyCommands(COMMANDS.zh, { language_code: 'zh' });
      for (const adminId of deps.config.TELEGRAM_ADMIN_IDS) {
        // Only works once the admin has opened a chat with the bot; the commands work without the menu anyway.
        await bot.api
          .setMyCommands([...COMMANDS.en, ...COMMANDS.admin], { scope: { type: 'chat', chat_id: adminId } })
          .catch((err: unknown) => deps.log.debug({ err, adminId }, 'could not set the admin command menu'));
      }
      statusUpdates.start();
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
      runner = run(bot, { runner: { fetch: { timeout: timing.pollTimeoutS }, silent: true } });
      deps.log.info({ bot: bot.botInfo.username }, 'Telegram bot polling');
    },
    async stop(): Promise<void> {
      if (runner?.isRunning()) await runner.stop();
      statusUpdates.stop();
      await stopDelivery?.();
    },
  };
}
