/**
 * Why the core said no, as a code and parameters rather than an English sentence, so each adapter can say it in
 * its user's language (Telegram by `language_code`, Discord by `interaction.locale`; HTTP sends the code beside
 * the English `detail`). A core error may carry a `reason` (see `withReason`); a failed task keeps one in
 * `errorReason`. An error or task without one is shown with its English text, as before.
 */

/** Reasons a request is refused, or a task failed, that users are shown. */
export const REASON_CODES = [
  // Refusals of a request.
  'PROMPT_EMPTY',
  'PROMPT_TOO_LONG',
  'PROMPT_BLOCKED',
  'ACTIVE_LIMIT',
  'DAILY_LIMIT',
  'IMAGE_EMPTY',
  'IMAGE_TOO_LARGE',
  'IMAGE_TOO_MANY_PIXELS',
  'IMAGE_NOT_IMAGE',
  'IMAGE_UNREADABLE',
  'TASK_NOT_FOUND',
  'TASK_ALREADY_FINAL',
  'TASK_NOT_RETRYABLE',
  'IMAGE_NO_LONGER_KEPT',
  'PROVIDER_NOT_SERVED',
  'DISK_FULL',
  // Why a task failed.
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_REFUSED',
  'UPSTREAM_UNAVAILABLE',
  'SESSION_EXPIRED',
  'NOT_READY',
  'IMAGE_MISSING',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export type ReasonParams = Record<string, string | number>;

export interface Reason {
  code: ReasonCode;
  params: ReasonParams;
}

/** Attaches a reason to an error (the error's class, `code` and English message stay as they are). */
export function withReason<E extends Error>(error: E, code: ReasonCode, params: ReasonParams = {}): E {
  return Object.assign(error, { reason: { code, params } satisfies Reason });
}

/** The reason an error carries, if any. */
export function reasonOf(error: unknown): Reason | undefined {
  const reason = (error as { reason?: unknown } | null)?.reason as Partial<Reason> | undefined;
  if (!reason || typeof reason.code !== 'string' || !(REASON_CODES as readonly string[]).includes(reason.code)) {
    return undefined;
  }
  return { code: reason.code as ReasonCode, params: reason.params ?? {} };
}
