/**
 * The core's one entry point: `createCore` assembles store, media, events, scheduler, service and outbox around a
 * provider. Adapters and `main.ts` import the core from here only.
 */
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ProviderStateStore, VideoProvider } from '../providers/provider.js';
import { TaskEventBus } from './events.js';
import { decodeFirstFrame } from './image-decode.js';
import { MediaStore, type MediaUsage } from './media.js';
import { Metrics } from './metrics.js';
import { Outbox, type OutboxOptions } from './outbox.js';
import { PromptBlocklist } from './prompt-blocklist.js';
import { Retention } from './retention.js';
import { Scheduler } from './scheduler.js';
import { SerialWrites } from './serial-writes.js';
import { GenerationService } from './service.js';
import type { TaskStoreAsync } from './store/contract.js';
import { PostgresTaskStore } from './store/postgres.js';
import { SqliteTaskStoreAsync } from './store/sqlite-async.js';
import { TaskStore } from './store.js';
import type { Platform } from './task.js';
import { recordTaskHistory } from './task-history.js';
import { logTaskStory } from './task-log.js';
import { recordVideoTimes } from './wait-estimate.js';

export type { DayCount, TaskEventRecord, TaskSearch, VideoTiming } from './admin-reads.js';
export type { Delivery, RecordedIncident } from './delivery.js';
export type { CoreError } from './errors.js';
export {
  Conflict,
  DeliveryRefused,
  InvalidInput,
  isCoreError,
  isDiskFull,
  NotFound,
  QuotaExceeded,
  StorageFull,
  UpstreamError,
} from './errors.js';
export type { TaskEventName, TaskEvents } from './events.js';
export { inspectImage } from './media.js';
export type { OptionName, Ratio, Resolution, VideoCapabilities, VideoOptions, VideoOptionsInput } from './options.js';
export { DURATIONS_S, describeOptions, NO_CAPABILITIES, OptionRefused, RATIOS, RESOLUTIONS } from './options.js';
export type { AdminAlert, Deliver, DeliverAlert, DeliveryHandlers } from './outbox.js';
export { BlocklistInvalid, PromptBlocklist } from './prompt-blocklist.js';
export { QueueWatch } from './queue-watch.js';
export type { Reason, ReasonCode, ReasonParams } from './reasons.js';
export { reasonOf, withReason } from './reasons.js';
export { downloadLimited, formatBytes, isPrivateAddress } from './safe-fetch.js';
export type { AccountHealth, Actor, SeedImport } from './service.js';
export { mayControl } from './service.js';
export { LeaderElection } from './store/postgres-leader.js';
export { PostgresLimiter } from './store/postgres-limiter.js';
export type { TaskFilter } from './store.js';
export { DatabaseUnusable, DataDirInUse } from './store.js';
export type { FinalStatus, Origin, Platform, Task, TaskKind, TaskRequest, TaskStatus } from './task.js';
export { isFinal, TASK_STATUSES } from './task.js';
export type { UserQuota } from './user-quotas.js';
export type { WaitInfo } from './wait-estimate.js';
export type { GenerationService, MediaStore, Metrics, Outbox, Retention, Scheduler, TaskStoreAsync };

export interface Core {
  config: Config;
  log: Logger;
  /** SQLite in DATA_DIR, or PostgreSQL when DATABASE_URL is set (several processes sharing the work). */
  store: TaskStoreAsync;
  media: MediaStore;
  provider: VideoProvider;
  scheduler: Scheduler;
  service: GenerationService;
  outbox: Outbox;
  retention: Retention;
  /** This service's Prometheus registry and counters (`GET /metrics`). */
  metrics: Metrics;
  /**
   * Creates the data folders, fails the unfinished tasks of a provider no longer configured, frees the deliveries
   * the last process was sending, and starts the retry loop: the leases of the previous (dead) process are released
   * so its tasks are due at once, and upstream jobs of the starts it interrupted are adopted when the provider can
   * find them. Then starts the retention sweep.
   */
  start(): Promise<void>;
  /** Stops the sweep and the loop, waits for steps under way, closes the provider and the database. */
  stop(): Promise<void>;
}

export interface CoreOptions {
  /** A fake clock for tests. */
  now?: () => number;
  outbox?: OutboxOptions;
  /**
   * The ffmpeg chosen at start-up (src/ffmpeg-choice.ts), for image checks and video conversion. Absent → images
   * are checked by their header only and videos kept as downloaded.
   */
  ffmpegPath?: string;
  /** Media writes (tests make them fail as a full disk would). */
  media?: ConstructorParameters<typeof MediaStore>[1];
  /**
   * This process's owner id in the shared database (DATABASE_URL); main.ts gives the upstream limiter the same one.
   * Absent → a fresh one.
   */
  owner?: string;
}

/**
 * The store the configuration names: PostgreSQL (migrated, this process registered as an owner) when DATABASE_URL
 * is set, else the SQLite file in DATA_DIR (refused when another process holds it).
 */
async function openStore(config: Config, now: () => number, owner?: string): Promise<TaskStoreAsync> {
  if (config.DATABASE_URL) {
    return PostgresTaskStore.open(config.DATABASE_URL, {
      now,
      ownerTimeoutMs: config.OWNER_TIMEOUT_S * 1000,
      ...(owner && { owner }),
    });
  }
  return new SqliteTaskStoreAsync(new TaskStore(join(config.DATA_DIR, 'tasks.db'), now));
}

export async function createCore(
  config: Config,
  log: Logger,
  provider: VideoProvider,
  options: CoreOptions = {},
): Promise<Core> {
  const now = options.now ?? Date.now;
  const store = await openStore(config, now, options.owner);
  const writes = new SerialWrites((err) => log.error({ err }, 'could not record a task event'));
  const { ffmpegPath } = options;
  const media = new MediaStore(config.DATA_DIR, {
    log,
    ...(ffmpegPath && {
      ffmpegPath,
      // An image is accepted only once one frame of it decodes, within a short budget (see image-decode.ts).
      verify: (path: string) => decodeFirstFrame(ffmpegPath, path, { timeoutMs: 15_000, maxSide: 64 }),
    }),
    ...options.media,
  });
  const events = new TaskEventBus((err) => log.error({ err }, 'a task event listener failed'));
  recordTaskHistory(events, store, writes);
  logTaskStory(events, log, (file) => `${config.PUBLIC_BASE_URL}/videos/${file}`, now);
  const metrics = new Metrics({
    tasksByStatus: () => store.countByStatus(),
    // Read on scrape, when the service below exists.
    storageUsage: (): Promise<MediaUsage> => service.storageUsage(),
    promptsBlocked: (): Partial<Record<string, number>> => service.promptsBlocked(),
    provider,
  });
  metrics.watch(events, now);
  recordVideoTimes(events, store, writes, now);
  const scheduler = new Scheduler(
    { store, provider, media, events, log, metrics },
    {
      policy: {
        firstAttemptDelayMs: config.FIRST_ATTEMPT_DELAY_S * 1000,
        retryIntervalMs: config.RETRY_INTERVAL_S * 1000,
        maxAttempts: config.MAX_ATTEMPTS,
        schedule: config.POLL_SCHEDULE,
      },
      attemptTimeoutMs: config.ATTEMPT_TIMEOUT_S * 1000,
      concurrency: config.PROVIDER_CONCURRENCY,
      videoDownload: {
        maxBytes: config.MAX_VIDEO_BYTES,
        timeoutMs: config.DOWNLOAD_TIMEOUT_S * 1000,
        allowPrivate: true,
      },
      // Three beats per owner timeout: a process is taken for gone only after missing three.
      heartbeatMs: (config.OWNER_TIMEOUT_S * 1000) / 3,
      now,
    },
  );
  const service = new GenerationService(
    { store, media, provider, scheduler, events },
    {
      maxImageBytes: config.MAX_IMAGE_BYTES,
      maxImagePixels: config.MAX_IMAGE_PIXELS,
      maxPromptChars: config.MAX_PROMPT_CHARS,
      userMaxActive: config.USER_MAX_ACTIVE,
      userDailyLimit: config.USER_DAILY_LIMIT,
      limitedPlatforms: new Set(['discord', 'telegram']),
      ...(config.PROMPT_BLOCKLIST_FILE && { blocklist: loadBlocklist(config.PROMPT_BLOCKLIST_FILE, log) }),
    },
    now,
  );
  const outbox = new Outbox(
    { store, events, log, metrics },
    {
      retryBaseMs: config.OUTBOX_RETRY_BASE_S * 1000,
      retryMaxMs: config.OUTBOX_RETRY_MAX_S * 1000,
      alertRecipients: alertRecipients(config),
      now,
      ...options.outbox,
    },
  );
  const retention = new Retention({ store, media, log }, { videoRetentionDays: config.VIDEO_RETENTION_DAYS, now });
  const state = await providerState(store, provider.name, writes);
  provider.attach?.({
    state,
    reportIncident: (incident) => {
      log.warn({ incident }, `${incident.provider}: ${incident.subject}: ${incident.message}`);
      events.emit('incident', incident);
    },
  });
  let stopWakeups: (() => Promise<void>) | undefined;
  let sweep: NodeJS.Timeout | undefined;
  return {
    config,
    log,
    store,
    media,
    provider,
    scheduler,
    service,
    outbox,
    retention,
    metrics,
    async start() {
      await media.init();
      await failUnservedTasks(service, log);
      await outbox.recover();
      if (store instanceof PostgresTaskStore) {
        // Other processes' new and retried tasks wake this loop too (LISTEN/NOTIFY).
        stopWakeups = await store.subscribeTaskWakeups((w) => {
          if (w.provider === provider.name) scheduler.kickSoon();
        });
        // The deliveries a process killed meanwhile was sending are sent by the others.
        sweep = setInterval(() => {
          outbox.recover().catch((err: unknown) => log.warn({ err }, 'could not look for abandoned deliveries'));
        }, config.OWNER_TIMEOUT_S * 1000);
        sweep.unref();
      }
      await scheduler.start();
      retention.start();
    },
    async stop() {
      clearInterval(sweep);
      await retention.stop();
      await stopWakeups?.();
      await scheduler.stop();
      await provider.close?.();
      await writes.settled();
      await store.close();
    },
  };
}

/** Fails the tasks of providers no longer configured; a full disk must not keep the service from starting. */
async function failUnservedTasks(service: GenerationService, log: Logger): Promise<void> {
  try {
    const failed = await service.failUnservedTasks();
    if (failed.length === 0) return;
    const providers = [...new Set(failed.map((t) => t.provider))];
    log.warn({ tasks: failed.length, providers }, 'failed the unfinished tasks of providers no longer configured');
  } catch (err) {
    log.error({ err }, 'could not fail the tasks of providers no longer configured; the next start tries again');
  }
}

/**
 * The provider's state, read once here and kept in memory: providers read it synchronously. Each change is written
 * through, in order. With several processes each keeps its own copy; the database is what a restart reads.
 */
async function providerState(
  store: TaskStoreAsync,
  provider: string,
  writes: SerialWrites,
): Promise<ProviderStateStore> {
  const values = new Map(await store.providerStateEntries<unknown>(provider, ''));
  return {
    get: <T>(key: string) => values.get(key) as T | undefined,
    set: (key, value) => {
      values.set(key, JSON.parse(JSON.stringify(value ?? null)) as unknown); // as a read from the database gives it
      writes.add(() => store.setProviderState(provider, key, value));
    },
    entries: <T>(prefix: string) =>
      [...values].filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) as [
        string,
        T,
      ][],
  };
}

/** The block-list, read once at start-up. @throws BlocklistInvalid (one line) when it cannot be used. */
function loadBlocklist(file: string, log: Logger): PromptBlocklist {
  const blocklist = PromptBlocklist.load(file);
  log.info({ file, entries: blocklist.size }, 'prompt block-list loaded');
  return blocklist;
}

/** The admins told of provider incidents: those of each chat platform the configuration turns on. */
function alertRecipients(config: Config): Partial<Record<Platform, readonly string[]>> {
  return {
    ...(config.TELEGRAM_TOKEN && { telegram: [...config.TELEGRAM_ADMIN_IDS] }),
    ...(config.DISCORD_TOKEN && { discord: [...config.DISCORD_ADMIN_IDS] }),
  };
}
