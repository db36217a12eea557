/**
 * The `tasks` table's columns and the Task field each holds, shared by the SQLite and the PostgreSQL store: `json`
 * columns hold JSON text (SQLite) or JSONB (PostgreSQL); `bool` columns hold 0/1 in SQLite, booleans in PostgreSQL.
 */
import type { Task } from '../task.js';

export const TASK_COLUMNS: Record<string, { field: keyof Task; json?: boolean; bool?: boolean }> = {
  id: { field: 'id' },
  provider: { field: 'provider' },
  kind: { field: 'kind' },
  prompt: { field: 'prompt' },
  guest: { field: 'guest', bool: true },
  video_options: { field: 'options', json: true },
  image_path: { field: 'imagePath' },
  image_ref: { field: 'imageRef', json: true },
  conversation_id: { field: 'conversationId' },
  message_id: { field: 'messageId' },
  section_id: { field: 'sectionId' },
  upstream: { field: 'upstream', json: true },
  status: { field: 'status' },
  attempts: { field: 'attempts' },
  max_attempts: { field: 'maxAttempts' },
  next_attempt_at: { field: 'nextAttemptAt' },
  lease_until: { field: 'leaseUntil' },
  lease_owner: { field: 'leaseOwner' },
  lease_token: { field: 'leaseToken' },
  claimed_at: { field: 'claimedAt' },
  upstream_ended: { field: 'upstreamEnded', bool: true },
  progress: { field: 'progress' },
  video_urls: { field: 'videoUrls', json: true },
  video_file: { field: 'videoFile' },
  error: { field: 'error' },
  error_reason: { field: 'errorReason', json: true },
  origin: { field: 'origin', json: true },
  request_key: { field: 'requestKey' },
  delivered_at: { field: 'deliveredAt' },
  generation: { field: 'generation' },
  created_at: { field: 'createdAt' },
  updated_at: { field: 'updatedAt' },
};

/** Field name → column, for writing a partial task. */
export const FIELD_TO_COLUMN = new Map(Object.entries(TASK_COLUMNS).map(([col, spec]) => [spec.field as string, col]));
