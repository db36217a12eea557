/**
 * Issue 15, control over one's own task on Telegram: inline buttons on the status message that follow the status
 * (Cancel while running; Retry and Again after a failure or cancel; Again after a video), for the owner only;
 * others and stale presses get a polite answer, never a crash.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiCall } from '../fakes/telegram/index.js';
import { callbackQuery, photoMessage, textMessage } from '../fakes/telegram/updates.js';
import { idleProvider } from '../support/idle-provider.js';
import { sampleImage } from '../support/media-samples.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const alice = { chatId: 701, userId: 701, languageCode: 'en' };
const mallory = { chatId: 701, userId: 702, languageCode: 'en' };
const text = (c: ApiCall) => String(c.payload.text);
const buttons = (c: ApiCall) =>
  ((c.payload.reply_markup as { inline_keyboard?: { text: string; callback_data: string }[][] })?.inline_keyboard ?? [])
    .flat()
    .map((b) => b.callback_data);
const messageIdOf = (c: ApiCall) => (c.result as { message_id: number }).message_id;

async function askForVideo(prompt = 'a red kite over the sea') {
  h.fake.pushUpdate(textMessage(alice, `/video ${prompt}`));
  const status = await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted') && text(c).includes(''));
  const task = (await h.core.service.list({})).tasks[0]!;
  return { status, task, statusId: messageIdOf(status) };
}

async function press(who: typeof alice, messageId: number, data: string) {
  const update = callbackQuery(who, messageId, data);
  h.fake.pushUpdate(update);
  return h.fake.waitFor('answerCallbackQuery', (c) => c.payload.callback_query_id === update.callback_query.id);
}

describe('Telegram task buttons', () => {
  it('the status message carries Cancel; the owner cancels, then gets Retry and Again', async () => {
    h = await startBotHarness({}, { provider: idleProvider });
    const { status, task, statusId } = await askForVideo();
    expect(buttons(status)).toEqual([`task:cancel:${task.id}`]);

    const answer = await press(alice, statusId, `task:cancel:${task.id}`);
    expect(String(answer.payload.text)).toBe(`Task ${task.id} cancelled.`);
    expect((await h.core.service.get(task.id)).status).toBe('cancelled');
    const final = await h.fake.waitFor('editMessageText', (c) => text(c).includes('cancelled'));
    expect(final.payload.message_id).toBe(statusId);
    expect(buttons(final)).toEqual([`task:retry:${task.id}`, `task:again:${task.id}`]);

    // Retry by the owner (admins only before issue 15): waiting again, with Cancel.
    const retry = await press(alice, statusId, `task:retry:${task.id}`);
    expect(String(retry.payload.text)).toBe(`Task ${task.id} queued again.`);
    expect(['pending', 'processing']).toContain((await h.core.service.get(task.id)).status);
    const waiting = await h.fake.waitFor(
      'editMessageText',
      (c) => c.payload.message_id === statusId && buttons(c)[0] === `task:cancel:${task.id}` && c.at > final.at,
    );
    expect(text(waiting)).toMatch(/waiting|started|checked/);
  });

  it('someone else pressing gets a polite refusal and nothing changes', async () => {
    h = await startBotHarness({}, { provider: idleProvider });
    const { task, statusId } = await askForVideo();
    for (const action of ['cancel', 'again'] as const) {
      const answer = await press(mallory, statusId, `task:${action}:${task.id}`);
      expect(String(answer.payload.text)).toMatch(/^Only the person who asked for this video can/);
      expect(answer.payload.show_alert).toBe(true);
    }
    expect((await h.core.service.get(task.id)).status).not.toBe('cancelled');
    expect((await h.core.service.list({})).total).toBe(1);
  });

  it('presses on stale messages are answered: a finished task, an unknown one, an unknown button', async () => {
    h = await startBotHarness({}, { provider: idleProvider });
    const { task, statusId } = await askForVideo();
    await h.core.service.cancel(task.id, { admin: true });
    const late = await press(alice, statusId, `task:cancel:${task.id}`);
    expect(String(late.payload.text)).toBe('Too late: this task is cancelled now.');
    const fixed = await h.fake.waitFor('editMessageReplyMarkup', (c) => c.payload.message_id === statusId);
    expect(buttons(fixed)).toEqual([`task:retry:${task.id}`, `task:again:${task.id}`]);

    const gone = await press(alice, statusId, 'task:cancel:nosuchtask');
    expect(String(gone.payload.text)).toBe('This task no longer exists.');
    await press(alice, statusId, 'something:else');
    // The bot is still fine: a new request works.
    h.fake.pushUpdate(textMessage(alice, '/mytasks'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('Your recent videos'));
  });

  it('Again after a video makes a new task with the same prompt and a copy of the same image', async () => {
    h = await startBotHarness();
    const image = sampleImage('jpg');
    const photo = photoMessage(alice, h.fake.addFile(image), { caption: 'leaves start to fall' });
    h.fake.pushUpdate(photo);
    await h.fake.waitFor('sendVideo');
    const first = (await h.core.service.list({})).tasks[0]!;
    const done = await h.fake.waitFor('editMessageText', (c) => text(c).includes('done'));
    expect(buttons(done)).toEqual([`task:again:${first.id}`]);

    const answer = await press(alice, Number(done.payload.message_id), `task:again:${first.id}`);
    expect(String(answer.payload.text)).toMatch(/^New task \S+ queued\.$/);
    const again = (await h.core.service.list({})).tasks.find((t) => t.id !== first.id)!;
    expect(again).toMatchObject({ kind: 'i2v', prompt: 'leaves start to fall' });
    expect(readFileSync(again.imagePath!).equals(image)).toBe(true);
    const status = await h.fake.waitFor('sendMessage', (c) => text(c).includes(`Task ${again.id} accepted`));
    expect((status.payload.reply_parameters as { message_id: number }).message_id).toBe(photo.message.message_id);
    expect(buttons(status)).toEqual([`task:cancel:${again.id}`]);
  });
});
