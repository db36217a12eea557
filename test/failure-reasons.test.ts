/**
 * Why a task failed, as a code users are shown in their language (`task.errorReason`): the core records it where
 * it knows — the upstream refused for good (its words kept as `detail`), a step timed out, the video was not
 * ready after the last look, the upstream kept failing — and a retry clears it. The English `error` is unchanged.
 * An upstream failure at submit is answered over HTTP with the English detail and the code.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { permanent, type ScriptedProvider, scriptedProvider, transient } from './support/scripted-provider.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { finished, startTestCore, waitFor } from './support/test-core.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const FAST = { FIRST_ATTEMPT_DELAY_S: '0.05', RETRY_INTERVAL_S: '0.05', ATTEMPT_TIMEOUT_S: '0.3' };

async function failedTask(provider: ScriptedProvider, env: Record<string, string>) {
  api = await startTestApi({ env: { ...FAST, ...env }, provider: () => provider });
  const task = await api.core.service.submit({ prompt: 'a kite', origin: { platform: 'telegram', userId: '9' } });
  return waitFor(() => api!.core.service.get(task.id), finished, 10_000);
}

describe('failure reasons', () => {
  it('a refusal keeps the upstream’s words as detail', async () => {
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'failed', reason: '内容不合规', retryable: false });
    const task = await failedTask(provider, { MAX_ATTEMPTS: '3' });
    expect(task).toMatchObject({
      status: 'failed',
      error: '内容不合规',
      errorReason: { code: 'UPSTREAM_REFUSED', params: { detail: '内容不合规' } },
    });
  });

  it('not ready after the last look', async () => {
    const task = await failedTask(scriptedProvider(), { MAX_ATTEMPTS: '2' });
    expect(task.errorReason).toEqual({ code: 'NOT_READY', params: { attempts: 2 } });
    expect(task.error).toBe('video not ready after 2 attempts');
  });

  it('a step that timed out on its last attempt', async () => {
    const provider = scriptedProvider();
    provider.holdNextPoll();
    const task = await failedTask(provider, { MAX_ATTEMPTS: '1' });
    expect(task.errorReason).toEqual({ code: 'UPSTREAM_TIMEOUT', params: { seconds: 0.3 } });
    expect(task.error).toMatch(/did not answer within 0\.3 s \(gave up after 1 attempts\)/);
  });

  it('an upstream that kept failing, and a retry clears the reason', async () => {
    const provider = scriptedProvider();
    provider.pollScript.push(transient(), transient());
    const task = await failedTask(provider, { MAX_ATTEMPTS: '2' });
    expect(task.errorReason).toEqual({ code: 'UPSTREAM_UNAVAILABLE', params: {} });
    const retried = await api!.core.service.retry(task.id, { admin: true });
    expect(retried.errorReason).toBeNull();
  });

  it('a task of a provider no longer configured', async () => {
    const first = await startTestCore({ keepData: true, provider: () => scriptedProvider({ name: 'gone' }) });
    const task = await first.service.submit({ prompt: 'a kite', origin: { platform: 'telegram', userId: '9' } });
    await first.dispose();
    const second = await startTestCore({ dataDir: first.dataDir, provider: () => scriptedProvider() });
    try {
      expect((await second.service.get(task.id)).errorReason).toEqual({
        code: 'PROVIDER_NOT_SERVED',
        params: { provider: 'gone', running: 'scripted' },
      });
    } finally {
      await second.dispose();
    }
  });

  it('HTTP: a start refused for good answers 502 with the English detail and the code', async () => {
    const provider = scriptedProvider();
    provider.startScript.push(permanent('the prompt was refused'));
    api = await startTestApi({ env: FAST, provider: () => provider });
    const res = await request(`${api.base}/api/video-gen/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a kite' }),
    });
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toEqual({ detail: 'the prompt was refused', code: 'UPSTREAM_REFUSED' });
  });
});
