/**
 * Translates a Task into the seed API's task object, field for field, with our re-hosted video first in
 * `video_urls` (upstream links expire; ours does not).
 */
import type { Task } from '../../src/core/index.js';

export interface SeedTask {
  conversation_id: string;
  message_id: string;
  status: Task['status'];
  video_urls: string[];
  retry_count: number;
  max_retries: number;
  created_at: string;
  updated_at: string;
  error: string | null;
}

export function toSeedTask(task: Task, publicBaseUrl: string): SeedTask {
  const ours = task.videoFile ? [`${publicBaseUrl}/videos/${task.videoFile}`] : [];
  return {
    conversation_id: task.conversationId,
    message_id: task.messageId,
    status: task.status,
    video_urls: [...ours, ...task.videoUrls],
    retry_count: task.attempts,
    max_retries: task.maxAttempts,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    error: task.error,
  };
}

/** "预计3-15分钟完成", from the configured timing (seconds when the timing is shorter than a minute). */
export function estimatedTime(window: { firstS: number; lastS: number }): string {
  if (window.lastS < 60) return `预计${Math.round(window.firstS)}-${Math.round(window.lastS)}秒完成`;
  return `预计${Math.round(window.firstS / 60)}-${Math.round(window.lastS / 60)}分钟完成`;
}
