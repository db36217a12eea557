/**
 * The service's logger: pino, JSON lines in production and pretty lines in a terminal when pino-pretty (a
 * development dependency) is installed. Cookies, tokens and authorization headers are redacted wherever they
 * appear in a logged object.
 */
import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';

export const REDACTED_PATHS = [
  'cookie',
  '*.cookie',
  '*.*.cookie',
  'token',
  '*.token',
  '*.*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.headers.cookie',
  'apiKey',
  '*.apiKey',
  'secret_key',
  '*.secret_key',
  '*.*.secret_key',
  'session_token',
  '*.session_token',
  '*.*.session_token',
  'x_flow_trace',
  '*.x_flow_trace',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const pretty = !destination && process.stdout.isTTY && hasPinoPretty();
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      ...(pretty && {
        transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } },
      }),
    },
    destination as pino.DestinationStream | undefined,
  );
}

/** Whether pino-pretty is installed (it is not after `npm ci --omit=dev`). */
function hasPinoPretty(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export type { Logger };
