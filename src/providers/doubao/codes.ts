/**
 * What Doubao's answers say about the session, protocol §8: the one place that knows Doubao's error codes. They
 * come as HTTP statuses (401, 403, 429, a login redirect), inside an HTTP 200 as JSON (`code`, `error_code`), in
 * an SSE stream (`event: gateway-error`, a `STREAM_ERROR` frame, event 2005) or as a captcha page. `ok` means the
 * answer carries no Doubao error code; the caller still checks the status (a 404 or a 5xx is not a code).
 */
import { createParser } from 'eventsource-parser';
import type { DoubaoAnswer } from './transport.js';

export type AnswerKind = 'rate_limited' | 'risk_control' | 'login' | 'refused';
export type Classification = { kind: 'ok' } | { kind: AnswerKind; code: string; message: string };

/** Rate limited (STREAM_ERROR carries 429 too); 710022004 persists for hours on one account (§8). */
const RATE_LIMITED_CODES = new Set(['710022004', '429']);
/** "当前服务访问频繁": risk control wants another IP or account. */
const RISK_CONTROL_CODES = new Set(['710022002']);
/** Not logged in (1011), likely banned (-2001), login expired (710012001). */
const LOGIN_CODES = new Set(['1011', '-2001', '710012001']);
const LOGIN_TEXT = /login invalid|not login|未登录/i;
const CAPTCHA_PAGE = /captcha|verifycenter|验证码/i;
const RISK_DECIDER = 'shark_admin';
const LOGIN_REDIRECT = /\/(login|passport)\b/i;
/** Event 2005 of the 2025 stream: the session is rate limited. */
const EVENT_RATE_LIMITED = 2005;

/** A code as the text it is compared by; absent, empty and 0 mean "no error". */
function codeText(value: unknown): string | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const text = String(value).trim();
  return text === '' || text === '0' ? undefined : text;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sorts one Doubao error (its code, message and where it was decided) into a kind. */
function classifyCode(code: string, message: string, decidedBy?: unknown): Classification {
  if (decidedBy === RISK_DECIDER || RISK_CONTROL_CODES.has(code)) return { kind: 'risk_control', code, message };
  if (RATE_LIMITED_CODES.has(code)) return { kind: 'rate_limited', code, message };
  if (LOGIN_CODES.has(code) || LOGIN_TEXT.test(message)) return { kind: 'login', code, message };
  return { kind: 'refused', code, message };
}

/** The error a JSON object reports (`code`/`error_code`/`status_code`, with `message`/`msg`/`error_msg`). */
function errorInObject(value: unknown): Classification | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const o = value as Record<string, unknown>;
  const code = codeText(o.code) ?? codeText(o.error_code) ?? codeText(o.status_code);
  const message = String(o.message ?? o.msg ?? o.error_msg ?? o.status_msg ?? '');
  const decidedBy = (o.extra as { decision?: { from?: unknown } } | undefined)?.decision?.from;
  if (code) return classifyCode(code, message, decidedBy);
  if (decidedBy === RISK_DECIDER) return classifyCode(RISK_DECIDER, message, decidedBy);
  if (LOGIN_TEXT.test(message)) return classifyCode('login invalid', message);
  return undefined;
}

/** The first error frame of an SSE body, in either dialect. */
function errorInStream(body: string): Classification | undefined {
  let found: Classification | undefined;
  const parser = createParser({
    onEvent: (event) => {
      if (found) return;
      const data = safeJson(event.data) as Record<string, unknown> | undefined;
      if (event.event === 'gateway-error' || event.event === 'STREAM_ERROR') {
        found = errorInObject(data) ?? classifyCode(event.event, event.data.slice(0, 200));
      } else if (data?.event_type === EVENT_RATE_LIMITED) {
        const inner = safeJson(String(data.event_data ?? '')) as Record<string, unknown> | undefined;
        const known = errorInObject(inner);
        found =
          known && known.kind !== 'refused'
            ? known
            : { kind: 'rate_limited', code: String(EVENT_RATE_LIMITED), message: String(inner?.message ?? '') };
      } else if (event.event === undefined && data && data.event_type === undefined) {
        // A bare JSON error written into the stream instead of an event (seen from the gateway).
        found = errorInObject(data);
      }
    },
  });
  parser.feed(body);
  parser.feed('\n\n');
  return found;
}

/** What one answer says about the call and the session (see the file comment). */
export function classifyAnswer(answer: DoubaoAnswer): Classification {
  const { status, headers, body } = answer;
  if (status === 429) return { kind: 'rate_limited', code: 'HTTP 429', message: 'too many requests' };
  if (status === 401) return { kind: 'login', code: 'HTTP 401', message: 'not logged in' };
  if (status >= 300 && status < 400 && LOGIN_REDIRECT.test(headers.location ?? '')) {
    return { kind: 'login', code: 'login redirect', message: `redirected to ${headers.location}` };
  }
  const type = headers['content-type'] ?? '';
  const trimmed = body.trimStart();
  if ((type.includes('text/html') || trimmed.startsWith('<')) && CAPTCHA_PAGE.test(body)) {
    return { kind: 'risk_control', code: 'captcha', message: 'Doubao shows a captcha' };
  }
  const inBody =
    type.includes('event-stream') || /^(data|event):/m.test(body.slice(0, 200))
      ? errorInStream(body)
      : errorInObject(safeJson(body));
  if (status === 403) {
    // A 403 that names a login, rate or risk code is that; any other 403 is a refusal a signed call may pass.
    if (inBody && inBody.kind !== 'refused') return inBody;
    return { kind: 'refused', code: 'HTTP 403', message: inBody?.message ?? 'forbidden' };
  }
  if (inBody?.kind === 'refused' && status !== 200) return { kind: 'ok' }; // a 404 or 5xx is read by its status
  return inBody ?? { kind: 'ok' };
}
