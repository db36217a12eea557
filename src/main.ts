/**
 * The service's entry point (`npm start`): reads `.env` when present, validates the configuration, builds the
 * provider and the core, starts the HTTP API, then every chat adapter whose token is configured.
 *
 * One part never takes down another: "service started" is logged as soon as the HTTP API listens, and each chat
 * adapter then starts in the background under its own supervisor (retried with backoff, reported by /readyz), so a
 * platform that is down, slow or refusing leaves the API and the other bot serving.
 * SIGTERM/SIGINT are handled from the first moment: the chat adapters stop (a start still retrying is abandoned),
 * then the HTTP API, then the core, so no step is cut in half, then the cluster's upstream limiter; one part failing
 * to stop does not stop the others (shutdown.ts).
 * With DATABASE_URL and the Doubao provider, each session's request spacing and concurrency hold for every process
 * sharing the database (a PostgresLimiter under this process's owner id).
 */
import { randomUUID } from 'node:crypto';

import type { FastifyPluginAsync } from 'fastify';
import { createDiscordAdapter } from '../adapters/discord/index.js';
import { createHttpAdapter } from '../adapters/http/index.js';
import { createTelegramAdapter } from '../adapters/telegram/index.js';
import { AdapterSupervisor, type ChatAdapter } from './adapter-supervisor.js';
import { type Config, loadConfigOrExit } from './config.js';
import {
  BlocklistInvalid,
  type Core,
  createCore,
  DatabaseUnusable,
  DataDirInUse,
  LeaderElection,
  PostgresLimiter,
} from './core/index.js';
import { chooseServiceFfmpeg } from './ffmpeg-choice.js';
import type { LeadRole } from './leadership.js';
import { createLogger, type Logger } from './logger.js';
import { createProvider } from './providers/index.js';
import { describeProxies } from './proxy.js';
import { createReadiness } from './readiness.js';
import { type RunningParts, stopAll } from './shutdown.js';
import { describeStartupError, startupWarnings } from './startup-problems.js';

/** What has been started so far, for the shutdown. */
interface Running extends RunningParts {
  core?: Core;
  chats: AdapterSupervisor[];
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL);
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  if (config.HTTPS_PROXY || config.HTTP_PROXY) {
    log.info(
      { proxies: describeProxies(config), through: ['ark', 'doubao', 'telegram', 'discord REST'] },
      'outbound HTTP goes through the configured proxy',
    );
    if (config.DISCORD_TOKEN) {
      log.warn(
        'the Discord gateway (WebSocket) cannot use HTTPS_PROXY: it connects directly; where Discord is blocked, ' +
          'run the service behind a transparent proxy (docs/discord.md)',
      );
    }
  }
  const running: Running = { chats: [] };
  handleSignals(log, running, config.SHUTDOWN_DEADLINE_S * 1000);

  if (config.providerDefaulted && config.PROVIDER === 'local') {
    log.info('no Doubao session or Ark key configured: using the offline local provider (local preview, no AI)');
  }
  const ffmpegPath = await chooseServiceFfmpeg(config, log);
  // One owner id for the store and the limiter: a process that hangs loses its upstream slots with its leases.
  const owner = randomUUID();
  const limiter = await orExit(config, () => openClusterLimiter(config, owner));
  running.limiter = limiter;
  const provider = await createProvider(config, log, ffmpegPath, limiter);
  for (const warning of startupWarnings(config, provider)) log.warn(warning);
  const core = await orExit(config, async () => {
    const created = await createCore(config, log, provider, { owner, ...(ffmpegPath && { ffmpegPath }) });
    running.core = created;
    await created.start();
    return created;
  });

  const extraRoutes: FastifyPluginAsync[] = [];
  running.chats = chatAdapters(config, log, core, extraRoutes);
  const http = createHttpAdapter({
    extraRoutes,
    service: core.service,
    outbox: core.outbox,
    config,
    log,
    videosDir: core.media.videosDir,
    metrics: core.metrics,
    ...(provider.status && { providerStatus: () => provider.status!() }),
    admin: { reads: core.store, sessions: core.store, provider },
    readiness: createReadiness({
      probeWrite: () => core.store.probeWrite(),
      provider,
      adapters: running.chats,
    }),
  });
  await orExit(config, () => http.start());
  running.http = http;
  log.info({ provider: provider.name, chats: running.chats.map((c) => c.name) }, 'service started');
  for (const chat of running.chats) chat.start();
}

/**
 * The limiter every process sharing DATABASE_URL uses for Doubao's per-session limits; none without DATABASE_URL
 * (each process keeps its own, as a single process always did) or for providers that do not use it.
 */
async function openClusterLimiter(config: Config, owner: string): Promise<PostgresLimiter | undefined> {
  if (!config.DATABASE_URL || config.PROVIDER !== 'doubao') return undefined;
  return PostgresLimiter.open(config.DATABASE_URL, { owner, ownerTimeoutMs: config.OWNER_TIMEOUT_S * 1000 });
}

/**
 * The configured chat adapters, each under its own supervisor (not started yet); routes they serve on the HTTP app
 * (the Telegram webhook) go into `routes`.
 */
function chatAdapters(config: Config, log: Logger, core: Core, routes: FastifyPluginAsync[]): AdapterSupervisor[] {
  const deps = {
    service: core.service,
    outbox: core.outbox,
    config,
    log,
    videosDir: core.media.videosDir,
    ...(config.DATABASE_URL && { leadRole: leadRoleThrough(config.DATABASE_URL, log) }),
  };
  const adapters: [string, ChatAdapter][] = [];
  if (config.DISCORD_TOKEN && config.DISCORD_APP_ID) adapters.push(['discord', createDiscordAdapter(deps)]);
  if (config.TELEGRAM_TOKEN) {
    const telegram = createTelegramAdapter(deps);
    if (telegram.webhookRoutes) routes.push(telegram.webhookRoutes);
    adapters.push(['telegram', telegram]);
  }
  return adapters.map(
    ([name, adapter]) => new AdapterSupervisor(name, adapter, { log, maxDelayMs: config.ADAPTER_RETRY_MAX_S * 1000 }),
  );
}

/** Leads roles (Telegram's polling) through a PostgreSQL advisory lock of the shared database. */
function leadRoleThrough(url: string, log: Logger): LeadRole {
  return (role, lead) =>
    new LeaderElection(url, {
      role,
      lead,
      onProblem: (err) => log.warn({ err, role }, `${role}: leading stopped or could not be tried; trying again`),
    });
}

/**
 * Stops what is running on SIGTERM/SIGINT (see shutdown.ts); a second signal while stopping exits at once, and so
 * does a shutdown still under way after `deadlineMs` (a part that hangs never holds the process).
 */
function handleSignals(log: Logger, running: RunningParts, deadlineMs: number): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal while stopping: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    setTimeout(() => {
      log.error({ deadlineS: deadlineMs / 1000 }, 'shutdown did not finish within SHUTDOWN_DEADLINE_S: exiting now');
      process.exit(1);
    }, deadlineMs).unref();
    await stopAll(running, log);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * Runs a start-up step; a problem the operator can fix (DATA_DIR owned by another running service or not
 * writable, the port taken) ends the process with one line saying so, and exit code 1.
 */
async function orExit<T>(config: Config, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const line =
      error instanceof DataDirInUse || error instanceof DatabaseUnusable || error instanceof BlocklistInvalid
        ? error.message
        : describeStartupError(error, config);
    if (line === undefined) throw error;
    console.error(line);
    process.exit(1);
  }
}

await main();
