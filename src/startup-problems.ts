/**
 * Start-up problems an operator can fix, each said in one line without a stack trace: what stops the service
 * (the port is taken, DATA_DIR cannot be written) and what only deserves a warning (links that other machines
 * cannot open, a Doubao provider with no usable session).
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { type Config, isLoopbackHost } from './config.js';
import type { VideoProvider } from './providers/provider.js';

const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The sentence for an error that stops start-up and that the operator can fix; undefined for anything else. */
export function describeStartupError(error: unknown, config: Config): string | undefined {
  const code = codeOf(error);
  if (code === 'EADDRINUSE') {
    return `Cannot listen on ${config.HOST}:${config.PORT}: the port is already in use (another copy of the service, or another program); stop it or set PORT`;
  }
  if (code === 'EADDRNOTAVAIL')
    return `Cannot listen on ${config.HOST}:${config.PORT}: no such address here; check HOST`;
  if (code === 'EACCES' && (error as { syscall?: string }).syscall === 'listen') {
    return `Cannot listen on ${config.HOST}:${config.PORT}: permission denied (ports below 1024 need privileges); set PORT`;
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') {
    // SQLite does not say why; the folder's own answer does.
    const why = writeProblem(config.DATA_DIR);
    return why
      ? unwritable(config, why)
      : `The database in DATA_DIR (${resolve(config.DATA_DIR)}) cannot be opened (${code}); check its files' owner and permissions`;
  }
  if (code && UNWRITABLE.has(code)) {
    return unwritable(config, code);
  }
  return undefined;
}

function unwritable(config: Config, code: string): string {
  return `DATA_DIR (${resolve(config.DATA_DIR)}) is not writable (${code}): give this user write access to it or set DATA_DIR`;
}

/** The error code of writing into `dir`, or undefined when it can be written. */
function writeProblem(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (error) {
    return codeOf(error) ?? 'EACCES';
  }
}

/** Warnings worth one line each at start. */
export function startupWarnings(config: Config, provider: VideoProvider): string[] {
  const warnings: string[] = [];
  if (!isLoopbackHost(config.HOST) && config.publicBaseUrlDefaulted) {
    warnings.push(
      `HOST is ${config.HOST} but PUBLIC_BASE_URL is not set: video links will read ${config.PUBLIC_BASE_URL}/videos/…, which users cannot open; set PUBLIC_BASE_URL to the address they reach this server by`,
    );
  }
  const readiness = provider.ready?.();
  if (config.PROVIDER === 'doubao' && readiness && !readiness.ready) {
    warnings.push(
      `PROVIDER=doubao has no usable session in ${config.DOUBAO_SESSIONS_FILE}: tasks will wait until one is added (${readiness.reason ?? 'run `npm run session`'})`,
    );
  }
  return [...warnings, ...openBotWarnings(config)];
}

/** One line per configured bot that anyone may use (its allow-list is empty): they all spend the owner's account. */
export function openBotWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.TELEGRAM_TOKEN && config.TELEGRAM_ALLOWED_CHATS.size === 0) {
    warnings.push(
      'The Telegram bot is open to everyone who finds it (TELEGRAM_ALLOWED_CHATS is empty); list the chat ids that may use it',
    );
  }
  if (config.DISCORD_TOKEN && config.DISCORD_ALLOWED_GUILDS.size === 0 && config.DISCORD_ALLOWED_USERS.size === 0) {
    warnings.push(
      'The Discord bot is open to everyone who can reach it (DISCORD_ALLOWED_GUILDS and DISCORD_ALLOWED_USERS are empty); list the servers or users that may use it',
    );
  }
  return warnings;
}
