import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMp4, sampleImage } from './support/media-samples.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import type { TestCore } from './support/test-core.js';

let api: TestApi | undefined;
let core: TestCore;
let base: string;

async function serve(env: Record<string, string> = {}) {
  api = await startTestApi({ env });
  ({ core, base } = api);
}

async function call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) {
  const isBytes = body instanceof Uint8Array;
  const res = await request(`${base}${path}`, {
    method,
    headers:
      body === undefined
        ? headers
        : { 'content-type': isBytes ? 'application/octet-stream' : 'application/json', ...headers },
    body: body === undefined ? undefined : isBytes ? body : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
}

async function waitDone(conversation_id: string, message_id: string) {
  for (let i = 0; i < 120; i++) {
    const { json } = await call(
      'GET',
      `/api/video-gen/status?conversation_id=${conversation_id}&message_id=${message_id}`,
    );
    if (['completed', 'failed'].includes(json.task.status)) return json.task;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('task did not finish');
}

afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe("the seed guide's client flow over a real socket (local provider, 1-second timings)", () => {
  beforeEach(() => serve());

  it('uploads, generates image- and text-to-video, polls to completion and lists both', async () => {
    const upload = await call('POST', '/api/file/upload?file_type=2&file_name=cat.jpg', sampleImage('jpg'));
    expect(upload.status).toBe(200);
    expect(upload.json).toMatchObject({
      type: 'vlm_image',
      name: 'cat.jpg',
      file_review_state: 3,
      file_parse_state: 3,
    });
    expect(upload.json.option).toEqual({ width: 320, height: 200 });

    const i2v = await call('POST', '/api/video-gen/generate', {
      prompt: '请将这张图片生成一个5秒的视频',
      image_attachment: upload.json,
    });
    const t2v = await call('POST', '/api/video-gen/generate', { prompt: 'a paper boat on a rainy street' });
    for (const res of [i2v, t2v]) {
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ success: true, task_status: 'pending', estimated_time: '预计1-30秒完成' });
      expect(res.json.conversation_id).toMatch(/^\d{16}$/);
      expect(res.json.message_id).toMatch(/^\d{16}$/);
    }

    for (const res of [i2v, t2v]) {
      const task = await waitDone(res.json.conversation_id, res.json.message_id);
      expect(task).toMatchObject({ status: 'completed', max_retries: 30, error: null });
      expect(task.retry_count).toBeGreaterThanOrEqual(1);
      expect(Object.keys(task).sort()).toEqual([
        'conversation_id',
        'created_at',
        'error',
        'max_retries',
        'message_id',
        'retry_count',
        'status',
        'updated_at',
        'video_urls',
      ]);
      const video = await request(`${base}${new URL(task.video_urls[0]).pathname}`);
      expect(video.statusCode).toBe(200);
      expect(video.headers['content-type']).toBe('video/mp4');
      expect(isMp4(new Uint8Array(await video.body.arrayBuffer()))).toBe(true);
    }

    const list = await call('GET', '/api/video-gen/list');
    expect(list.json).toMatchObject({ success: true, total: 2 });
    expect(list.json.tasks.map((t: { status: string }) => t.status)).toEqual(['completed', 'completed']);
    const one = await call('GET', `/api/video-gen/list?conversation_id=${t2v.json.conversation_id}`);
    expect(one.json.total).toBe(1);
  });

  it('serves videos with HTTP Range so players can seek', async () => {
    const gen = await call('POST', '/api/video-gen/generate', { prompt: 'seekable' });
    const task = await waitDone(gen.json.conversation_id, gen.json.message_id);
    const res = await request(`${base}${new URL(task.video_urls[0]).pathname}`, { headers: { range: 'bytes=0-99' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toMatch(/^bytes 0-99\/\d+$/);
    expect((await res.body.arrayBuffer()).byteLength).toBe(100);
  });

  it("answers the seed's /api/video routes: one look now, a conversation's tasks, every task", async () => {
    const gen = await call('POST', '/api/video-gen/generate', { prompt: 'the extra routes' });
    const { conversation_id, message_id } = gen.json;
    await waitDone(conversation_id, message_id);
    const look = await call('GET', `/api/video/get_url?conversation_id=${conversation_id}&message_id=${message_id}`);
    expect(look.json).toMatchObject({ success: true, conversation_id, video_count: 1, error: null });
    const bare = await call(
      'GET',
      `/api/video/task_status?conversation_id=${conversation_id}&message_id=${message_id}`,
    );
    expect(bare.json).toMatchObject({ conversation_id, message_id, status: 'completed' });
    const conv = await call('GET', `/api/video/task_status?conversation_id=${conversation_id}`);
    expect(conv.json).toMatchObject({ conversation_id, total: 1 });
    expect((await call('GET', '/api/video/all_tasks')).json.total).toBe(1);
    expect((await call('GET', '/api/video/task_status?conversation_id=404')).status).toBe(404);
  });

  it('#14 get_url returns the re-hosted link of a local video the loop has not looked at yet', async () => {
    await api?.close();
    await serve({ FIRST_ATTEMPT_DELAY_S: '600', RETRY_INTERVAL_S: '600' });
    const gen = await call('POST', '/api/video-gen/generate', { prompt: 'asked for before its first look' });
    const { conversation_id, message_id } = gen.json;
    const query = `conversation_id=${conversation_id}&message_id=${message_id}&timeout=5000`;
    let look = await call('GET', `/api/video/get_url?${query}`);
    for (let i = 0; i < 80 && !look.json.success; i++) {
      await new Promise((r) => setTimeout(r, 250));
      look = await call('GET', `/api/video/get_url?${query}`);
    }
    expect(look.json).toMatchObject({ success: true, video_count: 1, error: null });
    expect(look.json.video_urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/videos\/\S+\.mp4$/);
    const video = await request(`${base}${new URL(look.json.video_urls[0]).pathname}`);
    expect(isMp4(new Uint8Array(await video.body.arrayBuffer()))).toBe(true);
    const status = await call(
      'GET',
      `/api/video-gen/status?conversation_id=${conversation_id}&message_id=${message_id}`,
    );
    expect(status.json.task.status).toBe('completed');
  });

  it('#14 GET / redirects to the interactive docs', async () => {
    const res = await request(`${base}/`);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/docs');
    await res.body.dump();
  });

  it('publishes interactive docs, the OpenAPI document, health and metrics', async () => {
    const docs = await request(`${base}/docs/`);
    expect(docs.statusCode).toBe(200);
    expect(await docs.body.text()).toContain('swagger');
    const spec = await call('GET', '/openapi.json');
    expect(Object.keys(spec.json.paths)).toEqual(
      expect.arrayContaining([
        '/api/file/upload',
        '/api/video-gen/generate',
        '/api/video-gen/status',
        '/api/video-gen/list',
      ]),
    );
    expect((await call('GET', '/healthz')).json).toEqual({ ok: true, provider: 'local' });
    const metrics = await request(`${base}/metrics`);
    expect(await metrics.body.text()).toMatch(/video_tasks\{status="pending"\} \d+/);
  });
});

describe('bad input gets a clear JSON error and a 4xx', () => {
  beforeEach(() => serve({ MAX_IMAGE_BYTES: '50000', MAX_PROMPT_CHARS: '100' }));

  it.each([
    [
      'an upload over MAX_IMAGE_BYTES',
      () => call('POST', '/api/file/upload?file_type=2&file_name=a.png', new Uint8Array(60_000)),
      413,
      /48.8 KiB limit/,
    ],
    [
      'bytes that are not an image, named .jpg',
      () =>
        call('POST', '/api/file/upload?file_type=2&file_name=a.jpg', new TextEncoder().encode('%PDF-1.7 not an image')),
      415,
      /not a JPEG, PNG/,
    ],
    [
      'an empty upload',
      () => call('POST', '/api/file/upload?file_type=2&file_name=a.jpg', new Uint8Array(0)),
      400,
      /empty/,
    ],
    [
      'a document upload (file_type=1)',
      () => call('POST', '/api/file/upload?file_type=1&file_name=a.pdf', sampleImage('png')),
      400,
      /only images/,
    ],
    ['an empty prompt', () => call('POST', '/api/video-gen/generate', { prompt: '   ' }), 400, /prompt is empty/],
    [
      'a prompt over MAX_PROMPT_CHARS',
      () => call('POST', '/api/video-gen/generate', { prompt: 'x'.repeat(101) }),
      400,
      /limit is 100/,
    ],
    ['a missing prompt', () => call('POST', '/api/video-gen/generate', {}), 422, /prompt/],
    [
      'a prompt of the wrong type',
      () => call('POST', '/api/video-gen/generate', { prompt: { text: 1 } }),
      422,
      /prompt/,
    ],
    ['malformed JSON', () => call('POST', '/api/video-gen/generate', '{"prompt": '), 400, /not valid JSON/],
    [
      'an unknown image key',
      () => call('POST', '/api/video-gen/generate', { prompt: 'p', image_attachment: { key: '../../etc/passwd' } }),
      400,
      /unknown image key/,
    ],
    [
      'an image_url on a private address',
      () => call('POST', '/api/video-gen/generate', { prompt: 'p', image_url: 'http://127.0.0.1:1/x.png' }),
      400,
      /private or local/,
    ],
    [
      'an image_url that is not http(s)',
      () => call('POST', '/api/video-gen/generate', { prompt: 'p', image_url: 'file:///etc/passwd' }),
      400,
      /http\(s\)/,
    ],
    [
      'an unknown task',
      () => call('GET', '/api/video-gen/status?conversation_id=1&message_id=2'),
      404,
      /未找到该视频任务/,
    ],
    ['a status query without ids', () => call('GET', '/api/video-gen/status'), 422, /conversation_id/],
    ['an unknown route', () => call('GET', '/api/nothing'), 404, /no route/],
  ])('%s', async (_name, send, status, detail) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.json.detail).toMatch(detail);
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await core.service.list()).total).toBe(0);
  });
});

describe('bearer token', () => {
  it('is required on /api/* when API_TOKEN is set, and compared exactly', async () => {
    await serve({ API_TOKEN: 'secret-token-123' });
    expect((await call('GET', '/api/video-gen/list')).status).toBe(401);
    expect((await call('GET', '/api/video-gen/list', undefined, { authorization: 'Bearer wrong' })).json.detail).toBe(
      'invalid API token',
    );
    const ok = await call('GET', '/api/video-gen/list', undefined, { authorization: 'Bearer secret-token-123' });
    expect(ok.status).toBe(200);
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect(core.logs()).not.toContain('secret-token-123');
  });
});

describe('Idempotency-Key', () => {
  it('makes a re-sent generate return the same task', async () => {
    await serve();
    const key = { 'idempotency-key': 'client-req-42' };
    const first = await call('POST', '/api/video-gen/generate', { prompt: 'sent twice' }, key);
    const again = await call('POST', '/api/video-gen/generate', { prompt: 'sent twice' }, key);
    expect(again.json.conversation_id).toBe(first.json.conversation_id);
    expect(again.json.message_id).toBe(first.json.message_id);
    const other = await call('POST', '/api/video-gen/generate', { prompt: 'sent twice' }, { 'idempotency-key': 'k2' });
    expect(other.json.message_id).not.toBe(first.json.message_id);
    expect((await core.service.list()).total).toBe(2);
    const tooLong = await call(
      'POST',
      '/api/video-gen/generate',
      { prompt: 'x' },
      { 'idempotency-key': 'k'.repeat(201) },
    );
    expect(tooLong.status).toBe(422);
  });
});
