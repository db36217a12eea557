/**
 * Plain-text renderings of tasks for chat replies: one line per task in lists, and the full detail admins see.
 * The detail leaves out `origin.reply` (platform tokens may live there) and upstream internals.
 */
import { type Delivery, describeOptions, type Task } from '../../src/core/index.js';

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

/** `✅ abc123 · t2v · 9:16 · 10 s · 2026-01-01 10:00 · a cat surfing…` (options when asked), optionally with the owner. */
export function taskLine(task: Task, withOwner = false): string {
  const owner = withOwner ? ` · ${task.origin.platform}:${task.origin.userId}` : '';
  const when = task.createdAt.slice(0, 16).replace('T', ' ');
  const options = task.options ? ` · ${describeOptions(task.options)}` : '';
  return `${ICON[task.status]} ${task.id} · ${task.kind}${options}${owner} · ${when} · ${short(task.prompt, 40)}`;
}

/** How telling the asker the latest outcome went: `delivery: sent …`, `delivery: 3 tries, last error: …`. */
function deliveryLine(delivery: Delivery | undefined): string | undefined {
  if (!delivery) return undefined;
  if (delivery.state === 'given_up') return `delivery: given up — ${delivery.givenUpReason}`;
  if (delivery.state === 'pending' && delivery.tries > 0) {
    const next = new Date(delivery.nextTryAt).toISOString();
    return `delivery: ${delivery.tries} failed tries, last error: ${delivery.lastError}; next try ${next}`;
  }
  return undefined;
}

export function taskDetail(task: Task, publicBaseUrl: string, deliveries: readonly Delivery[] = []): string {
  return [
    `${ICON[task.status]} ${task.id} — ${task.status}`,
    `kind: ${task.kind} · provider: ${task.provider}`,
    task.options ? `options: ${describeOptions(task.options)}` : undefined,
    `attempts: ${task.attempts}/${task.maxAttempts}`,
    `owner: ${task.origin.platform}:${task.origin.userId}${task.origin.chatId ? ` (chat ${task.origin.chatId})` : ''}`,
    `created: ${task.createdAt}`,
    `updated: ${task.updatedAt}`,
    task.nextAttemptAt ? `next look: ${new Date(task.nextAttemptAt).toISOString()}` : undefined,
    task.error ? `error: ${task.error}` : undefined,
    task.videoFile ? `video: ${publicBaseUrl}/videos/${task.videoFile}` : undefined,
    task.deliveredAt ? `delivered: ${task.deliveredAt}` : undefined,
    deliveryLine(deliveries.at(-1)),
    `prompt: ${short(task.prompt, 1500)}`,
  ]
    .filter((line) => line !== undefined)
    .join('\n');
}
