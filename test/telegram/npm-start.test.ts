/**
 * The service as `npm start` runs it (src/main.ts in a child process) against the fake Bot API: a photo with a
 * caption comes back as a playable MP4 in the same chat, and SIGTERM stops polling and exits cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startTelegramFake, type TelegramFake } from '../fakes/telegram/index.js';
import { photoMessage } from '../fakes/telegram/updates.js';
import { isMp4, sampleImage } from '../support/media-samples.js';

let fake: TelegramFake | undefined;
let child: ChildProcess | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  await fake?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('npm start answers a captioned photo with a playable MP4 and stops on SIGTERM', async () => {
  fake = await startTelegramFake();
  dataDir = mkdtempSync(join(tmpdir(), 'dvb-tg-'));
  const output: string[] = [];
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      DATA_DIR: dataDir,
      PORT: '0',
      PROVIDER: 'local',
      FIRST_ATTEMPT_DELAY_S: '1',
      RETRY_INTERVAL_S: '1',
      DOUBAO_SESSIONS_FILE: join(dataDir, 'session.json'),
      TELEGRAM_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => output.push(String(chunk)));
  child.stderr?.on('data', (chunk) => output.push(String(chunk)));
  const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

  await fake.waitFor('setMyCommands');
  const user = { chatId: 4242, userId: 4242, languageCode: 'en' };
  const update = photoMessage(user, fake.addFile(sampleImage('jpg')), { caption: 'the sun rises' });
  fake.pushUpdate(update);
  const video = await fake.waitFor('sendVideo');
  expect(Number(video.payload.chat_id)).toBe(4242);
  expect((video.payload.reply_parameters as { message_id: number }).message_id).toBe(update.message.message_id);
  expect(isMp4(video.files.video!.bytes)).toBe(true);

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(output.join('')).toContain('Telegram bot polling');
  expect(output.join('')).not.toContain(fake.token);
});
