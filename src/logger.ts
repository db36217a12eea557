/**
 * The service's logger: pino, JSON lines in production and pretty lines in a terminal. Cookies, tokens and
 * authorization headers are redacted wherever they appear in a logged object.
 */
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
  const pretty = !destination && process.stdout.isTTY;
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

export type { Logger };
