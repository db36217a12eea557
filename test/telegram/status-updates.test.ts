/**
 * The status-message queue (issue 12 item 15): a chat's entry lives while it has edits waiting or was edited less
 * than an interval ago, then goes, so 100 000 chats served do not mean 100 000 entries kept; edits stay throttled.
 */
import { Api } from 'grammy';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StatusUpdates } from '../../adapters/telegram/status-updates.js';
import { startTelegramFake, type TelegramFake } from '../fakes/telegram/index.js';
import { scriptedProvider } from '../support/scripted-provider.js';
import { memoryLogger, startTestCore, type TestCore } from '../support/test-core.js';

let core: TestCore | undefined;
let fake: TelegramFake | undefined;
let updates: StatusUpdates | undefined;
afterEach(async () => {
  updates?.stop();
  await core?.dispose();
  await fake?.close();
});

describe('Telegram status updates', () => {
  it('#12.15 keeps no entry for a chat once its edits are sent', async () => {
    fake = await startTelegramFake();
    const provider = scriptedProvider();
    core = await startTestCore({
      env: { FIRST_ATTEMPT_DELAY_S: '3600', USER_MAX_ACTIVE: '10' },
      provider: () => provider,
    });
    const intervalMs = 150;
    updates = new StatusUpdates(
      { api: new Api(fake.token, { apiRoot: fake.apiRoot }), service: core.service, log: memoryLogger().log },
      intervalMs,
      'en',
    );
    updates.start();
    const chats = Array.from({ length: 30 }, (_, i) => 9000 + i);
    for (const chatId of chats) {
      const origin = { platform: 'telegram', userId: String(chatId), chatId: String(chatId) } as const;
      await core.service.submit({
        prompt: `chat ${chatId}`,
        origin: { ...origin, reply: { chatId, statusMessageId: 5 } },
      });
    }
    // The same chat twice in a row: the second edit waits for the interval.
    const twice = {
      platform: 'telegram',
      userId: '9000',
      chatId: '9000',
      reply: { chatId: 9000, statusMessageId: 6 },
    } as const;
    await core.service.submit({ prompt: 'second of chat 9000', origin: twice });
    await vi.waitFor(() => expect(fake!.delivered('editMessageText')).toBe(chats.length + 1));
    const edits9000 = fake.calls('editMessageText', 9000);
    expect(edits9000[1]!.at - edits9000[0]!.at).toBeGreaterThanOrEqual(intervalMs - 5);
    await vi.waitFor(() => expect(updates!.trackedChats).toBe(0), { timeout: 2_000 });
  });
});
