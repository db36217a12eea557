/**
 * Issue 13, the HTTP surface under hostile or careless clients: lists come in pages, the import route checks
 * what it stores, errors always have the `{"detail"}` shape, and the small input checks (empty image_url,
 * Idempotency-Key reuse, invisible prompts, prompt length in characters, bearer case).
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idleProvider } from './support/idle-provider.js';
import { startTestApi, type TestApi } from './support/test-api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ provider: () => idleProvider() });
});
afterAll(() => api.close());

async function get(path: string) {
  const res = await request(`${api.base}${path}`);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('#13.6 lists come in pages', () => {
  beforeAll(() => {
    for (let i = 0; i < 150; i++) {
      api.core.service.importSeedTask({
        conversationId: String(7_000_000_000 + i),
        messageId: String(8_000_000_000 + i),
        status: 'completed',
        videoUrls: ['https://example.com/v.mp4'],
        attempts: 1,
        maxAttempts: 5,
        error: null,
      });
    }
  });

  it('#13.6 /api/video-gen/list without limit answers 100 tasks and the total; limit above 1000 is refused', async () => {
    const first = await get('/api/video-gen/list');
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(150);
    expect(first.body.tasks).toHaveLength(100);
    const rest = await get('/api/video-gen/list?offset=100');
    expect(rest.body.tasks).toHaveLength(50);
    const tooMany = await get('/api/video-gen/list?limit=1001');
    expect(tooMany.status).toBe(422);
    expect(typeof tooMany.body.detail).toBe('string');
  });

  it("#13.6 the seed's /api/video/all_tasks pages the same way", async () => {
    const first = await get('/api/video/all_tasks');
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(150);
    expect(first.body.tasks).toHaveLength(100);
    const page = await get('/api/video/all_tasks?limit=20&offset=140');
    expect(page.body.tasks).toHaveLength(10);
    expect((await get('/api/video/all_tasks?limit=5000')).status).toBe(422);
  });
});
