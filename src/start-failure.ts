/**
 * Turns the error a chat adapter's start threw into one sentence an operator can act on ("DNS lookup failed for
 * discord.com (ENOTFOUND)", "the token was refused (401 Unauthorized)") and tells whether trying again can help.
 * It reads the shapes the chat libraries throw without importing them: Node's system errors (`code`), grammY's
 * `HttpError` (the network error in `.error`) and `GrammyError` (`error_code`), discord.js's `DiscordAPIError` /
 * `HTTPError` (`status`) and `DiscordjsError` (`code: 'TokenInvalid'`), following `cause` chains.
 */

export interface StartFailure {
  /** One sentence, without secrets (it never quotes an error message that could carry a URL with a token). */
  reason: string;
  /** No retry can help (a refused token): the adapter stays off until the configuration is fixed. */
  permanent: boolean;
  /** A network or HTTP answer we know (logged as one line); false for a bug worth a stack trace. */
  expected: boolean;
}

/** Where the adapter talks to and which variable holds its token, for the sentence. */
export interface FailureContext {
  host: string;
  tokenVariable: string;
  /** Blanked out of any message quoted in the reason. */
  token: string;
}

const NETWORK_CODES: Record<string, (host: string) => string> = {
  ENOTFOUND: (host) => `DNS lookup failed for ${host}`,
  EAI_AGAIN: (host) => `DNS lookup failed for ${host}`,
  ECONNREFUSED: (host) => `${host} refused the connection`,
  ECONNRESET: (host) => `the connection to ${host} was cut`,
  EPIPE: (host) => `the connection to ${host} was cut`,
  UND_ERR_SOCKET: (host) => `the connection to ${host} was cut`,
  ETIMEDOUT: (host) => `${host} did not answer in time`,
  UND_ERR_CONNECT_TIMEOUT: (host) => `${host} did not answer in time`,
  UND_ERR_HEADERS_TIMEOUT: (host) => `${host} did not answer in time`,
  EHOSTUNREACH: (host) => `${host} is unreachable`,
  ENETUNREACH: (host) => `${host} is unreachable (no network)`,
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Discord's own error codes (discord.js `DiscordjsError.code`) that no retry fixes. */
const PERMANENT_DISCORD_CODES: Record<string, (ctx: FailureContext) => string> = {
  TokenInvalid: (ctx) => `the token was refused (401 Unauthorized): check ${ctx.tokenVariable}`,
  DisallowedIntents: () => 'Discord refused the gateway intents: enable them for the bot in the developer portal',
};

export function describeStartFailure(error: unknown, ctx: FailureContext): StartFailure {
  const chain = causes(error);
  for (const e of chain) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && PERMANENT_DISCORD_CODES[code]) {
      return { reason: PERMANENT_DISCORD_CODES[code](ctx), permanent: true, expected: true };
    }
    if (code && NETWORK_CODES[code])
      return { reason: `${NETWORK_CODES[code](ctx.host)} (${code})`, permanent: false, expected: true };
    if (code?.startsWith('CERT_') || code?.startsWith('ERR_TLS') || code?.includes('CERT')) {
      return { reason: `the TLS handshake with ${ctx.host} failed (${code})`, permanent: false, expected: true };
    }
  }
  for (const e of chain) {
    const status = httpStatus(e);
    if (status === undefined) continue;
    const answer = `${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`;
    const method = typeof e.method === 'string' ? ` to ${e.method}` : '';
    if (status === 401) {
      return {
        reason: `the token was refused (${answer}): check ${ctx.tokenVariable}`,
        permanent: true,
        expected: true,
      };
    }
    // Telegram's answer to a second poller with the same token: say so, it is the usual cause.
    const hint = status === 409 ? ' (another process is polling with this token, or a webhook is set)' : '';
    return { reason: `${ctx.host} answered ${answer}${method}${hint}`, permanent: false, expected: true };
  }
  const first = chain[0];
  const name = typeof first?.name === 'string' ? first.name : 'Error';
  const message = String(first?.message ?? error).replaceAll(ctx.token, '<token>');
  return { reason: `${name}: ${message}`, permanent: false, expected: false };
}

type Loose = Record<string, unknown>;

/** The error and what it wraps: grammY keeps the network error in `.error`, others in `.cause`. */
function causes(error: unknown): Loose[] {
  const chain: Loose[] = [];
  let current: unknown = error;
  while (current && typeof current === 'object' && chain.length < 5 && !chain.includes(current as Loose)) {
    chain.push(current as Loose);
    const next = current as { error?: unknown; cause?: unknown };
    current = next.error ?? next.cause;
  }
  return chain;
}

function httpStatus(e: Loose): number | undefined {
  for (const key of ['error_code', 'status']) {
    const value = e[key];
    if (typeof value === 'number' && value >= 400 && value < 600) return value;
  }
  return undefined;
}
