/**
 * The story of every task in the logs, told in one place from the core's task events rather than by log calls
 * sprinkled through the code: created (id, platform, kind, a short prompt), started upstream, each look (debug),
 * completed (the link, seconds from creation), failed (the reason), cancelled, delivered (platform).
 */
import type { Logger } from 'pino';
import type { TaskEventBus } from './events.js';
import type { Task } from './task.js';

const PROMPT_CHARS = 60;

/** A prompt cut to one short line, for a log. */
export function shortPrompt(prompt: string): string {
  const flat = prompt.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length <= PROMPT_CHARS ? flat : `${chars.slice(0, PROMPT_CHARS - 1).join('')}…`;
}

/** Logs each task event; `videoLink` turns a re-hosted file name into the link users get. */
export function logTaskStory(
  events: TaskEventBus,
  log: Logger,
  videoLink: (file: string) => string,
  now: () => number = Date.now,
): void {
  const about = (task: Task) => ({ taskId: task.id, platform: task.origin.platform });
  const secondsSince = (task: Task) => Math.round((now() - Date.parse(task.createdAt)) / 100) / 10;
  events.on('queued', (task) => {
    log.info({ ...about(task), kind: task.kind, prompt: shortPrompt(task.prompt) }, 'task created');
  });
  events.on('started', (task) => {
    log.info({ ...about(task), provider: task.provider, upstreamId: task.upstream?.id }, 'task started upstream');
  });
  events.on('progress', (task) => {
    const { attempts, maxAttempts, progress, error } = task;
    log.debug({ ...about(task), attempts, maxAttempts, progress, ...(error && { error }) }, 'looked: not ready yet');
  });
  events.on('completed', (task) => {
    const link = task.videoFile ? videoLink(task.videoFile) : task.videoUrls[0];
    log.info({ ...about(task), link, seconds: secondsSince(task), attempts: task.attempts }, 'task completed');
  });
  events.on('failed', (task) => {
    log.info({ ...about(task), reason: task.error, seconds: secondsSince(task) }, 'task failed');
  });
  events.on('cancelled', (task) => log.info(about(task), 'task cancelled'));
  events.on('delivered', (task) => log.info(about(task), 'result delivered'));
}
