/**
 * #14 proxies for Doubao and Discord: each real client through a local proxy (test/support/http-proxy.ts).
 * - Doubao's undici calls (chat, ImageX, the upload store) and its headless Chromium reach a fake Doubao named
 *   `doubao.test`, a name only the proxy resolves: a call that bypassed the proxy would fail.
 * - discord.js REST goes through the proxy (an agent of discord.js's own undici), uploads of finished videos
 *   included, and so does the download of a user's image from the CDN; NO_PROXY keeps it off.
 * - The Telegram bot downloads a user's photo through the proxy, like its Bot API calls.
 * The Discord gateway is not proxied (the installed @discordjs/ws offers no way: see src/proxy.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createDoubaoProvider, type DoubaoProvider } from '../src/providers/doubao/index.js';
import { captureSession } from '../src/providers/doubao/session-capture.js';
import { doubaoOptions } from '../src/providers/index.js';
import { browserProxy } from '../src/proxy.js';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { writeSessions } from './fakes/doubao/sessions.js';
import { photoMessage } from './fakes/telegram/updates.js';
import { type DiscordRig, startDiscordRig } from './support/discord-harness.js';
import { CHROMIUM } from './support/doubao-setup.js';
import { startProxy, type TestProxy } from './support/http-proxy.js';
import { isMp4, sampleImage } from './support/media-samples.js';
import { type BotHarness, startBotHarness } from './telegram/harness.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxy(): Promise<TestProxy> {
  const started = await startProxy();
  cleanups.push(() => started.close());
  return started;
}

/** The fake Doubao under the name `doubao.test` and the provider built from the configuration, as main.ts does. */
async function doubaoBehind(env: Record<string, string>): Promise<{ fake: DoubaoFake; provider: DoubaoProvider }> {
  const fake = await startDoubaoFake();
  const dir = mkdtempSync(join(tmpdir(), 'dvb-proxy-doubao-'));
  writeSessions(join(dir, 'session.json'), { users: 1 });
  cleanups.push(
    () => fake.close(),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  const named = (url: string) => url.replace('127.0.0.1', 'doubao.test');
  const config = loadConfig({
    DATA_DIR: dir,
    PROVIDER: 'doubao',
    DOUBAO_SESSIONS_FILE: join(dir, 'session.json'),
    DOUBAO_BASE_URL: named(fake.baseUrl),
    DOUBAO_IMAGEX_URL: named(fake.imagexUrl),
    DOUBAO_UPLOAD_URL: named(fake.uploadUrl),
    DOUBAO_MIN_SPACING_MS: '0',
    DOUBAO_PAGE_WAIT_S: '1',
    ...env,
  });
  const provider = await createDoubaoProvider(doubaoOptions(config));
  cleanups.push(() => provider.close?.());
  return { fake, provider };
}

describe('#14 Doubao through HTTPS_PROXY / HTTP_PROXY', () => {
  it('the web client (chat, ImageX, upload store) goes through the proxy', async () => {
    const through = await proxy();
    const { fake, provider } = await doubaoBehind({ HTTP_PROXY: through.url, DOUBAO_TRANSPORT: 'http' });
    const image = await provider.uploadImage({ bytes: sampleImage('png'), fileName: 'cat.png', mime: 'image/png' });
    const ref = await provider.start({ prompt: 'a kite over the sea', image, guest: false });
    expect(ref.conversationId).toBeTruthy();
    expect(await provider.poll(ref)).toMatchObject({ state: expect.stringMatching(/running|succeeded/) });
    const host = new URL(fake.baseUrl).host.replace('127.0.0.1', 'doubao.test');
    expect(through.tunnels).toContain(host);
    expect(fake.requests.some((r) => r.path.includes('prepare_upload'))).toBe(true);
    expect(provider.browserLaunches).toBe(0);
  }, 30_000);

  it("the session's page (Chromium) loads and calls through the proxy", async () => {
    const through = await proxy();
    const { fake, provider } = await doubaoBehind({ HTTPS_PROXY: through.url, DOUBAO_TRANSPORT: 'page' });
    const ref = await provider.start({ prompt: 'a paper boat', guest: false });
    expect(ref.conversationId).toBeTruthy();
    expect(provider.browserLaunches).toBe(1);
    const host = new URL(fake.baseUrl).host.replace('127.0.0.1', 'doubao.test');
    // Chromium forwards plain-http requests to the proxy (https would be a CONNECT tunnel).
    expect(through.targets()).toContain(host);
  }, 60_000);

  it('`npm run session` opens its login browser through the proxy', async () => {
    const through = await proxy();
    const fake = await startDoubaoFake();
    cleanups.push(() => fake.close());
    const baseUrl = fake.baseUrl.replace('127.0.0.1', 'doubao.test');
    const session = await captureSession({
      chromiumPath: CHROMIUM,
      baseUrl,
      headless: true,
      timeoutMs: 20_000,
      proxy: browserProxy(loadConfig({ HTTP_PROXY: through.url }))!,
    });
    expect(fake.conversations.has(session.room_id)).toBe(true);
    expect(through.targets()).toContain(new URL(baseUrl).host);
  }, 40_000);

  it("NO_PROXY becomes Chromium's bypass list; `*` means no proxy at all", () => {
    const base = { HTTPS_PROXY: 'http://u:p%40ss@proxy.example:3128' };
    expect(browserProxy(loadConfig({ ...base, NO_PROXY: 'localhost, .internal.example,10.0.0.1' }))).toEqual({
      server: 'http://proxy.example:3128',
      bypass: 'localhost,.internal.example,10.0.0.1',
      username: 'u',
      password: 'p@ss',
    });
    expect(browserProxy(loadConfig({ ...base, NO_PROXY: '*' }))).toBeUndefined();
    expect(browserProxy(loadConfig({}))).toBeUndefined();
  });
});

describe('#14 Discord REST through HTTP_PROXY', () => {
  const isCallback = (token: string) => (r: { method: string; path: string }) =>
    r.method === 'POST' && r.path.includes(`/${token}/callback`);

  async function rig(env: Record<string, string>): Promise<DiscordRig> {
    const started = await startDiscordRig({ env });
    cleanups.push(() => started.close());
    return started;
  }

  it('REST calls, the finished video upload included, go through the proxy', async () => {
    const through = await proxy();
    const { fake } = await rig({ HTTP_PROXY: through.url });
    const sent = fake.slash({
      name: 'video',
      options: { prompt: 'a red fox in the snow' },
      userId: '200000000000000001',
    });
    await fake.waitFor(isCallback(sent.token));
    const result = await fake.waitFor((r) => r.method === 'POST' && r.files.length > 0, 25_000);
    expect(isMp4(result.files[0]!.bytes)).toBe(true);
    expect(through.tunnels).toContain(new URL(fake.apiBase).host);
    expect(through.tunnelled).toContain(`POST /api/v10/webhooks/${fake.appId}/${sent.token}`);
  }, 40_000);

  it("a user's image is downloaded from the CDN through the proxy too", async () => {
    const through = await proxy();
    const { fake, core } = await rig({ HTTP_PROXY: through.url });
    const image = fake.addAttachment(sampleImage('png'), 'cat.png', 'image/png');
    const sent = fake.slash({ name: 'video', options: { prompt: 'the cat waves' }, image });
    await fake.waitFor(isCallback(sent.token));
    await fake.waitFor((r) => r.method === 'POST' && r.files.length > 0, 25_000);
    expect((await core.service.list({ platform: 'discord' })).tasks[0]?.kind).toBe('i2v');
    expect(through.tunnelled).toContain(`GET ${new URL(image.url).pathname}`);
  }, 40_000);

  it('NO_PROXY keeps Discord REST off the proxy', async () => {
    const through = await proxy();
    const { fake } = await rig({ HTTP_PROXY: through.url, NO_PROXY: '127.0.0.1' });
    const sent = fake.slash({ name: 'video', options: { prompt: 'a red fox' }, userId: '200000000000000001' });
    await fake.waitFor(isCallback(sent.token));
    expect(through.tunnels).toEqual([]);
  }, 40_000);
});

describe('#14 Telegram file downloads through HTTP_PROXY', () => {
  it("a user's photo is downloaded through the proxy, like the bot's API calls", async () => {
    const through = await proxy();
    const h: BotHarness = await startBotHarness({ HTTP_PROXY: through.url });
    cleanups.push(() => h.close());
    const file = h.fake.addFile(sampleImage('jpg'));
    h.fake.pushUpdate(photoMessage({ chatId: 501, userId: 501, languageCode: 'en' }, file, { caption: 'waves' }));
    await h.fake.waitFor('sendVideo');
    const downloads = through.tunnelled.filter((line) => line.startsWith(`GET /file/bot${h.fake.token}/`));
    expect(downloads).toHaveLength(1);
  }, 40_000);
});
