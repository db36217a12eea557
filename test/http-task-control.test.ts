/**
 * `POST /api/video-gen/cancel` and `/retry` over a real socket: by seed ids, through the service's cancel and retry,
 * 404 for unknown ids, 409 for cancelling an ended task or retrying a running one, bearer auth as for every route.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support/test-api.js';
import { waitFor } from './support/test-core.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const TOKEN = 'control-test-token-0123456789';

async function post(path: string, body: unknown, token: string | null = TOKEN) {
  const res = await request(`${api!.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, json: JSON.parse(await res.body.text()) };
}

describe('cancel and retry by seed ids', () => {
  it('cancels a running task, refuses to cancel it again, retries it, refuses to retry it while it runs', async () => {
    // A render that takes a minute: the task stays running while the test acts on it.
    api = await startTestApi({ env: { API_TOKEN: TOKEN, LOCAL_RENDER_S: '60' } });
    const made = await post('/api/video-gen/generate', { prompt: 'a kite over a beach' });
    expect(made.status).toBe(200);
    const ids = { conversation_id: made.json.conversation_id, message_id: made.json.message_id };

    const cancelled = await post('/api/video-gen/cancel', ids);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ success: true, task: { ...ids, status: 'cancelled', error: 'cancelled' } });
    const task = (await api.core.store.findBySeedIds(ids.conversation_id, ids.message_id))!;
    expect(task.status).toBe('cancelled');

    const again = await post('/api/video-gen/cancel', ids);
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ detail: `task ${task.id} is already cancelled`, code: 'TASK_ALREADY_FINAL' });

    const retried = await post('/api/video-gen/retry', ids);
    expect(retried.status).toBe(200);
    expect(retried.json.task).toMatchObject({ ...ids, status: 'pending', error: null, retry_count: 0 });
    expect((await api.core.store.get(task.id))!.generation).toBe(1);

    const running = await post('/api/video-gen/retry', ids);
    expect(running.status).toBe(409);
    expect(running.json.detail).toMatch(/only failed or cancelled tasks can be retried/);
  });

  it('answers 404 for unknown ids, 422 for ids that are not digit strings, 401 without the token', async () => {
    api = await startTestApi({ env: { API_TOKEN: TOKEN } });
    const unknown = { conversation_id: '111', message_id: '222' };
    for (const route of ['cancel', 'retry']) {
      expect(await post(`/api/video-gen/${route}`, unknown)).toEqual({
        status: 404,
        json: { detail: '未找到该视频任务', code: 'NOT_FOUND' },
      });
      const bad = await post(`/api/video-gen/${route}`, { conversation_id: '../x', message_id: '1' });
      expect(bad.status).toBe(422);
      expect(bad.json.detail).toMatch(/conversation_id/);
      const missing = await post(`/api/video-gen/${route}`, unknown, null);
      expect(missing.status).toBe(401);
    }
  });

  it('refuses to cancel a completed task (409) and does not touch it', async () => {
    api = await startTestApi({ env: { API_TOKEN: TOKEN } });
    const made = await post('/api/video-gen/generate', { prompt: 'a lighthouse at dusk' });
    const ids = { conversation_id: made.json.conversation_id, message_id: made.json.message_id };
    const done = await waitFor(
      async () => (await api!.core.store.findBySeedIds(ids.conversation_id, ids.message_id))!,
      (t) => t.status === 'completed',
      60_000,
    );
    expect(done.status).toBe('completed');
    const res = await post('/api/video-gen/cancel', ids);
    expect(res).toEqual({
      status: 409,
      json: { detail: `task ${done.id} is already completed`, code: 'TASK_ALREADY_FINAL' },
    });
    const retry = await post('/api/video-gen/retry', ids);
    expect(retry.status).toBe(409);
    expect((await api.core.store.get(done.id))!.status).toBe('completed');
  });
});
