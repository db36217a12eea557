/**
 * `/quota` for Telegram admins: a user's own limits, kept in the database across restarts, used by the core's
 * limit checks; `reset` really lets a user over the daily limit submit again; non-admins are refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { textMessage } from '../fakes/telegram/updates.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const text = (c: { payload: Record<string, unknown> }) => String(c.payload.text);
const admin = { chatId: 830, userId: 830, languageCode: 'en' };
const user = { chatId: 831, userId: 831, languageCode: 'en' };
const ENV = { TELEGRAM_ADMIN_IDS: '830', USER_DAILY_LIMIT: '1', USER_MAX_ACTIVE: '1', LOCAL_RENDER_S: '600' };

/** Sends `message` from `from` and resolves with the next reply in that chat. */
async function say(from: typeof admin, message: string): Promise<string> {
  const before = h.fake.calls('sendMessage', from.chatId).length;
  h.fake.pushUpdate(textMessage(from, message));
  await h.fake.waitFor('sendMessage', () => h.fake.calls('sendMessage', from.chatId).length > before);
  return text(h.fake.calls('sendMessage', from.chatId)[before]!);
}

describe('/quota', () => {
  it('reset lets a user over the daily limit submit again', async () => {
    h = await startBotHarness({ ...ENV, USER_MAX_ACTIVE: '5' });
    expect(await say(user, '/video one')).toContain('accepted');
    expect(await say(user, '/video two')).toBe(
      'Sorry, I cannot do that: you reached the limit of 1 videos in 24 hours; try again later.',
    );
    expect(await say(admin, '/quota 831 reset')).toBe(
      'User 831: today’s count is reset; they may make 1 more videos in the next 24 hours.',
    );
    expect(await say(user, '/video three')).toContain('accepted');
    expect(await say(user, '/video four')).toMatch(/limit of 1 videos in 24 hours/);
    expect(await say(admin, '/quota 831')).toBe(
      'User 831: at most 5 at once (2 now), 1 in 24 hours (1 used) — the defaults.',
    );
  });

  it('sets a user’s own limits, which the core applies and which survive a restart', async () => {
    h = await startBotHarness(ENV);
    expect(await say(admin, '/quota 831 2 3')).toBe('User 831: at most 2 at once (0 now), 3 in 24 hours (0 used).');
    expect(await say(user, '/video one')).toContain('accepted');
    expect(await say(user, '/video two')).toContain('accepted');
    expect(await say(user, '/video three')).toMatch(/you already have 2 videos in progress \(the limit is 2\)/);
    await h.restart();
    expect(await h.core.service.userQuota('telegram', '831')).toMatchObject({
      maxActive: 2,
      dailyLimit: 3,
      custom: true,
    });
    expect(await say(admin, '/quota 831 0 0')).toContain('at most 0 at once');
    // Another user keeps the defaults.
    expect(await say({ ...user, chatId: 832, userId: 832 }, '/video mine')).toContain('accepted');
    expect(await say(user, '/video four')).toBe('Sorry, I cannot do that: an admin has paused video making for you.');
    expect(await say(admin, '/quota 831 default')).toBe(
      'User 831: at most 1 at once (2 now), 1 in 24 hours (2 used) — the defaults.',
    );
  });

  it('names the user by a reply, explains its usage, and is refused to non-admins', async () => {
    h = await startBotHarness(ENV);
    const reply = textMessage(admin, '/quota 5 5', 4242);
    const repliedTo = (reply.message as { reply_to_message?: Record<string, unknown> }).reply_to_message!;
    repliedTo.from = { id: 831, is_bot: false, first_name: 'user831' };
    h.fake.pushUpdate(reply);
    await h.fake.waitFor('sendMessage', (c) => c.payload.chat_id === 830);
    expect(text(h.fake.calls('sendMessage', 830)[0]!)).toBe(
      'User 831: at most 5 at once (0 now), 5 in 24 hours (0 used).',
    );
    expect(await say(admin, '/quota 831 lots')).toMatch(/^Usage: \/quota <user id>/);
    expect(await say(admin, '/quota')).toMatch(/^Usage: \/quota <user id>/);
    expect(await say(user, '/quota 831 100 100')).toBe('Sorry, that command is for the bot’s administrators.');
    expect(await h.core.service.userQuota('telegram', '831')).toMatchObject({ maxActive: 5, dailyLimit: 5 });
  });
});
