/**
 * Issue 12, case 16 for Discord, through the service as `npm start` runs it: Discord unresolvable, refusing
 * connections or refusing the token never takes down the HTTP API or the Telegram bot; the adapter retries on its
 * own (or stays off for a bad token) and `/readyz` says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type DiscordFake, startDiscordFake } from '../fakes/discord/index.js';
import { startTelegramFake, type TelegramFake } from '../fakes/telegram/index.js';
import { photoMessage } from '../fakes/telegram/updates.js';
import { isMp4, sampleImage } from '../support/media-samples.js';
import { closedPort, eventually, type ServiceProcess, spawnService } from '../support/service-process.js';

const closers: (() => Promise<void>)[] = [];
const services: ServiceProcess[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) if (service.child.exitCode === null) service.child.kill('SIGKILL');
  for (const close of closers.splice(0).reverse()) await close();
});

function start(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'dvb-dc-down-'));
  closers.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const service = spawnService(dataDir, { FIRST_ATTEMPT_DELAY_S: '1', RETRY_INTERVAL_S: '1', ...env });
  services.push(service);
  return service;
}

async function discordFake(...args: Parameters<typeof startDiscordFake>): Promise<DiscordFake> {
  const fake = await startDiscordFake(...args);
  closers.push(() => fake.close());
  return fake;
}

async function telegramFake(): Promise<TelegramFake> {
  const fake = await startTelegramFake();
  closers.push(() => fake.close());
  return fake;
}

describe('16. one chat platform cannot take the service down (Discord)', () => {
  it('Discord unresolvable (ENOTFOUND): the HTTP API answers, /readyz says retrying, the Telegram bot still serves', async () => {
    const telegram = await telegramFake();
    const service = start({
      DISCORD_TOKEN: 'some.discord.token',
      DISCORD_APP_ID: '123456789012345678',
      DISCORD_API_BASE: 'http://discord-down.invalid/api',
      TELEGRAM_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      ADAPTER_RETRY_MAX_S: '1',
    });

    const line = await service.waitForLog(/^discord cannot start/);
    expect(line.msg).toMatch(/DNS lookup failed for discord-down\.invalid \(ENOTFOUND\); retrying in 1 s$/);
    expect(line.err).toBeUndefined();
    expect(line.level).toBe(40);
    await eventually('Discord has failed three times', async () => {
      const { body } = await service.readyz();
      return Number(body.parts.discord?.failures) >= 3;
    });
    expect(service.child.exitCode).toBeNull();
    expect((await request(`${await service.baseUrl()}/healthz`)).statusCode).toBe(200);
    const ready = await service.readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.parts.discord).toMatchObject({ ready: false, state: 'retrying' });
    expect(ready.body.parts.discord!.lastError).toMatch(/DNS lookup failed/);

    // The other bot is untouched: a photo on Telegram still comes back as a video.
    const user = { chatId: 777, userId: 777, languageCode: 'en' };
    telegram.pushUpdate(photoMessage(user, telegram.addFile(sampleImage('jpg')), { caption: 'a red balloon' }));
    const video = await telegram.waitFor('sendVideo');
    expect(isMp4(video.files.video!.bytes)).toBe(true);
    expect((await service.readyz()).body.parts.telegram).toMatchObject({ ready: true, state: 'up' });
    expect(service.lines().filter((l) => /discord cannot start/.test(l.msg))).toHaveLength(1);
    expect((await service.terminate()).code).toBe(0);
  });

  it('Discord refusing connections at start, then back: the bot logs in and answers /video', async () => {
    const port = await closedPort();
    const token = 'later.discord.token';
    const service = start({
      DISCORD_TOKEN: token,
      DISCORD_APP_ID: '123456789012345678',
      DISCORD_API_BASE: `http://127.0.0.1:${port}/api`,
      ADAPTER_RETRY_MAX_S: '1',
    });
    await service.waitForLog(/^service started$/);
    await service.waitForLog(/^discord cannot start: 127\.0\.0\.1:\d+ refused the connection \(ECONNREFUSED\)/);
    const down = await service.readyz();
    expect(down.status).toBe(503);
    expect(down.body.parts.discord).toMatchObject({ ready: false, state: 'retrying' });

    const fake = await discordFake({}, { port, token });
    await fake.whenReady();
    await eventually('/readyz reports discord up', async () => (await service.readyz()).status === 200);
    await service.waitForLog(/^discord is up after \d+ failed tries$/);
    const sent = fake.slash({ name: 'video', options: { prompt: 'a lighthouse at dawn' } });
    await fake.waitFor((r) => r.method === 'POST' && r.path === `/interactions/${sent.id}/${sent.token}/callback`);
    expect((await service.terminate()).code).toBe(0);
  });

  it('a refused Discord token turns the bot off with one line saying why, and is not retried', async () => {
    const fake = await discordFake();
    const service = start({
      DISCORD_TOKEN: 'not.the.right.token',
      DISCORD_APP_ID: fake.appId,
      DISCORD_API_BASE: fake.apiBase,
      ADAPTER_RETRY_MAX_S: '1',
    });
    const line = await service.waitForLog(/^discord stays off/);
    expect(line.msg).toContain('token was refused');
    expect(line.msg).toContain('DISCORD_TOKEN');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(fake.requests.filter((r) => r.path === '/gateway/bot')).toHaveLength(1);
    const ready = await service.readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.parts.discord).toMatchObject({ ready: false, state: 'off' });
    expect(service.output()).not.toContain('not.the.right.token');
    expect((await service.terminate()).code).toBe(0);
  });
});
