/**
 * #15 over the HTTP API on a real socket: `ratio` / `duration` / `resolution` on generate, checked by the core
 * (400 with what the provider supports), shown in the status answer, honoured by the local preview and sent to
 * (fake) Ark; a seed client that sends none sees exactly the answers it always saw.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type ArkFake, startArkFake } from './fakes/ark/index.js';
import { arkEnv, arkProvider } from './support/ark-setup.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { probeVideo } from './support/video-probe.js';

let api: TestApi | undefined;
let ark: ArkFake | undefined;
afterEach(async () => {
  await api?.close();
  await ark?.close();
  api = undefined;
  ark = undefined;
});

async function call(method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await request(`${api!.base}${path}`, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
}

const statusOf = (g: { conversation_id: string; message_id: string }) =>
  call('GET', `/api/video-gen/status?conversation_id=${g.conversation_id}&message_id=${g.message_id}`);

const SEED_TASK_KEYS = [
  'conversation_id',
  'message_id',
  'status',
  'video_urls',
  'retry_count',
  'max_retries',
  'created_at',
  'updated_at',
  'error',
];

describe('#15 generation options over HTTP (local preview)', () => {
  it('ratio and duration on generate: shown in status and list, rendered as asked (9:16 → 720×1280)', async () => {
    api = await startTestApi();
    const generated = await call('POST', '/api/video-gen/generate', {
      prompt: 'a tall tree',
      ratio: '9:16',
      duration: 5,
    });
    expect(generated.status).toBe(200);
    const first = await statusOf(generated.json);
    expect(first.json.task).toMatchObject({ ratio: '9:16', duration: 5 });
    expect(first.json.task).not.toHaveProperty('resolution');
    let task = first.json.task;
    for (let i = 0; i < 400 && !['completed', 'failed'].includes(task.status); i++) {
      await new Promise((r) => setTimeout(r, 250));
      task = (await statusOf(generated.json)).json.task;
    }
    expect(task.status).toBe('completed');
    const video = await request(`${api.base}${new URL(task.video_urls[0]).pathname}`); // our re-hosted copy
    const dir = mkdtempSync(join(tmpdir(), 'dvb-http-options-'));
    try {
      writeFileSync(join(dir, 'v.mp4'), Buffer.from(await video.body.arrayBuffer()));
      expect(await probeVideo(join(dir, 'v.mp4'))).toMatchObject({ width: 720, height: 1280 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const listed = await call('GET', '/api/video-gen/list');
    expect(listed.json.tasks[0]).toMatchObject({ ratio: '9:16', duration: 5 });
  }, 120_000);

  it('a bad value or an option the provider lacks is a 400 saying what is supported; nothing is created', async () => {
    api = await startTestApi();
    const ratio = await call('POST', '/api/video-gen/generate', { prompt: 'x', ratio: '7:5' });
    expect(ratio).toEqual({
      status: 400,
      json: {
        detail: 'ratio "7:5" is not valid; the local provider supports ratio 16:9, 9:16, 1:1, 4:3, 3:4, 21:9',
        code: 'INVALID_INPUT',
      },
    });
    const resolution = await call('POST', '/api/video-gen/generate', { prompt: 'x', resolution: '1080p' });
    expect(resolution).toEqual({
      status: 400,
      json: { detail: 'the local provider cannot set the resolution; leave it out', code: 'INVALID_INPUT' },
    });
    const duration = await call('POST', '/api/video-gen/generate', { prompt: 'x', duration: 7 });
    expect(duration.status).toBe(400);
    expect(duration.json.detail).toMatch(/supports duration 5 s, 10 s/);
    expect((await api.core.service.list()).total).toBe(0);
  });

  it('a seed client that sends no option (or null) gets the seed task object, key for key', async () => {
    api = await startTestApi();
    const generated = await call('POST', '/api/video-gen/generate', { prompt: 'as the seed did', ratio: null });
    expect(Object.keys(generated.json).sort()).toEqual(
      ['success', 'message', 'conversation_id', 'message_id', 'section_id', 'task_status', 'estimated_time'].sort(),
    );
    const status = await statusOf(generated.json);
    expect(Object.keys(status.json.task)).toEqual(SEED_TASK_KEYS);
    expect((await api.core.service.list()).tasks[0]?.options).toBeNull();
  });

  it('the OpenAPI description lists the three fields on generate and in the task', async () => {
    api = await startTestApi();
    const doc = (await call('GET', '/openapi.json')).json;
    const body = doc.paths['/api/video-gen/generate'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['ratio', 'duration', 'resolution']));
    expect(body.properties.duration).toMatchObject({ type: 'integer', nullable: true });
    expect(JSON.stringify(doc.components.schemas)).toContain('Aspect ratio');
  });
});

describe('#15 generation options over HTTP (Ark)', () => {
  it('resolution, ratio and duration reach Ark as its top-level fields', async () => {
    ark = await startArkFake();
    api = await startTestApi({ env: arkEnv(ark), provider: arkProvider });
    const generated = await call('POST', '/api/video-gen/generate', {
      prompt: 'a wide sea',
      ratio: '21:9',
      duration: 10,
      resolution: '1080p',
    });
    expect(generated.status).toBe(200);
    expect(ark.tasks[0]?.body).toMatchObject({ ratio: '21:9', duration: 10, resolution: '1080p' });
    expect((await statusOf(generated.json)).json.task).toMatchObject({
      ratio: '21:9',
      duration: 10,
      resolution: '1080p',
    });
    const plain = await call('POST', '/api/video-gen/generate', { prompt: 'defaults' });
    expect(plain.status).toBe(200);
    expect(ark.tasks[1]?.body).toMatchObject({ ratio: '16:9', duration: 5, resolution: '720p' });
  });
});
