/**
 * Turns Ark's answers into errors and reasons a user can act on. Ark reports failures as HTTP 4xx/5xx with
 * `{error: {code, message}}`, and failed tasks with the same `{code, message}` pair; we branch on the status and
 * the `code`, and keep Ark's message in the sentence because it names the offending field or limit.
 */
import { UpstreamError } from '../../core/errors.js';

/** Ark's error object, as found in error bodies and in failed tasks. */
export interface ArkErrorBody {
  code?: string;
  message?: string;
}

// Codes of content moderation (InputTextSensitiveContentDetected, OutputVideoSensitiveContentDetected, …).
const CONTENT_POLICY = /Sensitive|Risk/i;
// Codes that stay true until the account owner acts: no credit left, a spending cap reached.
const ACCOUNT_LIMIT = /Quota|SetLimit|Overdue|Balance/i;

function detail(error: ArkErrorBody): string {
  const text = [error.code, error.message].filter(Boolean).join(': ');
  return text ? ` (${text})` : '';
}

/** A plain sentence for a failed task's `{code, message}`. */
export function describeTaskFailure(error: ArkErrorBody | null | undefined): string {
  const e = error ?? {};
  if (CONTENT_POLICY.test(e.code ?? '')) {
    return `Ark refused the prompt, image or result under its content policy${detail(e)}; change the request and try again`;
  }
  if (ACCOUNT_LIMIT.test(e.code ?? '')) return `the Ark account has no quota or credit left${detail(e)}`;
  return `Ark could not generate the video${detail(e)}`;
}

/**
 * The error for an HTTP answer that was not 2xx. 429 and 5xx are transient (spend an attempt, look again);
 * authentication, account limits, content policy and other refusals are permanent.
 */
export function arkHttpError(status: number, error: ArkErrorBody, action: string): UpstreamError {
  const code = error.code ?? '';
  const tag = { upstreamCode: code || `HTTP ${status}` };
  if (status === 401) {
    return new UpstreamError(`Ark rejected the API key${detail(error)}; check ARK_API_KEY`, false, tag);
  }
  if (ACCOUNT_LIMIT.test(code)) return new UpstreamError(describeTaskFailure(error), false, tag);
  if (CONTENT_POLICY.test(code)) return new UpstreamError(describeTaskFailure(error), false, tag);
  if (status === 403) {
    return new UpstreamError(
      `Ark refused access${detail(error)}; check that the key may use this model and the account is in good standing`,
      false,
      tag,
    );
  }
  if (status === 429) return new UpstreamError(`Ark is rate limiting us${detail(error)}`, true, tag);
  if (status >= 500) return new UpstreamError(`Ark failed to ${action}: HTTP ${status}${detail(error)}`, true, tag);
  if (status === 404) return new UpstreamError(`Ark could not ${action}: not found${detail(error)}`, false, tag);
  return new UpstreamError(`Ark refused to ${action}${detail(error)}`, false, tag);
}

/** The error for a request that got no answer at all (refused connection, reset, timeout). */
export function arkNetworkError(error: unknown, action: string): UpstreamError {
  const reason = error instanceof Error ? error.message : String(error);
  return new UpstreamError(`could not reach Ark to ${action}: ${reason}`, true, { cause: error });
}
