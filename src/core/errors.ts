/**
 * The small set of errors the core raises. Adapters branch on `code` (never on message text) and map each to
 * their own surface: an HTTP status with `{detail}`, an ephemeral Discord reply, a Telegram reply.
 * Messages are sentences a user can act on, in English; an error may also carry a `reason` (a code and
 * parameters, see reasons.ts) that the bots word in their user's language.
 */

/** The request itself is wrong (empty prompt, not an image, file too big…); retrying it unchanged will not help. */
export class InvalidInput extends Error {
  override readonly name = 'InvalidInput';
  /** `REQUEST_KEY_REUSED`: a request key (Idempotency-Key) sent again with a different request. */
  readonly code: 'INVALID_INPUT' | 'TOO_LARGE' | 'UNSUPPORTED_MEDIA' | 'REQUEST_KEY_REUSED';
  constructor(message: string, code: InvalidInput['code'] = 'INVALID_INPUT', options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The task (or other thing) asked for does not exist, or is not the asker's. */
export class NotFound extends Error {
  override readonly name = 'NotFound';
  readonly code = 'NOT_FOUND';
}

/** A per-user limit (active tasks or daily quota) refuses a new task. */
export class QuotaExceeded extends Error {
  override readonly name = 'QuotaExceeded';
  readonly code = 'QUOTA_EXCEEDED';
}

/** The action does not fit the task's state (cancel a finished task, retry a running one). */
export class Conflict extends Error {
  override readonly name = 'Conflict';
  readonly code = 'CONFLICT';
}

/**
 * An upstream call failed. `retryable`: spend an attempt and look again later; otherwise fail the task now.
 * Providers raise it both when the upstream answered with an error and when it could not be reached.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly code = 'UPSTREAM_FAILED';
  /** The upstream's own short code when it gave one (Doubao's 710022004, Ark's `QuotaExceeded`, `HTTP 503`), for metrics. */
  readonly upstreamCode: string | undefined;
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions & { upstreamCode?: string },
  ) {
    super(message, options);
    this.upstreamCode = options?.upstreamCode;
  }
}

/**
 * A write could not happen because the disk (or the database file's disk) is full. Nothing half-written is left
 * behind; trying again once an operator has made room works.
 */
export class StorageFull extends Error {
  override readonly name = 'StorageFull';
  readonly code = 'STORAGE_FULL';
  constructor(what: string, options?: ErrorOptions) {
    super(`the server's disk is full, so ${what} could not be saved; try again later`, options);
  }
}

/**
 * Thrown by an adapter's delivery function when the chat platform refused for good (Telegram: bot blocked, chat not
 * found, user deactivated; Discord: unknown channel, no access and DMs closed). The outbox records the reason and
 * stops; any other error means "try again later".
 */
export class DeliveryRefused extends Error {
  override readonly name = 'DeliveryRefused';
  readonly code = 'DELIVERY_REFUSED';
}

/** Any of the core's errors, for adapters' mapping functions. */
export type CoreError = InvalidInput | NotFound | QuotaExceeded | Conflict | UpstreamError | StorageFull;

export function isCoreError(error: unknown): error is CoreError {
  return (
    error instanceof InvalidInput ||
    error instanceof NotFound ||
    error instanceof QuotaExceeded ||
    error instanceof Conflict ||
    error instanceof UpstreamError ||
    error instanceof StorageFull
  );
}

/**
 * True for the ways "no space left" reaches us: a file write (`ENOSPC`, `EDQUOT`), SQLite (`SQLITE_FULL`), or a
 * child process's message (ffmpeg's "No space left on device").
 */
export function isDiskFull(error: unknown): boolean {
  if (error instanceof StorageFull) return true;
  const { code, message, stderr } = (error ?? {}) as { code?: unknown; message?: unknown; stderr?: unknown };
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return true;
  return /no space left on device|disk quota exceeded|database or disk is full/i.test(`${message} ${stderr}`);
}
