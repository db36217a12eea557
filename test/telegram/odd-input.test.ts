/**
 * Odd input through the fake Bot API: empty, 5 000-character, emoji-only and right-to-left captions and prompts,
 * documents that claim `image/*` but are not images, and commands with injection-looking arguments. Each gets a
 * clear reply (no stack trace, no `[object Object]`, no generic "something went wrong"), and nothing is stored
 * that should not be: no task for a refused request, prompts stored byte for byte, other tasks untouched.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { documentMessage, photoMessage, textMessage } from '../fakes/telegram/updates.js';
import { idleProvider } from '../support/idle-provider.js';
import { sampleImage } from '../support/media-samples.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const ADMIN = 700;
const ENV = { TELEGRAM_ADMIN_IDS: String(ADMIN), FIRST_ATTEMPT_DELAY_S: '600', USER_MAX_ACTIVE: '10' };
let nextChat = 800;

/** Sends one update from a fresh chat (or `chatId`) and resolves with the bot's first reply text there. */
async function replyTo(
  update: (from: { chatId: number; userId: number; languageCode: string }) => object,
  chatId?: number,
) {
  const id = chatId ?? nextChat++;
  const before = h.fake.calls('sendMessage', id).length;
  h.fake.pushUpdate(update({ chatId: id, userId: id, languageCode: 'en' }) as Record<string, unknown>);
  const call = await h.fake.waitFor(
    'sendMessage',
    (c) => Number(c.payload.chat_id) === id && h.fake.calls('sendMessage', id).indexOf(c) >= before,
  );
  return String(call.payload.text);
}

function expectClear(reply: string): void {
  expect(reply.trim().length).toBeGreaterThan(10);
  expect(reply).not.toMatch(/\[object |\n\s+at |undefined|Something went wrong/);
}

const taskCount = async () => (await h.core.service.list({})).total;

it('answers odd captions and prompts clearly and stores accepted prompts exactly', async () => {
  h = await startBotHarness(ENV, { provider: () => idleProvider() });
  const photo = () => h.fake.addFile(sampleImage('jpg'));

  const noCaption = await replyTo((from) => photoMessage(from, photo()));
  expect(noCaption).toMatch(/What should happen in the video/);
  const emptyVideo = await replyTo((from) => textMessage(from, '/video    '));
  expect(emptyVideo).toMatch(/^Tell me what to show/);
  const long = await replyTo((from) => textMessage(from, `/video ${'长'.repeat(5_000)}`));
  expectClear(long);
  expect(long).toMatch(/5000 characters; the limit is 2000/);
  expect(await taskCount()).toBe(0);

  const odd = ['🎬🐱🌅🔥', 'قطة تركب الأمواج عند الغروب', '\u202eevil\u202c cat', 'a "quoted" <b>cat</b> & \\n'];
  for (const caption of odd) {
    const reply = await replyTo((from) => photoMessage(from, photo(), { caption }));
    expectClear(reply);
    expect(reply).toMatch(/accepted/);
  }
  const prompts = (await h.core.service.list({})).tasks.map((t) => t.prompt);
  expect(prompts.sort()).toEqual([...odd].map((p) => p.trim()).sort());
});

it('refuses documents that claim image/* but are not images, and keeps none of their bytes', async () => {
  h = await startBotHarness(ENV, { provider: () => idleProvider() });
  const fakes = [Buffer.from('%PDF-1.4 not an image'), Buffer.from('#!/bin/sh\nrm -rf /\n'), Buffer.alloc(64, 0)];
  for (const bytes of fakes) {
    const reply = await replyTo((from) =>
      documentMessage(from, h.fake.addFile(bytes), { caption: 'animate this', mimeType: 'image/png' }),
    );
    expect(reply).toBe('That file is not an image. Send a JPEG, PNG, WebP, GIF or BMP.');
  }
  expect(await taskCount()).toBe(0);
  expect(readdirSync(join(h.core.dataDir, 'images'))).toEqual([]);
});

it('treats injection-looking command arguments as plain text: "not found", nothing changed', async () => {
  h = await startBotHarness(ENV, { provider: () => idleProvider() });
  const user = 850;
  expect(await replyTo((from) => textMessage(from, '/video a calm lake'), user)).toMatch(/accepted/);
  const [task] = (await h.core.service.list({})).tasks;

  const adminCommands = [
    "/task ' OR 1=1 --",
    '/cancel ../../etc/passwd',
    "/retry %' OR '%'='",
    '/tasks pending; DROP TABLE tasks; --',
    '/task $(rm -rf /)',
  ];
  for (const command of adminCommands) {
    const reply = await replyTo((from) => textMessage(from, command), ADMIN);
    expectClear(reply);
    expect(reply).toMatch(/^(Not found:|Usage: \/tasks)/);
  }
  for (const command of ["/cancel ' OR 1=1 --", '/cancel ../../etc/passwd', `/cancel ${task!.id}%`]) {
    const reply = await replyTo((from) => textMessage(from, command), user);
    expectClear(reply);
    expect(reply).toMatch(/^Not found:/);
  }
  expect(await h.core.service.get(task!.id)).toMatchObject({ status: 'pending', prompt: 'a calm lake' });
  expect(await taskCount()).toBe(1);
  expect(await h.core.store.integrityCheck()).toBe('ok');
});
