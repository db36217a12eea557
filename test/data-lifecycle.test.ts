/**
 * Issue 12, items 8–11: what happens to a task's data when the easy path is closed — one upload shared by two
 * tasks, a PROVIDER change, a finished video that cannot be copied, concurrent submits against a per-user limit.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Conflict, QuotaExceeded } from '../src/core/errors.js';
import { sampleImage } from './support/media-samples.js';
import { type RefusingServer, startRefusingServer } from './support/refusing-server.js';
import { type ScriptedProvider, scriptedProvider } from './support/scripted-provider.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { startTestCore, type TestCore } from './support/test-core.js';

let core: TestCore | undefined;
let api: TestApi | undefined;
let upstream: RefusingServer | undefined;
afterEach(async () => {
  await core?.dispose();
  await api?.close();
  await upstream?.close();
  core = api = upstream = undefined;
});

const alice = { platform: 'telegram', userId: '1001', chatId: '1001' } as const;
const succeeded = (url: string) => ({ state: 'succeeded' as const, videoUrls: [url] });

describe('#12.8 one upload, several tasks', () => {
  it('#12.8 two tasks with one uploaded image both complete', async () => {
    // One upstream job at a time: the second task starts only after the first completed.
    const provider = scriptedProvider({ maxRunning: 1 });
    provider.pollScript.push(succeeded(provider.videoUrl), succeeded(provider.videoUrl));
    core = await startTestCore({ provider: () => provider });
    const upload = await core.service.storeImage(sampleImage('png'));
    const origin = { platform: 'http', userId: 'api' } as const;
    const first = await core.service.submit({ prompt: 'one', imageKey: upload.key, origin });
    const second = await core.service.submit({ prompt: 'two', imageKey: upload.key, origin });
    expect((await core.service.get(second.id)).status).toBe('pending');
    const c = core;
    await vi.waitFor(
      async () => expect((await c.service.get(second.id)).status).not.toMatch(/pending|processing/),
      15_000,
    );
    expect(await c.service.get(second.id)).toMatchObject({ status: 'completed', error: null });
    for (const id of [first.id, second.id]) {
      expect(await c.service.get(id)).toMatchObject({ status: 'completed', error: null });
    }
    expect(provider.calls.filter((call) => call.method === 'uploadImage')).toHaveLength(2);
    // Each task has its own copy (kept for "again" until the retention sweep); the upload stays until the sweep.
    const copies = (await Promise.all([first.id, second.id].map((id) => c.service.get(id)))).map((t) => t.imagePath);
    expect(new Set(copies).size).toBe(2);
    expect(readdirSync(c.media.imagesDir)).toHaveLength(2);
    expect(readdirSync(c.media.uploadsDir)).toEqual([upload.key]);
  });
});

describe('#12.9 PROVIDER changed', () => {
  it('#12.9 unfinished tasks of a provider no longer configured are failed at start, with the reason, and free the limit', async () => {
    const env = { USER_MAX_ACTIVE: '2', FIRST_ATTEMPT_DELAY_S: '3600' };
    core = await startTestCore({ env, provider: () => scriptedProvider({ name: 'doubao' }), keepData: true });
    const old = [
      await core.service.submit({ prompt: 'before the switch', origin: alice }),
      await core.service.submit({ prompt: 'also before', origin: alice }),
    ];
    await expect(core.service.submit({ prompt: 'over the limit', origin: alice })).rejects.toThrow(QuotaExceeded);
    const { dataDir } = core;
    await core.dispose();

    const provider = scriptedProvider({ name: 'ark' });
    core = await startTestCore({ env, dataDir, provider: () => provider });
    for (const task of old) {
      const now = await core.service.get(task.id);
      expect(now.status).toBe('failed');
      expect(now.error).toMatch(/made for the doubao provider, which is no longer configured/);
      expect(now.upstream).not.toBeNull(); // kept: switching back and retrying goes on with the same job
    }
    // The user is told (the outbox delivers the failures) and may ask again.
    const told: string[] = [];
    const stop = core.outbox.register('telegram', async (task) => {
      told.push(task.id);
    });
    await vi.waitFor(() => expect(told.sort()).toEqual(old.map((t) => t.id).sort()));
    await stop();
    expect((await core.service.submit({ prompt: 'after the switch', origin: alice })).provider).toBe('ark');
    await expect(core.service.retry(old[0]!.id, { admin: true })).rejects.toThrow(Conflict);
    await expect(core.service.retry(old[0]!.id, { admin: true })).rejects.toThrow(/set PROVIDER=doubao/);
    expect(core.logs()).toContain('failed the unfinished tasks of providers no longer configured');
  });
});

describe('#12.10 a finished video that cannot be re-hosted', () => {
  async function finishWith(url: (server: RefusingServer) => string, env: Record<string, string> = {}) {
    upstream = await startRefusingServer();
    const provider: ScriptedProvider = scriptedProvider();
    provider.pollScript.push(succeeded(url(upstream)));
    api = await startTestApi({ env, provider: () => provider });
    const generated = await request(`${api.base}/api/video-gen/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a fox in the snow' }),
    });
    const { conversation_id, message_id } = (await generated.body.json()) as Record<string, string>;
    const status = `${api.base}/api/video-gen/status?conversation_id=${conversation_id}&message_id=${message_id}`;
    let seed: Record<string, unknown> = {};
    await vi.waitFor(async () => {
      seed = ((await (await request(status)).body.json()) as { task: Record<string, unknown> }).task;
      expect(seed.status).not.toMatch(/pending|processing/);
    }, 15_000);
    return seed;
  }

  it('#12.10 a 403 from an expired signed URL completes the task with the upstream link, saying the copy failed', async () => {
    const seed = await finishWith((s) => s.expiredUrl);
    expect(seed).toMatchObject({ status: 'completed', video_urls: [upstream!.expiredUrl] });
    expect(seed.error).toMatch(/could not be copied to this server \(could not download the video: HTTP 403\)/);
    const task = (await api!.core.service.list()).tasks[0]!;
    expect(task).toMatchObject({ status: 'completed', videoFile: null, videoUrls: [upstream!.expiredUrl] });
  });

  it('#12.10 a video over MAX_VIDEO_BYTES completes the task with the upstream link, saying the copy failed', async () => {
    const seed = await finishWith((s) => s.bigUrl, { MAX_VIDEO_BYTES: '1000' });
    expect(seed).toMatchObject({ status: 'completed', video_urls: [upstream!.bigUrl] });
    expect(seed.error).toMatch(/could not be copied to this server \(.*larger than the 1000 bytes limit/);
  });
});

describe('#12.11 per-user limit under concurrency', () => {
  it('#12.11 five concurrent submits with USER_MAX_ACTIVE=2 accept exactly two', async () => {
    core = await startTestCore({
      env: { USER_MAX_ACTIVE: '2', FIRST_ATTEMPT_DELAY_S: '3600' },
      provider: () => scriptedProvider(),
    });
    const c = core;
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        c.service.submit({ prompt: `photo ${i}`, image: { bytes: sampleImage('png') }, origin: alice }),
      ),
    );
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(accepted).toHaveLength(2);
    for (const r of refused) expect(r.reason).toBeInstanceOf(QuotaExceeded);
    expect((await core.service.list({ userId: alice.userId })).total).toBe(2);
    // A refused request takes its image with it.
    expect(readdirSync(join(core.dataDir, 'images'))).toHaveLength(2);
  });
});
