/** What the Telegram adapter receives from main.ts: the core's service and outbox, configuration, logger, paths. */
import type { Config } from '../../src/config.js';
import type { GenerationService, Outbox } from '../../src/core/index.js';
import type { LeadRole } from '../../src/leadership.js';
import type { Logger } from '../../src/logger.js';

export interface TelegramTiming {
  /** Least time between two status-message edits in one chat. @defaultValue 3000 */
  editIntervalMs: number;
  /** How long an uncaptioned album waits for its captioned item before asking for a prompt. @defaultValue 1500 */
  albumWaitMs: number;
  /** Long-polling timeout of `getUpdates`, in seconds. @defaultValue 30 */
  pollTimeoutS: number;
  /** Least time between two looks at the line for the live queue positions. @defaultValue 5000 */
  queueRefreshMs: number;
}

export interface TelegramDeps {
  service: GenerationService;
  outbox: Outbox;
  config: Config;
  log: Logger;
  /** Where re-hosted videos live (DATA_DIR/videos). */
  videosDir: string;
  timing?: Partial<TelegramTiming>;
  /**
   * Several processes share the work (DATABASE_URL) and Telegram is polled: only the leader of `telegram-poller`
   * polls (Telegram refuses two pollers). Every process still delivers results and edits status messages.
   */
  leadRole?: LeadRole;
}

export const DEFAULT_TIMING: TelegramTiming = {
  editIntervalMs: 3000,
  albumWaitMs: 1500,
  pollTimeoutS: 30,
  queueRefreshMs: 5000,
};

/** Telegram's own limits for bots using the public Bot API. */
export const TELEGRAM_LIMITS = {
  /** `getFile` downloads. */
  downloadBytes: 20 * 1024 * 1024,
  /** `sendVideo` multipart uploads. */
  uploadBytes: 50 * 1024 * 1024,
  captionChars: 1024,
} as const;
