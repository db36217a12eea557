/**
 * The order the service stops in, on SIGTERM/SIGINT: the chat adapters side by side, then the HTTP API, then the
 * core (which waits for steps under way), so no step is cut in half, then the cluster's upstream limiter (the core's
 * last steps may still hold its slots). One part failing to stop is logged and does not keep the others running,
 * and a chat adapter that does not stop in time (an update handler stuck on a download) is left behind rather than
 * holding the whole shutdown.
 */
import type { Logger } from './logger.js';

interface Stoppable {
  stop(): Promise<void>;
}

/** What has been started so far: a signal may arrive at any point of the start-up. */
export interface RunningParts {
  chats: readonly (Stoppable & { name: string })[];
  http?: Stoppable;
  core?: Stoppable;
  /** The upstream limiter the processes of a cluster share (DATABASE_URL). */
  limiter?: { close(): Promise<void> };
}

export async function stopAll(running: RunningParts, log: Logger, chatGraceMs = 10_000): Promise<void> {
  await Promise.all(
    running.chats.map((chat) => stopPart(chat.name, () => withinGrace(chat.name, chat.stop(), chatGraceMs, log), log)),
  );
  const { http, core } = running;
  if (http) await stopPart('http', () => http.stop(), log);
  if (core) await stopPart('core', () => core.stop(), log);
  const { limiter } = running;
  if (limiter) await stopPart('upstream limiter', () => limiter.close(), log);
}

function stopPart(name: string, stop: () => Promise<void>, log: Logger): Promise<void> {
  return stop().catch((err: unknown) => log.error({ err, part: name }, `stopping ${name} failed`));
}

function withinGrace(name: string, stopping: Promise<void>, graceMs: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn(`${name} did not stop within ${graceMs / 1000} s; stopping the rest anyway`);
      resolve();
    }, graceMs);
  });
  return Promise.race([stopping, late]).finally(() => clearTimeout(timer));
}
