/**
 * Issue 13, the HTTP surface under hostile or careless clients: lists come in pages, the import route checks
 * what it stores, errors always have the `{"detail"}` shape, and the small input checks (empty image_url,
 * Idempotency-Key reuse, invisible prompts, prompt length in characters, bearer case).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpAdapter } from '../adapters/http/index.js';
import { loadConfig } from '../src/config.js';
import { createLocalProvider } from '../src/providers/local/index.js';
import { idleProvider } from './support/idle-provider.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { startTestCore, testConfig } from './support/test-core.js';

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
  beforeAll(async () => {
    for (let i = 0; i < 150; i++) {
      await api.core.service.importSeedTask({
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

describe('#13.7 the import route', () => {
  const importFile = (body: unknown) =>
    request(`${api.base}/api/video-gen/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const entry = (over: Record<string, unknown>) => ({
    conversation_id: '5551',
    message_id: '6661',
    status: 'completed',
    video_urls: ['https://example.com/v.mp4'],
    ...over,
  });

  it("#13.7 ids that are not the seed's digit strings are refused (422), on import and on get_url", async () => {
    for (const bad of ['../../../../tmp/x/exists', '12/34', '', 'abc', '1'.repeat(65)]) {
      const res = await importFile({ x: entry({ conversation_id: bad }) });
      expect(res.statusCode, bad).toBe(422);
      await res.body.dump();
    }
    const look = await get('/api/video/get_url?conversation_id=..%2F..%2Ftmp%2Fx%2Fexists&message_id=1');
    expect(look.status).toBe(422);
    expect(String(look.body.detail)).toMatch(/conversation_id/);
  });

  it('#13.7 imported video_urls must be http(s): javascript: and file: links are refused', async () => {
    for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,x', 'ftp://x/y.mp4']) {
      const res = await importFile({ x: entry({ video_urls: [url] }) });
      expect(res.statusCode, url).toBe(422);
      await res.body.dump();
    }
    expect((await api.core.service.list({ conversationId: '5551' })).total).toBe(0);
  });

  it('#13.7 an unfinished import for a provider not configured fails at once instead of staying pending', async () => {
    const res = await importFile({ x: entry({ conversation_id: '5552', status: 'processing', video_urls: [] }) });
    expect(res.statusCode).toBe(200);
    const task = await api.core.service.getBySeedIds('5552', '6661');
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/doubao provider, which is no longer configured \(the service now runs idle\)/);
  });

  it('#13.7 the local renderer never turns a foreign job id into a path (no file-existence oracle)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dvb-oracle-'));
    const workDir = join(root, 'a', 'b');
    mkdirSync(join(root, 'x'), { recursive: true });
    writeFileSync(join(root, 'x', 'exists.mp4'), 'x');
    const provider = createLocalProvider({ workDir, ffmpegPath: '/nonexistent/ffmpeg' });
    const exists = await provider.poll({ id: '../../../x/exists' });
    const missing = await provider.poll({ id: '../../../x/missing' });
    expect(exists).toEqual(missing);
    expect(exists).toMatchObject({ state: 'failed', retryable: false });
    await provider.close?.();
    rmSync(root, { recursive: true, force: true });
  });
});

describe('#13.8 error shape', () => {
  it('#13.8 GET /%ff answers 400 with {"detail": …}, not Fastify\'s {error, code}', async () => {
    for (const path of ['/%ff', '/videos/%c0%af.mp4', '/api/%E0%A4%A', '/api/video-gen/%ff']) {
      const res = await request(`${api.base}${path}`);
      const body = (await res.body.json()) as Record<string, unknown>;
      expect(res.statusCode, path).toBeLessThan(500);
      expect(res.statusCode, path).toBeGreaterThanOrEqual(400);
      expect(Object.keys(body), path).toEqual(['detail']);
    }
    const res = await request(`${api.base}/%ff`);
    expect(res.statusCode).toBe(400);
    expect(await res.body.json()).toEqual({ detail: 'the URL is not valid (a bad percent-encoding?)' });
  });
});

describe('#13.9 the small ones', () => {
  const generate = (body: unknown, headers: Record<string, string> = {}) =>
    request(`${api.base}/api/video-gen/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }));

  it('#13.9 "image_url": "" is a 400, not a silent text-to-video task', async () => {
    const before = (await api.core.service.list()).total;
    const res = await generate({ prompt: 'a cat', image_url: '' });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/image_url is empty/);
    expect((await generate({ prompt: 'a cat', image_url: '   ' })).status).toBe(400);
    expect((await api.core.service.list()).total).toBe(before);
  });

  it('#13.9 an Idempotency-Key reused with a different body is a 422; the same body gets the same task', async () => {
    const key = { 'idempotency-key': 'key-13-9' };
    const first = await generate({ prompt: 'a red fox' }, key);
    expect(first.status).toBe(200);
    const again = await generate({ prompt: 'a red fox' }, key);
    expect(again.body.message_id).toBe(first.body.message_id);
    const other = await generate({ prompt: 'a blue whale' }, key);
    expect(other.status).toBe(422);
    expect(other.body.detail).toMatch(/already used for a different request/);
    expect((await generate({ prompt: 'a red fox', guest: true }, key)).status).toBe(422);
  });

  it('#13.9 a prompt of only NUL or zero-width characters is empty (400)', async () => {
    for (const prompt of ['\u0000', '\u0000\u0000 ', '\u200b\u200c\u200d\ufeff', '\u2060\u00ad', ' \u3000 ']) {
      const res = await generate({ prompt });
      expect(res.status, JSON.stringify(prompt)).toBe(400);
      expect(res.body.detail).toMatch(/prompt is empty/);
    }
  });

  it('#13.9 the prompt limit counts characters (code points), not UTF-16 units', async () => {
    const emoji = '😀'.repeat(2000); // 2000 characters, 4000 UTF-16 units
    expect((await generate({ prompt: emoji })).status).toBe(200);
    const over = await generate({ prompt: `${emoji}😀` });
    expect(over.status).toBe(400);
    expect(over.body.detail).toBe('the prompt is 2001 characters; the limit is 2000');
  });

  it('#13.9 `bearer` in any case is accepted (auth schemes are case-insensitive)', async () => {
    const token = 'a-token-of-16-chars';
    const guarded = await startTestApi({ env: { API_TOKEN: token }, provider: () => idleProvider() });
    try {
      for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
        const res = await request(`${guarded.base}/api/video-gen/list`, {
          headers: { authorization: `${scheme} ${token}` },
        });
        expect(res.statusCode, scheme).toBe(200);
        await res.body.dump();
      }
      const wrong = await request(`${guarded.base}/api/video-gen/list`, { headers: { authorization: 'Basic x' } });
      expect(wrong.statusCode).toBe(401);
      await wrong.body.dump();
    } finally {
      await guarded.close();
    }
  });

  it('#13.9 API_TOKEN shorter than 16 characters is refused at start-up', () => {
    expect(() => loadConfig({ DOUBAO_SESSIONS_FILE: '/nonexistent', API_TOKEN: 'x' })).toThrow(
      /Invalid API_TOKEN: must be at least 16 characters/,
    );
    expect(loadConfig({ DOUBAO_SESSIONS_FILE: '/nonexistent', API_TOKEN: 'x'.repeat(16) }).API_TOKEN).toHaveLength(16);
  });

  it('#13.9 HOST=[::1] is accepted and listened on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dvb-host-'));
    const config = testConfig({ HOST: '[::1]' }, dir);
    expect(config.HOST).toBe('::1');
    expect(config.PUBLIC_BASE_URL).toBe('http://[::1]:0');
    const core = await startTestCore({ env: { HOST: '[::1]' }, provider: () => idleProvider() });
    const http = createHttpAdapter({ service: core.service, config: core.config, log: core.log, videosDir: dir });
    try {
      const address = await http.start();
      expect(address).toMatch(/^http:\/\/\[::1\]:\d+$/);
      const res = await request(`${address}/healthz`);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await http.stop();
      await core.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
