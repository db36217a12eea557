import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../adapters/http/index.js';
import { type ArkFake, type ArkKnobs, startArkFake } from './fakes/ark/index.js';
import { arkEnv, arkProvider } from './support/ark-setup.js';
import { isMp4, sampleImage } from './support/media-samples.js';
import { finished, startTestCore, type TestCore, waitFor } from './support/test-core.js';

let fake: ArkFake | undefined;
let core: TestCore | undefined;
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  await core?.dispose();
  await fake?.close();
  app = core = fake = undefined;
});

async function setup(knobs: Partial<ArkKnobs> = {}, env: Record<string, string> = {}) {
  fake = await startArkFake(knobs);
  core = await startTestCore({ env: arkEnv(fake, env), provider: arkProvider });
  app = await buildHttpApp({
    service: core.service,
    config: core.config,
    log: core.log,
    videosDir: core.media.videosDir,
  });
  return { fake, core, app };
}

/** Asks for a video through the seed API and returns the reply and (when created) our task. */
async function generate(body: Record<string, unknown>) {
  const res = await app!.inject({ method: 'POST', url: '/api/video-gen/generate', payload: body });
  const json = res.json();
  const task =
    res.statusCode === 200 ? await core!.service.getBySeedIds(json.conversation_id, json.message_id) : undefined;
  return { res, json, task };
}

describe('ark provider through the core and the HTTP API', () => {
  it('turns a prompt into a re-hosted video, without the API key ever reaching the logs', async () => {
    await setup();
    const { res, task } = await generate({ prompt: 'a paper boat in the rain' });
    expect(res.statusCode).toBe(200);
    const done = await waitFor(() => core!.service.get(task!.id), finished);
    expect(done.status).toBe('completed');
    expect(fake!.tasks[0]!.body).toMatchObject({ model: 'seedance-t2v-test', ratio: '16:9', duration: 5 });
    const status = await app!.inject({
      url: `/api/video-gen/status?conversation_id=${done.conversationId}&message_id=${done.messageId}`,
    });
    const videoUrl = status.json().task.video_urls[0] as string;
    const video = await app!.inject({ url: new URL(videoUrl).pathname });
    expect(isMp4(video.rawPayload)).toBe(true);
    expect(core!.logs()).not.toContain(fake!.knobs.apiKey);
  });

  it('sends an uploaded image to Ark as a data URI of the same bytes', async () => {
    await setup();
    const png = sampleImage('png');
    const upload = await app!.inject({
      method: 'POST',
      url: '/api/file/upload?file_type=2&file_name=cat.png',
      headers: { 'content-type': 'application/octet-stream' },
      payload: png,
    });
    expect(upload.statusCode).toBe(200);
    const { task } = await generate({ prompt: 'the cat waves', image_attachment: upload.json() });
    const done = await waitFor(() => core!.service.get(task!.id), finished);
    expect(done).toMatchObject({ status: 'completed', kind: 'i2v' });
    const sent = fake!.tasks[0]!.body;
    expect(sent.model).toBe('seedance-i2v-test');
    const url = (sent.content[1] as { image_url: { url: string } }).image_url.url;
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(url.slice('data:image/png;base64,'.length), 'base64').equals(png)).toBe(true);
  });

  it('cancels a task still queued on Ark, upstream too', async () => {
    await setup({ queuedMs: 60_000 });
    const { task } = await generate({ prompt: 'never mind' });
    const cancelled = await core!.service.cancel(task!.id, { admin: true });
    expect(cancelled.status).toBe('cancelled');
    expect(fake!.statusOf(fake!.tasks[0]!.id)).toBe('cancelled');
  });

  it('refuses to cancel a task Ark is already generating, says why, and lets it finish', async () => {
    await setup({ queuedMs: 0, runningMs: 60_000 });
    const { task } = await generate({ prompt: 'too late to stop' });
    const error = await core!.service.cancel(task!.id, { admin: true }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', retryable: false });
    expect((error as Error).message).toMatch(/already being generated and will finish/);
    expect((await core!.service.get(task!.id)).status).not.toBe('cancelled');
    fake!.knobs.runningMs = 0;
    expect((await waitFor(() => core!.service.get(task!.id), finished)).status).toBe('completed');
  });

  it('fails at once, in plain words, when Ark rejects the API key', async () => {
    await setup({}, { ARK_API_KEY: 'sk-not-the-right-key' });
    const { res } = await generate({ prompt: 'anything' });
    expect(res.statusCode).toBe(502);
    expect(res.json().detail).toMatch(/Ark rejected the API key.*check ARK_API_KEY/);
    expect(core!.logs()).not.toContain('sk-not-the-right-key');
  });

  it('fails at once when Ark refuses the prompt under its content policy', async () => {
    await setup({
      createError: {
        status: 400,
        code: 'InputTextSensitiveContentDetected',
        message: 'The input text may contain sensitive information.',
      },
    });
    const { res } = await generate({ prompt: 'something refused' });
    expect(res.statusCode).toBe(502);
    expect(res.json().detail).toMatch(/content policy/);
  });

  it('fails with the reason when Ark ends the task for its content policy', async () => {
    await setup({
      queuedMs: 0,
      runningMs: 0,
      failWith: { code: 'OutputVideoSensitiveContentDetected', message: 'flagged' },
    });
    const { task } = await generate({ prompt: 'borderline' });
    const done = await waitFor(() => core!.service.get(task!.id), finished);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/content policy.*OutputVideoSensitiveContentDetected/);
  });

  it('rides out rate limits (each costs an attempt) and then succeeds', async () => {
    await setup({ rateLimitNext: 2 });
    const { res, task } = await generate({ prompt: 'patience' });
    expect(res.statusCode).toBe(200);
    expect(task!.error).toMatch(/rate limiting/);
    const done = await waitFor(() => core!.service.get(task!.id), finished);
    expect(done.status).toBe('completed');
    expect(done.attempts).toBeGreaterThanOrEqual(3);
    expect(fake!.tasks).toHaveLength(1);
  });

  it('#12.10 completes with the upstream link, saying the copy failed, when the result link refuses us', async () => {
    await setup({ queuedMs: 0, runningMs: 0, expiredVideo: true });
    const { task } = await generate({ prompt: 'late pickup' });
    const done = await waitFor(() => core!.service.get(task!.id), finished);
    expect(done).toMatchObject({ status: 'completed', videoFile: null });
    expect(done.videoUrls).toHaveLength(1);
    expect(done.error).toMatch(/could not be copied to this server \(could not download the video: HTTP 403\)/);
  });

  it('keeps tasks beyond ARK_MAX_CONCURRENT pending until a slot frees', async () => {
    await setup({ queuedMs: 0, runningMs: 60_000 }, { ARK_MAX_CONCURRENT: '1' });
    const first = (await generate({ prompt: 'first' })).task!;
    const second = (await generate({ prompt: 'second' })).task!;
    expect(second).toMatchObject({ status: 'pending', upstream: null });
    expect(fake!.tasks).toHaveLength(1);
    fake!.knobs.runningMs = 0;
    expect((await waitFor(() => core!.service.get(second.id), finished)).status).toBe('completed');
    expect((await core!.service.get(first.id)).status).toBe('completed');
  });
});

describe('ark callback', () => {
  it('completes the task at once, outside the API token, reading the status from Ark', async () => {
    await setup(
      { queuedMs: 0, runningMs: 0 },
      { ARK_CALLBACK: '1', ARK_FIRST_CHECK_S: '60', API_TOKEN: 'api-secret-for-tests' },
    );
    const res = await app!.inject({
      method: 'POST',
      url: '/api/video-gen/generate',
      headers: { authorization: 'Bearer api-secret-for-tests' },
      payload: { prompt: 'call me back' },
    });
    const task = await core!.service.getBySeedIds(res.json().conversation_id, res.json().message_id);
    const sent = fake!.tasks[0]!;
    expect(sent.body.callback_url).toBe(`${core!.config.PUBLIC_BASE_URL}/api/ark/callback`);
    // Ark posts the task as Get shows it; the status in it is ignored, so a lie in the body changes nothing.
    const callback = await app!.inject({
      method: 'POST',
      url: '/api/ark/callback',
      payload: { ...fake!.describe(sent.id), status: 'failed' },
    });
    expect(callback.statusCode).toBe(200);
    const done = await waitFor(() => core!.service.get(task.id), finished, 3_000);
    expect(done.status).toBe('completed');
  });

  it('answers 404 for a task id that is not ours', async () => {
    await setup({}, { ARK_CALLBACK: '1' });
    const res = await app!.inject({ method: 'POST', url: '/api/ark/callback', payload: { id: 'cgt-someone-else' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'no task with upstream id "cgt-someone-else"', code: 'NOT_FOUND' });
  });
});

describe('ark start-up reconciliation', () => {
  it('adopts the Ark task of a start the previous process did not live to record, instead of starting again', async () => {
    fake = await startArkFake({ queuedMs: 0, runningMs: 0 });
    const env = arkEnv(fake);
    const before = await startTestCore({ env, provider: arkProvider, keepData: true });
    // The dead process claimed the task and created it on Ark, then died before storing the Ark id.
    const claimedAt = Date.now();
    await before.store.insert({
      id: 'lost1',
      provider: 'ark',
      kind: 't2v',
      prompt: 'a start cut short',
      guest: false,
      imagePath: null,
      imageRef: null,
      conversationId: '1000',
      messageId: '2000',
      sectionId: null,
      upstream: null,
      status: 'pending',
      attempts: 0,
      maxAttempts: 10,
      nextAttemptAt: claimedAt,
      leaseUntil: claimedAt + before.scheduler.startLeaseMs,
      leaseOwner: 'a-process-that-died',
      claimedAt,
      progress: null,
      videoUrls: [],
      videoFile: null,
      error: null,
      origin: { platform: 'http', userId: 'api' },
      deliveredAt: null,
    });
    const create = async (model: string) => {
      const res = await request(`${fake!.apiUrl}/contents/generations/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fake!.knobs.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, content: [{ type: 'text', text: 'a start cut short' }] }),
      });
      return ((await res.body.json()) as { id: string }).id;
    };
    await create('another-app-model'); // someone else's task on the same key, same moment: not ours
    const lostId = await create('seedance-t2v-test');
    await before.dispose();

    core = await startTestCore({ env, provider: arkProvider, dataDir: before.dataDir });
    const adopted = await core.service.get('lost1');
    expect(adopted.upstream).toEqual({ id: lostId });
    const done = await waitFor(() => core!.service.get('lost1'), finished);
    expect(done.status).toBe('completed');
    expect(fake.tasks).toHaveLength(2);
  });
});
