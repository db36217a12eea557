/**
 * Who may use the Telegram bot (TELEGRAM_ALLOWED_CHATS): listed chats and admins are served; any other chat gets
 * one polite refusal (not one per message), nothing is stored or generated, and group chatter not meant for the bot
 * is not answered at all. An empty list serves everyone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { photoMessage, textMessage } from '../fakes/telegram/updates.js';
import { sampleImage } from '../support/media-samples.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const text = (c: { payload: Record<string, unknown> }) => String(c.payload.text);
const allowed = { chatId: 701, userId: 701, languageCode: 'en' };
const stranger = { chatId: 702, userId: 702, languageCode: 'en' };
const admin = { chatId: 703, userId: 703, languageCode: 'en' };
const group = { chatId: -100777, userId: 704, languageCode: 'zh' };
const ENV = { TELEGRAM_ALLOWED_CHATS: '701, -100555', TELEGRAM_ADMIN_IDS: '703', LOCAL_RENDER_S: '600' };

describe('TELEGRAM_ALLOWED_CHATS', () => {
  it('serves listed chats and admins; a stranger gets one refusal naming the chat id, and nothing is made', async () => {
    h = await startBotHarness(ENV);
    h.fake.pushUpdate(textMessage(stranger, '/video a cat'));
    h.fake.pushUpdate(textMessage(stranger, 'a dog'));
    h.fake.pushUpdate(photoMessage(stranger, h.fake.addFile(sampleImage('jpg', 64, 64)), { caption: 'a bird' }));
    h.fake.pushUpdate(textMessage(stranger, '/help'));
    await h.fake.waitFor('sendMessage', (c) => c.payload.chat_id === 702);
    h.fake.pushUpdate(textMessage(allowed, '/video a horse'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted') && c.payload.chat_id === 701);
    h.fake.pushUpdate(textMessage(admin, '/video an owl'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted') && c.payload.chat_id === 703);

    const toStranger = h.fake.calls('sendMessage', 702);
    expect(toStranger.map(text)).toEqual([
      'Sorry, this bot is private: it only works in the chats its owner has allowed. If you know the owner, ask them to add this chat (id 702).',
    ]);
    expect(h.fake.calls('getFile')).toHaveLength(0);
    expect((await h.core.service.list({})).tasks.map((t) => t.origin.userId).sort()).toEqual(['701', '703']);
  });

  it('in a group that is not listed, answers only what is meant for the bot, once, in the user’s language', async () => {
    h = await startBotHarness(ENV);
    h.fake.pushUpdate(textMessage(group, 'just chatting among ourselves'));
    h.fake.pushUpdate(textMessage(group, '/video 一只猫'));
    h.fake.pushUpdate(textMessage(group, '/video 一只狗'));
    const refusal = await h.fake.waitFor('sendMessage', (c) => c.payload.chat_id === -100777);
    expect(text(refusal)).toBe(
      '抱歉，这是一个私人机器人，只在主人允许的聊天中使用。如果你认识主人，请让他添加这个聊天（ID -100777）。',
    );
    // A listed chat is served meanwhile, so the updates after the refusal have been handled too.
    h.fake.pushUpdate(textMessage(allowed, '/help'));
    await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('How to use me'));
    expect(h.fake.calls('sendMessage', -100777)).toHaveLength(1);
    expect((await h.core.service.list({})).total).toBe(0);
  });

  it('an empty list serves everyone', async () => {
    h = await startBotHarness({ LOCAL_RENDER_S: '600' });
    h.fake.pushUpdate(textMessage(stranger, '/video a cat'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted') && c.payload.chat_id === 702);
  });
});
