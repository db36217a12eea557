/**
 * Telegram webhook mode (issue 16): the bot sets its webhook with the secret at start-up, the fake Bot API POSTs
 * updates to the route on the HTTP app, a /video becomes a task and the user gets the video; a forged update (no
 * secret, a wrong one) is refused with 401 and makes nothing; an update arriving before the bot started is answered
 * 503 and comes again (as Telegram retries); switching back to polling deletes the webhook and polls what is pending;
 * `npm start` (src/main.ts) serves the route on its HTTP port; the secret's rules in the configuration.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../adapters/http/index.js';
import { createTelegramAdapter } from '../../adapters/telegram/index.js';
import { loadConfig } from '../../src/config.js';
import { startTelegramFake, type TelegramFake } from '../fakes/telegram/index.js';
import { textMessage } from '../fakes/telegram/updates.js';
import { freePort } from '../support/free-port.js';
import { isMp4 } from '../support/media-samples.js';
import { spawnService } from '../support/service-process.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

const SECRET = 'webhook-secret-0123456789abcdef';
const bob = { chatId: 801, userId: 801, languageCode: 'en' };
const text = (c: { payload: Record<string, unknown> }) => String(c.payload.text);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

interface WebhookSetup {
  fake: TelegramFake;
  core: TestCore;
  adapter: ReturnType<typeof createTelegramAdapter>;
  app: FastifyInstance;
  url: string;
}

/** Fake Telegram, a core, the adapter in webhook mode and the HTTP app serving its route; the adapter not started. */
async function webhookSetup(): Promise<WebhookSetup> {
  const fake = await startTelegramFake();
  cleanup.push(() => fake.close());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/telegram/webhook`;
  const core = await startTestCore({
    env: {
      TELEGRAM_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_WEBHOOK_URL: url,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
    },
  });
  cleanup.push(() => core.dispose());
  const deps = { service: core.service, outbox: core.outbox, config: core.config, log: core.log };
  const adapter = createTelegramAdapter({
    ...deps,
    videosDir: core.media.videosDir,
    timing: { editIntervalMs: 200, albumWaitMs: 300, pollTimeoutS: 5 },
  });
  cleanup.push(() => adapter.stop());
  expect(adapter.webhookRoutes).toBeDefined();
  const app = await buildHttpApp({ ...deps, videosDir: core.media.videosDir, extraRoutes: [adapter.webhookRoutes!] });
  await app.listen({ host: '127.0.0.1', port });
  cleanup.push(() => app.close());
  return { fake, core, adapter, app, url };
}

describe('Telegram webhook mode', () => {
  it('sets the webhook with its secret; a /video sent by webhook becomes a task and the user gets the video', async () => {
    const s = await webhookSetup();
    await s.adapter.start();
    expect(s.fake.webhook()).toEqual({ url: s.url, secret: SECRET });
    expect(s.fake.calls('deleteWebhook')).toHaveLength(0);
    // A second poller (a misconfigured process) is refused as by the real API, not silently served.
    const poll = await fetch(`${s.fake.apiRoot}/bot${s.fake.token}/getUpdates`, { method: 'POST' });
    expect(poll.status).toBe(409);
    const command = textMessage(bob, '/video a lighthouse in a storm');
    s.fake.pushUpdate(command);
    await s.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
    expect((await s.core.service.list({})).tasks[0]).toMatchObject({ kind: 't2v', prompt: 'a lighthouse in a storm' });
    const video = await s.fake.waitFor('sendVideo', () => true, 60_000);
    expect(isMp4(video.files.video!.bytes)).toBe(true);
    expect(Number(video.payload.chat_id)).toBe(bob.chatId);
    expect(s.fake.webhookPosts).toEqual([{ updateId: expect.any(Number), status: 200 }]);
    const logs = s.core.logs();
    expect(logs).toContain('receiving updates by webhook');
    expect(logs).not.toContain(SECRET);
  }, 90_000);

  it('refuses a forged update (no secret, a wrong one) with 401, and makes nothing of it', async () => {
    const s = await webhookSetup();
    await s.adapter.start();
    const forged = { update_id: 999, ...textMessage(bob, '/video forged') };
    const post = (headers: Record<string, string>) =>
      fetch(s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(forged),
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'not-the-secret-at-all-0000' })).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await s.core.service.list({})).total).toBe(0);
    expect(s.fake.calls('sendMessage')).toHaveLength(0);
    // The same update with the secret is taken: the refusal was the secret, not the update.
    expect((await post({ 'x-telegram-bot-api-secret-token': SECRET })).status).toBe(200);
    await s.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
  });

  it('answers 503 until the bot has started; Telegram sends the update again and it is handled once', async () => {
    const s = await webhookSetup();
    // Set as by an earlier run of this (or another) process: Telegram already posts here.
    await fetch(`${s.fake.apiRoot}/bot${s.fake.token}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: s.url, secret_token: SECRET }),
    });
    s.fake.pushUpdate(textMessage(bob, '/video early bird'));
    await expect.poll(() => s.fake.webhookPosts.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(s.fake.webhookPosts[0]!.status).toBe(503);
    await s.adapter.start();
    await s.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
    await expect.poll(() => s.fake.webhookPosts.at(-1)!.status).toBe(200);
    expect((await s.core.service.list({})).total).toBe(1);
  });

  it('polling again deletes the webhook and receives the updates still pending', async () => {
    const s = await webhookSetup();
    await s.adapter.start();
    await s.adapter.stop();
    await s.app.close();
    s.fake.pushUpdate(textMessage(bob, '/video after the switch')); // the webhook is down: it stays pending
    const { TELEGRAM_WEBHOOK_URL: _url, TELEGRAM_WEBHOOK_SECRET: _secret, ...pollingConfig } = s.core.config;
    const polling = createTelegramAdapter({
      service: s.core.service,
      outbox: s.core.outbox,
      config: {
        ...pollingConfig,
        publicBaseUrlDefaulted: s.core.config.publicBaseUrlDefaulted,
      } as typeof s.core.config,
      log: s.core.log,
      videosDir: s.core.media.videosDir,
      timing: { editIntervalMs: 200, albumWaitMs: 300, pollTimeoutS: 1 },
    });
    cleanup.push(() => polling.stop());
    expect(polling.webhookRoutes).toBeUndefined();
    await polling.start();
    expect(s.fake.calls('deleteWebhook')).toHaveLength(1);
    expect(s.fake.webhook()).toBeUndefined();
    await s.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
    expect((await s.core.service.list({})).tasks[0]).toMatchObject({ prompt: 'after the switch' });
  });
});

describe('npm start in webhook mode', () => {
  it('serves the webhook route on the service port and answers an update; the secret stays out of the logs', async () => {
    const fake = await startTelegramFake();
    cleanup.push(() => fake.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'dvb-webhook-'));
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/telegram/webhook`;
    const service = spawnService(dataDir, {
      PORT: String(port),
      TELEGRAM_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_WEBHOOK_URL: url,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
    });
    cleanup.push(async () => {
      service.child.kill('SIGKILL');
    });
    await service.waitForLog(/receiving updates by webhook/, 60_000);
    expect(fake.webhook()).toEqual({ url, secret: SECRET });
    fake.pushUpdate(textMessage(bob, '/video a paper boat'));
    await fake.waitFor('sendMessage', (c) => text(c).includes('accepted'), 30_000);
    expect((await service.terminate()).code).toBe(0);
    expect(service.output()).not.toContain(SECRET);
  }, 90_000);
});

describe('webhook settings', () => {
  const base = { TELEGRAM_TOKEN: '1:x', TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/telegram/webhook' };

  it('requires a secret of 16 to 256 allowed characters with the URL, and says why', () => {
    expect(() => loadConfig(base)).toThrow(/TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set/);
    expect(() => loadConfig({ ...base, TELEGRAM_WEBHOOK_SECRET: 'short' })).toThrow(/16 to 256 characters/);
    expect(() => loadConfig({ ...base, TELEGRAM_WEBHOOK_SECRET: 'has spaces in it, sixteen+' })).toThrow(
      /A-Z, a-z, 0-9, _ and -/,
    );
    expect(loadConfig({ ...base, TELEGRAM_WEBHOOK_SECRET: SECRET }).TELEGRAM_WEBHOOK_SECRET).toBe(SECRET);
  });
});
