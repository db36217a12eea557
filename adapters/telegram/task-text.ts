/**
 * Plain-text renderings of tasks for chat replies: one line per task in lists, and the full detail admins see.
 * The detail leaves out `origin.reply` (platform tokens may live there) and upstream internals.
 */
import type { Task } from '../../src/core/index.js';

const ICON: Record<Task['status'], string> = {
  pending: '🕓',
  processing: '⏳',
  completed: '✅',
  failed: '❌',
  cancelled: '🚫',
};

function short(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `✅ abc123 · t2v · 2026-01-01 10:00 · a cat surfing…`, optionally with the owner. */
export function taskLine(task: Task, withOwner = false): string {
  const owner = withOwner ? ` · ${task.origin.platform}:${task.origin.userId}` : '';
  const when = task.createdAt.slice(0, 16).replace('T', ' ');
  return `${ICON[task.status]} ${task.id} · ${task.kind}${owner} · ${when} · ${short(task.prompt, 40)}`;
}

export function taskDetail(task: Task, publicBaseUrl: string): string {
  return [
    `${ICON[task.status]} ${task.id} — ${task.status}`,
    `kind: ${task.kind} · provider: ${task.provider}`,
    `attempts: ${task.attempts}/${task.maxAttempts}`,
    `owner: ${task.origin.platform}:${task.origin.userId}${task.origin.chatId ? ` (chat ${task.origin.chatId})` : ''}`,
    `created: ${task.createdAt}`,
    `updated: ${task.updatedAt}`,
    task.nextAttemptAt ? `next look: ${new Date(task.nextAttemptAt).toISOString()}` : undefined,
    task.error ? `error: ${task.error}` : undefined,
    task.videoFile ? `video: ${publicBaseUrl}/videos/${task.videoFile}` : undefined,
    task.deliveredAt ? `delivered: ${task.deliveredAt}` : undefined,
    `prompt: ${short(task.prompt, 1500)}`,
  ]
    .filter((line) => line !== undefined)
    .join('\n');
}
