/** A task as the store takes it (`NewTask`), pending with plain defaults; tests override the fields they are about. */
import type { NewTask } from '../../src/core/store.js';

export function newTask(id: string, fields: Partial<NewTask> = {}): NewTask {
  return {
    id,
    provider: 'p',
    kind: 't2v',
    prompt: `prompt ${id}`,
    guest: false,
    imagePath: null,
    imageRef: null,
    conversationId: id,
    messageId: id,
    sectionId: null,
    upstream: null,
    status: 'pending',
    attempts: 0,
    maxAttempts: 5,
    nextAttemptAt: null,
    leaseUntil: null,
    progress: null,
    videoUrls: [],
    videoFile: null,
    error: null,
    origin: { platform: 'http', userId: 'u' },
    deliveredAt: null,
    ...fields,
  };
}
