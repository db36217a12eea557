/**
 * Issue 15, live queue and honest waits on Telegram: the status message shows the place in line and an estimate
 * ("estimating…" before any video was made), and is edited when the place changes — not on every tick.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiCall } from '../fakes/telegram/index.js';
import { textMessage } from '../fakes/telegram/updates.js';
import { scriptedProvider } from '../support/scripted-provider.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const text = (c: ApiCall) => String(c.payload.text);
const users = [801, 802, 803].map((id) => ({ chatId: id, userId: id, languageCode: 'en' }));

describe('Telegram live queue', () => {
  it('a waiting task is told its new place when a task ahead finishes, with an estimate from that video', async () => {
    // One upstream job at a time: the first video is found at its first look, the second never finishes.
    const provider = scriptedProvider({ maxRunning: 1 });
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] });
    h = await startBotHarness({ MAX_ATTEMPTS: '30' }, { provider: () => provider });
    const statuses: ApiCall[] = [];
    for (const [i, user] of users.entries()) {
      h.fake.pushUpdate(textMessage(user, `/video scene ${i}`));
      statuses.push(await h.fake.waitFor('sendMessage', (c) => c.payload.chat_id === user.chatId));
      // Tasks created in the same millisecond share a place; a pause keeps the line strict.
      await new Promise((r) => setTimeout(r, 5));
    }
    const third = statuses[2]!;
    expect(text(third)).toMatch(/accepted\.\n2 ahead of you · estimating the wait…/);
    const thirdId = (third.result as { message_id: number }).message_id;

    const moved = await h.fake.waitFor(
      'editMessageText',
      (c) => c.payload.message_id === thirdId && c.payload.chat_id === users[2]!.chatId,
    );
    expect(text(moved)).toMatch(/is waiting\.\n1 ahead of you · ready in (under a minute|about \d+ min)\./);
    // The Cancel button stays on the edited message.
    expect(JSON.stringify(moved.payload.reply_markup)).toContain('task:cancel:');

    // The second task keeps being looked at (progress), the third's place does not change: no more edits of it.
    await new Promise((r) => setTimeout(r, 2_500));
    const thirdEdits = h.fake
      .calls('editMessageText', users[2]!.chatId)
      .filter((c) => c.payload.message_id === thirdId);
    expect(thirdEdits).toHaveLength(1);
    const secondProgress = h.fake.calls('editMessageText', users[1]!.chatId);
    expect(secondProgress.length).toBeGreaterThan(0);
    expect(text(secondProgress.at(-1)!)).toMatch(/left\.|any moment now\./);
  });
});
