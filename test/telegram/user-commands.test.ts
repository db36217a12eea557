/** What every user can do: prompts to video, their own task list and cancel, help, and replies in their language. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { textMessage } from '../fakes/telegram/updates.js';
import { isMp4 } from '../support/media-samples.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const bob = { chatId: 601, userId: 601, languageCode: 'en' };
const text = (c: { payload: Record<string, unknown> }) => String(c.payload.text);
/** A provider that never finishes in time: tasks stay in progress, then fail after MAX_ATTEMPTS looks. */
const SLOW = { LOCAL_RENDER_S: '600', MAX_ATTEMPTS: '3' };

describe('user commands', () => {
  it('/video <prompt> makes a t2v task and answers with id, queue position and estimate, then the video', async () => {
    h = await startBotHarness();
    const command = textMessage(bob, '/video a cat surfing at sunset');
    h.fake.pushUpdate(command);
    const status = await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
    const task = (await h.core.service.list({})).tasks[0]!;
    expect(task).toMatchObject({ kind: 't2v', prompt: 'a cat surfing at sunset' });
    expect(text(status)).toContain(task.id);
    expect(text(status)).toMatch(/next in line|ahead of you/);
    // No video was made yet: no invented number (issue 15, honest waits).
    expect(text(status)).toMatch(/estimating the wait/);
    const video = await h.fake.waitFor('sendVideo');
    expect(isMp4(video.files.video!.bytes)).toBe(true);
    expect((video.payload.reply_parameters as { message_id: number }).message_id).toBe(command.message.message_id);
    await h.fake.waitFor('editMessageText', (c) => text(c).includes('done'));
  });

  it('/video without a prompt explains the usage and creates nothing', async () => {
    h = await startBotHarness();
    h.fake.pushUpdate(textMessage(bob, '/video'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('/video <prompt>'));
    expect((await h.core.service.list({})).total).toBe(0);
  });

  it('plain text in a private chat is a prompt; in a group only a mention is', async () => {
    h = await startBotHarness(SLOW);
    h.fake.pushUpdate(textMessage(bob, 'fireworks over a lake'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
    const group = { chatId: -700, userId: 602, languageCode: 'en' };
    h.fake.pushUpdate(textMessage(group, 'just chatting'));
    h.fake.pushUpdate(textMessage(group, '@doubao_test_bot a dancing robot'));
    h.fake.pushUpdate(textMessage({ ...group, userId: 604 }, '/video@doubao_test_bot a flying kite'));
    await vi.waitFor(async () => expect((await h.core.service.list({})).total).toBe(3), { timeout: 10_000 });
    const prompts = (await h.core.service.list({})).tasks.map((t) => t.prompt).sort();
    expect(prompts).toEqual(['a dancing robot', 'a flying kite', 'fireworks over a lake']);
  });

  it('status messages are edited as attempts happen, at most once per interval per chat', async () => {
    h = await startBotHarness(SLOW);
    h.fake.pushUpdate(textMessage(bob, '/video waves'));
    h.fake.pushUpdate(textMessage(bob, '/video clouds'));
    const accepted = () => h.fake.calls('sendMessage', bob.chatId).filter((c) => text(c).includes('accepted'));
    await vi.waitFor(() => expect(accepted()).toHaveLength(2), { timeout: 10_000 });
    const statusIds = accepted().map((c) => (c.result as { message_id: number }).message_id);
    const failure = await h.fake.waitFor('sendMessage', (c) => text(c).includes('failed'));
    expect(text(failure)).toMatch(/not ready|attempt/i);
    expect(text(failure)).toContain('To try again');
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('failed') && c !== failure);
    const edits = h.fake.calls('editMessageText', bob.chatId);
    expect(new Set(edits.map((c) => c.payload.message_id))).toEqual(new Set(statusIds));
    expect(edits.some((c) => text(c).includes('checked 2 of 3'))).toBe(true);
    const progress = edits.filter((c) => !text(c).endsWith('failed.'));
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(190);
  });

  it('/mytasks lists only the user’s own tasks and /cancel cancels only their own', async () => {
    h = await startBotHarness(SLOW);
    const eve = { chatId: 603, userId: 603, languageCode: 'en' };
    h.fake.pushUpdate(textMessage(bob, '/video mine'));
    h.fake.pushUpdate(textMessage(eve, '/video hers'));
    await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === 601 && text(c).includes('accepted'));
    await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === 603 && text(c).includes('accepted'));
    const [mine] = (await h.core.service.list({ userId: '601' })).tasks;
    const [hers] = (await h.core.service.list({ userId: '603' })).tasks;

    h.fake.pushUpdate(textMessage(bob, '/mytasks'));
    const list = await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Your recent videos'));
    expect(text(list)).toContain(mine!.id);
    expect(text(list)).not.toContain(hers!.id);

    h.fake.pushUpdate(textMessage(bob, `/cancel ${hers!.id}`));
    await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Not found'));
    expect((await h.core.service.get(hers!.id)).status).not.toBe('cancelled');

    h.fake.pushUpdate(textMessage(bob, `/cancel ${mine!.id}`));
    await h.fake.waitFor('sendMessage', (c) => text(c) === `🚫 Task ${mine!.id} cancelled.`);
    expect((await h.core.service.get(mine!.id)).status).toBe('cancelled');
  });

  it('/start and /help explain the bot; the command menu is registered in both languages', async () => {
    h = await startBotHarness();
    h.fake.pushUpdate(textMessage(bob, '/start'));
    h.fake.pushUpdate(textMessage(bob, '/help'));
    await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Hi!'));
    await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('How to use me'));
    const menus = h.fake.calls('setMyCommands');
    expect(menus.map((c) => c.payload.language_code ?? 'default')).toEqual(['default', 'zh']);
  });

  it('answers in Chinese for zh users, in English for en users, and in DEFAULT_LOCALE otherwise', async () => {
    h = await startBotHarness({ DEFAULT_LOCALE: 'zh' });
    h.fake.pushUpdate(textMessage({ chatId: 611, userId: 611, languageCode: 'zh-hans' }, '/help'));
    h.fake.pushUpdate(textMessage({ chatId: 612, userId: 612, languageCode: 'en-US' }, '/help'));
    h.fake.pushUpdate(textMessage({ chatId: 613, userId: 613 }, '/video'));
    await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === 611 && text(c).startsWith('使用方法'));
    await h.fake.waitFor(
      'sendMessage',
      (c) => Number(c.payload.chat_id) === 612 && text(c).startsWith('How to use me'),
    );
    await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === 613 && text(c).startsWith('请告诉我'));
  });
});
