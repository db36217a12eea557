/**
 * Issue 12, case 16 for Telegram, through the service as `npm start` runs it: Telegram hanging, refusing the
 * token, refusing `setMyCommands`, or down and coming back never takes the service down, never hides start-up,
 * and never blocks SIGTERM. `/readyz` tells the adapter's state all along.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelegramFake, type TelegramFake } from '../fakes/telegram/index.js';
import { photoMessage } from '../fakes/telegram/updates.js';
import { isMp4, sampleImage } from '../support/media-samples.js';
import { closedPort, eventually, type ServiceProcess, spawnService } from '../support/service-process.js';

const fakes: TelegramFake[] = [];
const services: ServiceProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) if (service.child.exitCode === null) service.child.kill('SIGKILL');
  for (const fake of fakes.splice(0)) await fake.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function fakeTelegram(...args: Parameters<typeof startTelegramFake>) {
  const fake = await startTelegramFake(...args);
  fakes.push(fake);
  return fake;
}

function start(env: Record<string, string>, dataDir = mkdtempSync(join(tmpdir(), 'dvb-tg-down-'))) {
  if (!dirs.includes(dataDir)) dirs.push(dataDir);
  const service = spawnService(dataDir, { FIRST_ATTEMPT_DELAY_S: '1', RETRY_INTERVAL_S: '1', ...env });
  services.push(service);
  return service;
}

const user = { chatId: 5151, userId: 5151, languageCode: 'en' };

describe('16. one chat platform cannot take the service down (Telegram)', () => {
  it('Telegram never answering getMe: "service started" is logged, /readyz says starting, SIGTERM exits at once', async () => {
    const fake = await fakeTelegram({ stalled: new Set(['getMe']) });
    const service = start({ TELEGRAM_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot });

    await service.waitForLog(/^service started$/);
    await fake.waitFor('getMe');
    const base = await service.baseUrl();
    expect((await request(`${base}/healthz`)).statusCode).toBe(200);
    const ready = await service.readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.parts.telegram).toMatchObject({ ready: false, state: 'starting' });
    expect(ready.body.parts.database).toEqual({ ready: true });

    const { code, ms } = await service.terminate();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(5000);
    expect(service.output()).not.toContain(fake.token);
  });

  it('setMyCommands answering 404: the process stays up and a captioned photo still becomes a video', async () => {
    const fake = await fakeTelegram({ faults: { setMyCommands: { code: 404, description: 'Not Found', times: 99 } } });
    const service = start({ TELEGRAM_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot });

    await service.waitForLog(/^Telegram bot polling$/);
    const warning = service.lines().find((l) => /could not set the command menu/.test(l.msg));
    expect(warning?.msg).toContain('404 Not Found');
    expect(warning?.err).toBeUndefined();
    const update = photoMessage(user, fake.addFile(sampleImage('jpg')), { caption: 'a kite in the wind' });
    fake.pushUpdate(update);
    const video = await fake.waitFor('sendVideo');
    expect(Number(video.payload.chat_id)).toBe(user.chatId);
    expect(isMp4(video.files.video!.bytes)).toBe(true);
    const ready = await service.readyz();
    expect(ready.status).toBe(200);
    expect(ready.body.parts.telegram).toMatchObject({ ready: true, state: 'up' });
    expect((await service.terminate()).code).toBe(0);
  });

  it('a refused token (401) turns the bot off with one line saying why, and is not retried', async () => {
    const fake = await fakeTelegram();
    const service = start({
      TELEGRAM_TOKEN: '999:wrong-token',
      TELEGRAM_API_ROOT: fake.apiRoot,
      ADAPTER_RETRY_MAX_S: '1',
    });

    const line = await service.waitForLog(/^telegram stays off/);
    expect(line.msg).toContain('401 Unauthorized');
    expect(line.msg).toContain('TELEGRAM_TOKEN');
    expect(line.err).toBeUndefined();
    const ready = await service.readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.parts.telegram).toMatchObject({ ready: false, state: 'off', failures: 1 });
    // Several retry periods later: still one call with the bad token, and the HTTP API still serves.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(fake.unauthorizedCalls()).toBe(1);
    expect((await request(`${await service.baseUrl()}/healthz`)).statusCode).toBe(200);
    expect(service.output()).not.toContain('wrong-token');
    expect((await service.terminate()).code).toBe(0);
  });

  it('Telegram down at start and back later: the API serves meanwhile, the bot connects and delivers what finished', async () => {
    // Run 1: the bot takes a photo, and the service stops before the video is done.
    const first = await fakeTelegram();
    const dataDir = mkdtempSync(join(tmpdir(), 'dvb-tg-down-'));
    const run1 = start(
      { TELEGRAM_TOKEN: first.token, TELEGRAM_API_ROOT: first.apiRoot, FIRST_ATTEMPT_DELAY_S: '3' },
      dataDir,
    );
    const update = photoMessage(user, first.addFile(sampleImage('jpg')), { caption: 'waves at night' });
    first.pushUpdate(update);
    await first.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === user.chatId);
    expect((await run1.terminate()).code).toBe(0);
    expect(first.delivered('sendVideo')).toBe(0);
    await first.close();

    // Run 2: Telegram is unreachable; the video finishes while the bot keeps retrying.
    const port = await closedPort();
    const run2 = start(
      { TELEGRAM_TOKEN: first.token, TELEGRAM_API_ROOT: `http://127.0.0.1:${port}`, ADAPTER_RETRY_MAX_S: '1' },
      dataDir,
    );
    await run2.waitForLog(/^service started$/);
    await run2.waitForLog(/^telegram cannot start: 127\.0\.0\.1:\d+ refused the connection \(ECONNREFUSED\)/);
    await eventually('the video finishes while Telegram is down', async () => {
      const res = await request(`${await run2.baseUrl()}/metrics`);
      return /video_tasks\{status="completed"\} 1/.test(await res.body.text());
    });
    const down = await run2.readyz();
    expect(down.status).toBe(503);
    expect(down.body.parts.telegram).toMatchObject({ ready: false, state: 'retrying' });
    expect(down.body.parts.telegram!.lastError).toMatch(/refused the connection/);

    // Telegram comes back where the bot looks: the result queued meanwhile is delivered once.
    const second = await fakeTelegram({ token: first.token }, { port });
    const video = await second.waitFor('sendVideo', () => true, 20_000);
    expect(Number(video.payload.chat_id)).toBe(user.chatId);
    expect((video.payload.reply_parameters as { message_id: number }).message_id).toBe(update.message.message_id);
    await eventually('/readyz reports telegram up', async () => (await run2.readyz()).status === 200);
    expect(run2.lines().filter((l) => /telegram cannot start/.test(l.msg))).toHaveLength(1);
    expect((await run2.terminate()).code).toBe(0);
    expect(second.delivered('sendVideo', user.chatId)).toBe(1);
  });

  it('polling refused with 409 Conflict after start-up: one line saying why, the bot polls again and answers', async () => {
    const conflict = { code: 409, description: 'Conflict: terminated by other getUpdates request', times: 1 };
    const fake = await fakeTelegram({ faults: { getUpdates: conflict } });
    const service = start({ TELEGRAM_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, ADAPTER_RETRY_MAX_S: '1' });

    const line = await service.waitForLog(/^telegram stopped working/);
    expect(line.msg).toContain('409 Conflict to getUpdates (another process is polling with this token');
    expect(line.err).toBeUndefined();
    await eventually('the bot connects again', () => fake.calls('getMe').length === 2);
    fake.pushUpdate(photoMessage(user, fake.addFile(sampleImage('jpg')), { caption: 'rain on a window' }));
    const video = await fake.waitFor('sendVideo');
    expect(Number(video.payload.chat_id)).toBe(user.chatId);
    expect((await service.readyz()).body.parts.telegram).toMatchObject({ ready: true, state: 'up', failures: 1 });
    expect((await service.terminate()).code).toBe(0);
  });
});
