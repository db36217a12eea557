/**
 * Security checks: the API token guards every `/api/*` route (the admin `/api/sessions` included) and never reaches
 * the logs; `image_url` and chat attachment downloads refuse loopback and private addresses however they are
 * spelled (and via DNS), and hosts other than the platform's, on every redirect hop; the Telegram bot token stays
 * out of the logs when Bot API calls fail. Downloads are aimed at a real loopback server that counts its hits.
 */
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Attachment } from 'discord.js';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadAttachment } from '../adapters/discord/attachment.js';
import { buildHttpApp } from '../adapters/http/index.js';
import { downloadLimited } from '../src/core/index.js';
import { photoMessage } from './fakes/telegram/updates.js';
import { idleProvider } from './support/idle-provider.js';
import { sampleImage } from './support/media-samples.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { startTestCore, type TestCore, testConfig } from './support/test-core.js';
import { type BotHarness, startBotHarness } from './telegram/harness.js';

let target: Server;
let port = 0;
const hits: string[] = [];
beforeAll(async () => {
  target = createServer((req, res) => {
    hits.push(String(req.url));
    if (req.url === '/redirect') return void res.writeHead(302, { location: `http://localhost:${port}/img` }).end();
    res.writeHead(200, { 'content-type': 'image/png' }).end(sampleImage('png'));
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  port = (target.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => target.close(() => resolve())));
afterEach(() => {
  hits.length = 0;
});

describe('the API token', () => {
  const token = 'tok-3f9a1c2b7d4e8f60';
  let api: TestApi;
  let core: TestCore;
  let base: string;
  beforeAll(async () => {
    api = await startTestApi({ env: { API_TOKEN: token }, provider: () => idleProvider() });
    ({ core, base } = api);
  });
  afterAll(() => api.close());

  const routes: Array<['GET' | 'POST', string]> = [
    ['GET', '/api/sessions'],
    ['GET', '/api/video-gen/list'],
    ['GET', '/api/video-gen/status?conversation_id=1&message_id=2'],
    ['POST', '/api/video-gen/generate'],
    ['POST', '/api/file/upload?file_type=2&file_name=a.png'],
    ['GET', '/api/video/all_tasks'],
    ['GET', '/api/video/get_url?conversation_id=1&message_id=2'],
    ['GET', '/api/video/task_status?conversation_id=1'],
  ];
  const wrong: Array<[string, Record<string, string>, string]> = [
    ['no header', {}, ''],
    ['a wrong token', { authorization: 'Bearer tok-wrong-guess-0000' }, ''],
    ['the token with a suffix', { authorization: `Bearer ${token}x` }, ''],
    ['a token prefix', { authorization: `Bearer ${token.slice(0, 8)}` }, ''],
    ['Basic auth', { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` }, ''],
    ['the token in the query', {}, `token=${token}&access_token=${token}`],
  ];

  it('refuses every /api route without the right bearer token, with a JSON detail', async () => {
    for (const [method, path] of routes) {
      for (const [what, headers, query] of wrong) {
        const url = `${base}${path}${query ? `${path.includes('?') ? '&' : '?'}${query}` : ''}`;
        const res = await request(url, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          ...(method === 'POST' && { body: JSON.stringify({ prompt: 'x' }) }),
        });
        expect(res.statusCode, `${method} ${path} with ${what}`).toBe(401);
        expect(((await res.body.json()) as { detail: string }).detail).toMatch(/API token/);
      }
    }
    expect((await core.service.list({})).total).toBe(0);
  });

  it('lets the right token through, keeps /healthz open, and never logs the token', async () => {
    const res = await request(`${base}/api/sessions`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect((await request(`${base}/healthz`)).statusCode).toBe(200);
    expect(core.logs()).not.toContain(token);
    expect(core.logs()).not.toContain('tok-wrong-guess-0000');
  });
});

describe('downloads refuse private addresses and foreign hosts (SSRF)', () => {
  const spellings = () => [
    `http://127.0.0.1:${port}/img`,
    `http://localhost:${port}/img`,
    `http://LOCALHOST:${port}/img`,
    `http://${hostname()}:${port}/img`, // resolves to 127.0.0.1 here: refused by the check on the resolved address
    `http://127.1:${port}/img`,
    `http://0177.0.0.1:${port}/img`,
    `http://2130706433:${port}/img`,
    `http://0x7f.0.0.1:${port}/img`,
    `http://[::ffff:127.0.0.1]:${port}/img`,
    `http://[::1]:${port}/img`,
    `http://0.0.0.0:${port}/img`,
  ];

  it('image_url: every spelling of this machine is refused before a byte is sent', async () => {
    expect((await lookup(hostname())).address).toMatch(/^127\./); // the DNS case below relies on it
    for (const url of spellings()) {
      await expect(downloadLimited(url, { maxBytes: 1e6, timeoutMs: 3_000, what: 'image_url' }), url).rejects.toThrow(
        /private or local address/,
      );
    }
    expect(hits).toEqual([]);
  });

  it('image_url through the API: 400 with a detail, nothing fetched, no task', async () => {
    const core = await startTestCore({ provider: () => idleProvider() });
    const app = await buildHttpApp({
      service: core.service,
      config: core.config,
      log: core.log,
      videosDir: core.media.videosDir,
    });
    try {
      for (const url of [...spellings(), 'http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/x.png']) {
        const res = await app.inject({
          method: 'POST',
          url: '/api/video-gen/generate',
          payload: { prompt: 'x', image_url: url },
        });
        expect(res.statusCode, url).toBe(400);
        expect(res.json().detail, url).toMatch(/image_url points to a private or local address/);
      }
      expect(hits).toEqual([]);
      expect((await core.service.list({})).total).toBe(0);
    } finally {
      await app.close();
      await core.dispose();
    }
  });

  it('an allowed host that redirects elsewhere is refused at the redirect', async () => {
    const options = { maxBytes: 1e6, timeoutMs: 3_000, allowPrivate: true, allowedHosts: new Set(['127.0.0.1']) };
    await expect(downloadLimited(`http://127.0.0.1:${port}/redirect`, options)).rejects.toThrow(
      /must come from 127\.0\.0\.1/,
    );
    expect(hits).toEqual(['/redirect']);
  });

  it('Discord attachments come only from Discord’s CDN (or the configured API host)', async () => {
    const attachment = (url: string) => ({ url, size: 100, name: 'a.png', contentType: 'image/png' }) as Attachment;
    const plain = testConfig();
    await expect(downloadAttachment(attachment(`http://127.0.0.1:${port}/img`), plain)).rejects.toThrow(
      /must come from cdn\.discordapp\.com/,
    );
    await expect(
      downloadAttachment(attachment('https://evil.example/cdn.discordapp.com/a.png'), plain),
    ).rejects.toThrow(/must come from/);
    const selfHosted = testConfig({ DISCORD_API_BASE: `http://127.0.0.1:${port}/api` });
    await expect(downloadAttachment(attachment(`http://localhost:${port}/img`), selfHosted)).rejects.toThrow(
      /must come from/,
    );
    expect(hits).toEqual([]);
    expect((await downloadAttachment(attachment(`http://127.0.0.1:${port}/img`), selfHosted)).length).toBeGreaterThan(
      0,
    );
  });
});

describe('the Telegram bot token', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
  });

  it('stays out of the logs when getFile, the file download and replies fail', async () => {
    h = await startBotHarness({}, { provider: () => idleProvider() });
    h.fake.knobs.faults.getFile = { code: 0, description: 'dropped', times: 1 };
    h.fake.knobs.faults.sendMessage = { code: 500, description: 'Internal Server Error', times: 1 };
    const from = { chatId: 960, userId: 960, languageCode: 'en' };
    h.fake.pushUpdate(photoMessage(from, h.fake.addFile(sampleImage('jpg')), { caption: 'first' }));
    h.fake.pushUpdate(photoMessage(from, { file_id: 'missing', file_unique_id: 'm', file_size: 10 }, { caption: 'x' }));
    await h.fake.waitFor('sendMessage', (c) => c.errorCode === undefined && Number(c.payload.chat_id) === 960);
    expect(h.core.logs()).toMatch(/"level":(40|50)/);
    expect(h.core.logs()).not.toContain(h.fake.token);
    expect(h.core.logs()).not.toContain(h.fake.token.split(':')[1]);
  });
});
