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
  /** The generation options, present only when the task asked for them. */
  ratio?: string;
  duration?: number;
  resolution?: string;
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
    ...(task.options?.ratio && { ratio: task.options.ratio }),
    ...(task.options?.durationS && { duration: task.options.durationS }),
    ...(task.options?.resolution && { resolution: task.options.resolution }),
  };
}

/** "预计3-15分钟完成", from the configured timing; ends under a minute are said in seconds ("预计15秒-10分钟完成"). */
export function estimatedTime(window: { firstS: number; lastS: number }): string {
  const unit = (s: number) => (s < 60 ? '秒' : '分钟');
  const value = (s: number) => Math.round(s < 60 ? s : s / 60);
  const first =
    unit(window.firstS) === unit(window.lastS)
      ? `${value(window.firstS)}`
      : `${value(window.firstS)}${unit(window.firstS)}`;
  return `预计${first}-${value(window.lastS)}${unit(window.lastS)}完成`;
}
