/**
 * The service's configuration: environment variables parsed and checked once with zod, returned frozen.
 * This is the one module that reads `process.env`; every variable is listed with a comment in `.env.example`.
 * A bad value stops start-up with one line per problem naming the variable and what was expected.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

const MiB = 1024 * 1024;

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);
/** Node's timers wait at most 2^31 - 1 ms (24.8 days); a longer one fires at once, so the schema refuses it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const TIMER_LIMIT = `must be at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds (24.8 days, the longest a Node timer can wait)`;
const duration = (min: 'positive' | 'zero') => {
  const n = z.coerce.number();
  return (min === 'positive' ? n.positive() : n.min(0)).max(MAX_TIMER_MS / 1000, TIMER_LIMIT);
};
const seconds = (fallback: number) => duration('zero').default(fallback);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));
const idList = z
  .string()
  .optional()
  .transform((v) => new Set((v ?? '').split(/[\s,]+/).filter(Boolean)));
const flag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const url = z.url({ protocol: /^https?$/ });

const schema = z.object({
  // `[::1]` (the URL spelling of an IPv6 address) is accepted and listened on as `::1`.
  HOST: z
    .string()
    .default('127.0.0.1')
    .transform((host) => host.replace(/^\[(.*)\]$/, '$1')),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  PUBLIC_BASE_URL: url.optional(),
  API_TOKEN: optionalText.refine((token) => token === undefined || token.length >= 16, {
    message: 'must be at least 16 characters (a guessable token protects nothing)',
  }),
  DATA_DIR: z.string().default('./data'),
  /** postgres://… — several processes share the work through this database (docs/scale-out.md); unset: SQLite. */
  DATABASE_URL: optionalText.refine((u) => u === undefined || /^postgres(ql)?:\/\//.test(u), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  /** With DATABASE_URL: a process silent this long is gone, and the others take over its tasks and deliveries. */
  OWNER_TIMEOUT_S: duration('positive').default(15),
  PROVIDER: z.enum(['local', 'doubao', 'ark']).optional(),
  FIRST_ATTEMPT_DELAY_S: seconds(180),
  RETRY_INTERVAL_S: seconds(180),
  MAX_ATTEMPTS: int(1, 5),
  POLL_SCHEDULE: z.enum(['fixed', 'adaptive']).default('fixed'),
  ATTEMPT_TIMEOUT_S: duration('positive').default(120),
  PROVIDER_CONCURRENCY: int(1, 4),
  MAX_IMAGE_BYTES: int(1, 10 * MiB),
  MAX_IMAGE_PIXELS: int(1, 40_000_000),
  MAX_VIDEO_BYTES: int(1, 200 * MiB),
  DOWNLOAD_TIMEOUT_S: duration('positive').default(60),
  MAX_PROMPT_CHARS: int(1, 2000),
  HTTP_REQUEST_TIMEOUT_S: duration('positive').default(30),
  HTTP_MAX_CONNECTIONS: int(1, 512),
  VIDEO_RETENTION_DAYS: int(0, 30),
  IMAGE_URL_ALLOW_PRIVATE: flag,
  // Signs the POSTs sent to a task's callback_url (HMAC-SHA256); without it, callback_url is refused.
  CALLBACK_SECRET: optionalText.refine((secret) => secret === undefined || secret.length >= 16, {
    message: 'must be at least 16 characters (a guessable secret lets anyone forge a callback)',
  }),
  // Browser origins allowed to call the API (CORS): `https://app.example.com`, comma-separated, or `*`; empty = none.
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v) => [...new Set((v ?? '').split(/[\s,]+/).filter(Boolean))])
    .refine((origins) => origins.every((o) => o === '*' || isOrigin(o)), {
      message: 'each origin is scheme://host[:port] (no path, no trailing slash), or `*` for any',
    }),
  LOCAL_RENDER_S: seconds(0),
  LOCAL_FIRST_CHECK_S: seconds(2),
  LOCAL_POLL_INTERVAL_S: duration('positive').default(1),
  FFMPEG_PATH: optionalText,
  // Outbound proxy (src/proxy.ts); the lower-case forms are read too.
  HTTPS_PROXY: url.optional(),
  HTTP_PROXY: url.optional(),
  NO_PROXY: optionalText,
  // Searched for a system ffmpeg (see src/ffmpeg-choice.ts).
  PATH: z.string().default(''),
  USER_MAX_ACTIVE: int(1, 2),
  USER_DAILY_LIMIT: int(1, 20),
  DEFAULT_LOCALE: z.enum(['en', 'zh']).default('en'),
  // Prompts refused on every platform: one word (case-insensitive substring) or /regex/flags a line.
  PROMPT_BLOCKLIST_FILE: optionalText,
  // At most a day: longer waits would overflow Node's timers (24.8 days) and help nobody.
  ADAPTER_RETRY_MAX_S: z.coerce.number().positive().max(86_400).default(300),
  OUTBOX_RETRY_BASE_S: z.coerce.number().positive().max(86_400).default(5),
  OUTBOX_RETRY_MAX_S: z.coerce
    .number()
    .positive()
    .max(7 * 86_400)
    .default(3_600),
  // Longest a SIGTERM/SIGINT shutdown may take before the process exits anyway (code 1).
  SHUTDOWN_DEADLINE_S: duration('positive').default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TELEGRAM_TOKEN: optionalText,
  TELEGRAM_API_ROOT: url.optional(),
  TELEGRAM_ADMIN_IDS: idList,
  // Who may use the bots (empty: everyone). Telegram: chat ids (a user's private chat has the user's id).
  TELEGRAM_ALLOWED_CHATS: idList,
  // Webhook mode (adapters/telegram/webhook.ts): Telegram POSTs updates to this URL; its path is served by the HTTP
  // adapter. Without it the bot polls.
  TELEGRAM_WEBHOOK_URL: url.optional(),
  // Telegram sends it in X-Telegram-Bot-Api-Secret-Token with every update; its own rule: 1–256 of A-Z a-z 0-9 _ -.
  TELEGRAM_WEBHOOK_SECRET: optionalText.refine((secret) => secret === undefined || /^[\w-]{16,256}$/.test(secret), {
    message:
      'must be 16 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram allows only these; a short secret is guessable)',
  }),

  DISCORD_TOKEN: optionalText,
  DISCORD_APP_ID: optionalText,
  DISCORD_GUILD_ID: optionalText,
  DISCORD_API_BASE: url.optional(),
  DISCORD_ADMIN_IDS: idList,
  // Discord: in a server, allowed when the server or the user is listed; in a DM, when the user is.
  DISCORD_ALLOWED_GUILDS: idList,
  DISCORD_ALLOWED_USERS: idList,

  DOUBAO_SESSIONS_FILE: z.string().default('session.json'),
  DOUBAO_BASE_URL: url.default('https://www.doubao.com'),
  DOUBAO_IMAGEX_URL: url.default('https://imagex.bytedanceapi.com'),
  DOUBAO_UPLOAD_URL: url.default('https://tos-d-x-hl.snssdk.com'),
  CHROMIUM_PATH: optionalText,
  DISPLAY: optionalText,
  WAYLAND_DISPLAY: optionalText,
  DOUBAO_MIN_SPACING_MS: int(0, 500).pipe(
    z.number().max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms (24.8 days, the longest a Node timer can wait)`),
  ),
  DOUBAO_SESSION_CONCURRENCY: int(1, 2),
  DOUBAO_COOLDOWN_S: seconds(600),
  DOUBAO_MAX_COOLDOWN_S: seconds(21_600),
  DOUBAO_RISK_PAUSE_S: seconds(3600),
  DOUBAO_FIRST_CHECK_S: seconds(150),
  DOUBAO_POLL_INTERVAL_S: seconds(15),
  DOUBAO_MAX_WAIT_S: seconds(1200),
  DOUBAO_BROWSER_CONCURRENCY: int(1, 2),
  DOUBAO_PAGE_WAIT_S: seconds(8),
  DOUBAO_TRANSPORT: z.enum(['auto', 'http', 'page']).default('auto'),
  DOUBAO_PAGE_IDLE_S: seconds(300),

  ARK_API_KEY: optionalText,
  ARK_BASE_URL: url.default('https://ark.cn-beijing.volces.com/api/v3'),
  ARK_MODEL: z.string().default('doubao-seedance-1-0-pro-250528'),
  ARK_MODEL_I2V: optionalText,
  ARK_RATIO: z.string().default('16:9'),
  ARK_DURATION_S: int(1, 5),
  ARK_RESOLUTION: z.string().default('720p'),
  ARK_CALLBACK: flag,
  ARK_MAX_CONCURRENT: int(1, 2),
  ARK_FIRST_CHECK_S: seconds(15),
  ARK_POLL_INTERVAL_S: seconds(15),
  ARK_MAX_ATTEMPTS: int(1, 40),
});

type Env = z.output<typeof schema>;

/** The typed, frozen configuration every module receives as an argument. */
export type Config = Readonly<
  Omit<Env, 'PROVIDER' | 'PUBLIC_BASE_URL'> & {
    PROVIDER: 'local' | 'doubao' | 'ark';
    PUBLIC_BASE_URL: string;
    /** True when PROVIDER was not set and was chosen from the credentials present (`local` when there are none). */
    providerDefaulted: boolean;
    /** True when PUBLIC_BASE_URL was not set and was made from HOST and PORT. */
    publicBaseUrlDefaulted: boolean;
  }
>;

/** Raised when the environment does not describe a runnable service; its message is one line per problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `https://app.example.com`, `http://localhost:5173`: what a browser sends as `Origin`. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.origin === value;
  } catch {
    return false;
  }
}

/** True for 127.0.0.0/8, ::1 and `localhost`: addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const name = String(issue.path[0]);
  const got = env[name];
  return `Invalid ${name}: ${issue.message}${got === undefined ? '' : ` (got \`${got}\`)`}`;
}

/** `https_proxy`, `http_proxy` and `no_proxy` (as curl and many tools write them) when the upper-case form is unset. */
function withUpperCaseProxies(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY']) out[name] ||= env[name.toLowerCase()];
  return out;
}

/**
 * Parses the given environment (the process's by default) into a Config.
 * @throws ConfigError naming every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(withUpperCaseProxies(env));
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => describeIssue(i, env)).join('\n'));
  const e = parsed.data;
  if (!isLoopbackHost(e.HOST) && !e.API_TOKEN) {
    throw new ConfigError(`Invalid API_TOKEN: required when HOST (${e.HOST}) is not a loopback address`);
  }
  if ((e.DISCORD_TOKEN && !e.DISCORD_APP_ID) || (!e.DISCORD_TOKEN && e.DISCORD_APP_ID)) {
    throw new ConfigError('Invalid DISCORD_APP_ID: DISCORD_TOKEN and DISCORD_APP_ID must be set together');
  }
  if (e.TELEGRAM_WEBHOOK_URL && !e.TELEGRAM_WEBHOOK_SECRET) {
    throw new ConfigError(
      'Invalid TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set (anyone who finds the URL could ' +
        'otherwise post forged updates); e.g. `openssl rand -hex 32`',
    );
  }
  if (e.PROVIDER === 'ark' && !e.ARK_API_KEY) throw new ConfigError('Invalid ARK_API_KEY: required when PROVIDER=ark');
  const provider = e.PROVIDER ?? (existsSync(e.DOUBAO_SESSIONS_FILE) ? 'doubao' : e.ARK_API_KEY ? 'ark' : 'local');
  const hostForUrl = isIP(e.HOST) === 6 ? `[${e.HOST}]` : e.HOST;
  return Object.freeze({
    ...e,
    PROVIDER: provider,
    providerDefaulted: e.PROVIDER === undefined,
    publicBaseUrlDefaulted: e.PUBLIC_BASE_URL === undefined,
    PUBLIC_BASE_URL: (e.PUBLIC_BASE_URL ?? `http://${hostForUrl}:${e.PORT}`).replace(/\/+$/, ''),
  });
}

/**
 * For entry points (`npm start`, `npm run session`, `npm run demo`…): reads `.env` when present, then the
 * configuration; a bad one ends the process with its one-line-per-problem message and exit code 1.
 */
export function loadConfigOrExit(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
