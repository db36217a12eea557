/**
 * The service's entry point (`npm start`): reads `.env` when present, validates the configuration, builds the
 * provider and the core, and starts the HTTP API plus every chat adapter whose token is configured.
 * SIGTERM/SIGINT stop adapters first, then the core, so no step is cut in half.
 */
import { createDiscordAdapter } from '../adapters/discord/index.js';
import { createHttpAdapter } from '../adapters/http/index.js';
import { createTelegramAdapter } from '../adapters/telegram/index.js';
import { loadConfigOrExit } from './config.js';
import { type Core, createCore, DataDirInUse } from './core/index.js';
import { createLogger } from './logger.js';
import { createProvider } from './providers/index.js';

interface Adapter {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL);
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  if (config.providerDefaulted && config.PROVIDER === 'local') {
    log.info('no Doubao session or Ark key configured: using the offline local provider (local preview, no AI)');
  }
  const provider = await createProvider(config, log);
  const core = createCoreOrExit(config, log, provider);
  await core.start();

  const adapters: Adapter[] = [
    createHttpAdapter({
      service: core.service,
      config,
      log,
      videosDir: core.media.videosDir,
      ...(provider.status && { providerStatus: () => provider.status!() }),
    }),
  ];
  const chat = { service: core.service, outbox: core.outbox, config, log, videosDir: core.media.videosDir };
  if (config.DISCORD_TOKEN && config.DISCORD_APP_ID) adapters.push(createDiscordAdapter(chat));
  if (config.TELEGRAM_TOKEN) adapters.push(createTelegramAdapter(chat));
  for (const adapter of adapters) await adapter.start();
  log.info({ provider: provider.name }, 'service started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    for (const adapter of [...adapters].reverse())
      await adapter.stop().catch((err) => log.error({ err }, 'stop failed'));
    await core.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The core, or — when another running service owns the same DATA_DIR — one line saying so, and exit code 1. */
function createCoreOrExit(...args: Parameters<typeof createCore>): Core {
  try {
    return createCore(...args);
  } catch (error) {
    if (!(error instanceof DataDirInUse)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

await main();
