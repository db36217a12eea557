/**
 * A Task is one user's request for one video, from creation to the moment its asker was told the result.
 *
 * Lifecycle: `pending` (created; waiting for its upstream job to start or for the first look) → `processing`
 * (looked at least once) → `completed` | `failed` | `cancelled`. `attempts` counts looks at the upstream (and
 * failed starts); after `maxAttempts` looks without a video the task fails.
 */
import type { ImageRef, UpstreamRef } from '../providers/provider.js';
import type { VideoOptions, VideoOptionsInput } from './options.js';
import type { Reason } from './reasons.js';

export type TaskStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';
export type FinalStatus = Extract<TaskStatus, 'completed' | 'failed' | 'cancelled'>;
export type TaskKind = 't2v' | 'i2v';
export type Platform = 'discord' | 'telegram' | 'http' | 'cli';

/** Platforms whose askers are told a task's final result by a message (an outbox delivery row per outcome). */
export const NOTIFIED_PLATFORMS: readonly Platform[] = ['telegram', 'discord'];

/**
 * Whether a task's final outcome is owed to its asker as a delivery: chat users always, API clients when they gave a
 * callback URL (`origin.reply.callbackUrl`, POSTed to by the HTTP adapter's outbox lane).
 */
export function owesDelivery(origin: Origin): boolean {
  return (
    NOTIFIED_PLATFORMS.includes(origin.platform) ||
    (origin.platform === 'http' && typeof origin.reply?.callbackUrl === 'string')
  );
}

export const FINAL_STATUSES: readonly FinalStatus[] = ['completed', 'failed', 'cancelled'];
export const TASK_STATUSES: readonly TaskStatus[] = ['pending', 'processing', ...FINAL_STATUSES];

/** Which status may follow which; the store refuses anything else. */
export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  pending: ['pending', 'processing', 'completed', 'failed', 'cancelled'],
  processing: ['processing', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: ['pending'],
  cancelled: ['pending'],
};

export function isFinal(status: TaskStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly TaskStatus[]).includes(status);
}

/**
 * Who asked and where to answer. `reply` holds what the platform needs to answer after a restart
 * (Telegram chat and message ids, a Discord interaction token…), written by the adapter.
 */
export interface Origin {
  platform: Platform;
  userId: string;
  chatId?: string;
  locale?: string;
  reply?: Record<string, unknown>;
}

export interface Task {
  id: string;
  provider: string;
  kind: TaskKind;
  prompt: string;
  guest: boolean;
  /** The generation options asked for (ratio, duration, resolution); null → the provider's defaults. */
  options: VideoOptions | null;
  /** The task's own copy of its image under DATA_DIR/images (i2v only); null once retention removed it. */
  imagePath: string | null;
  /** The provider's reference to the uploaded image, once uploaded. */
  imageRef: ImageRef | null;
  /** Ids shown to seed-API clients: Doubao's when the provider has them, otherwise minted numeric strings. */
  conversationId: string;
  messageId: string;
  sectionId: string | null;
  upstream: UpstreamRef | null;
  status: TaskStatus;
  attempts: number;
  maxAttempts: number;
  /** Epoch ms of the scheduler's next look; null while waiting for a provider slot or when final. */
  nextAttemptAt: number | null;
  /** Epoch ms until which a worker owns the task; an expired lease makes the task due again. */
  leaseUntil: number | null;
  /** The process instance holding the lease (`TaskStore.owner`), or null. */
  leaseOwner: string | null;
  /** The fencing token: bumped on every claim; a step's writes state the token it claimed with. */
  leaseToken: number;
  /** Epoch ms when the last lease was claimed (for an interrupted start: when that start began). */
  claimedAt: number | null;
  /** The upstream job itself ended (failed or cancelled there): a retry starts a new one instead of looking again. */
  upstreamEnded: boolean;
  progress: number | null;
  /** Upstream links (they expire); see `videoFile` for our copy. */
  videoUrls: string[];
  /** File name of the re-hosted MP4 under DATA_DIR/videos. */
  videoFile: string | null;
  /** Why the task failed, as a sentence; on a completed task, a note (its video could not be copied here). */
  error: string | null;
  /** Why the task failed as a code and parameters, where the core knows it (see reasons.ts); `error` says it in English. */
  errorReason?: Reason | null;
  origin: Origin;
  /** The client's key for the request (see TaskRequest.requestKey), if it gave one. */
  requestKey: string | null;
  /** When the origin was told the final result of the current generation (the outbox mark). */
  deliveredAt: string | null;
  /** Grows by one on every retry: which run of the task an outcome (and its delivery) belongs to. */
  generation: number;
  createdAt: string;
  updatedAt: string;
}

/** What a caller asks for; everything else is filled in by the service. */
export interface TaskRequest {
  prompt: string;
  image?: { bytes: Uint8Array; fileName?: string };
  /** A file already stored by `GenerationService.storeImage` (the seed's upload-then-generate flow). */
  imageKey?: string;
  guest?: boolean;
  /** Aspect ratio, duration, resolution as the client gave them; checked by the service (see options.ts). */
  options?: VideoOptionsInput;
  origin: Origin;
  /**
   * Names the request across re-sends (an HTTP Idempotency-Key, a chat message id): a submit whose key is already
   * known returns the task made the first time instead of making another.
   */
  requestKey?: string;
  /**
   * Resolve as soon as the task is stored (`pending`), leaving its first step to the retry loop, which takes it up
   * at once: for a caller that must answer within a deadline (a Discord interaction), not wait for the upstream.
   */
  startInBackground?: boolean;
}

/**
 * When the looks happen. `fixed` (the seed's): the first look `firstAttemptDelayMs` after the start, then every
 * `retryIntervalMs`. `adaptive`: the same number of looks over the same window (no look earlier than the first
 * delay, the last one when the fixed schedule's last is due), spread evenly after the first delay, when a video
 * can already be ready, instead of spending the first look at the moment the earliest videos are only starting.
 */
export type PollSchedule = 'fixed' | 'adaptive';

/** The retry policy as plain data. */
export interface RetryPolicy {
  firstAttemptDelayMs: number;
  retryIntervalMs: number;
  maxAttempts: number;
  /** @defaultValue 'fixed' */
  schedule?: PollSchedule;
}

/**
 * How long after the previous look (or after the upstream job started, for the first) the next look happens.
 * Pure, so it is tested without timers.
 */
export function nextAttemptDelayMs(policy: RetryPolicy, attemptsMade: number): number {
  if (policy.schedule === 'adaptive') {
    const windowMs = Math.max(0, policy.maxAttempts - 1) * policy.retryIntervalMs;
    const gapMs = Math.round(windowMs / Math.max(1, policy.maxAttempts));
    return attemptsMade === 0 ? policy.firstAttemptDelayMs + gapMs : gapMs;
  }
  return attemptsMade === 0 ? policy.firstAttemptDelayMs : policy.retryIntervalMs;
}

/** Milliseconds from the upstream start to each of the policy's looks, in order (`maxAttempts` of them). */
export function lookTimesMs(policy: RetryPolicy): number[] {
  const times: number[] = [];
  let at = 0;
  for (let k = 0; k < policy.maxAttempts; k++) {
    at += nextAttemptDelayMs(policy, k);
    times.push(at);
  }
  return times;
}
