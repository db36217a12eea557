/** Results reach the asker exactly once: through flood waits, restarts, big files and vanished chats. */
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { textMessage } from '../fakes/telegram/updates.js';
import { isMp4 } from '../support/media-samples.js';
import { startRefusingServer } from '../support/refusing-server.js';
import { scriptedProvider } from '../support/scripted-provider.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const carol = { chatId: 701, userId: 701, languageCode: 'en' };
const text = (c: { payload: Record<string, unknown> }) => String(c.payload.text);

async function requestVideo(harness: BotHarness, prompt: string) {
  const update = textMessage(carol, `/video ${prompt}`);
  harness.fake.pushUpdate(update);
  await harness.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
  return { task: (await harness.core.service.list({})).tasks[0]!, messageId: update.message.message_id };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

describe('delivery', () => {
  it('a 429 with retry_after on sendVideo is waited out and retried', async () => {
    h = await startBotHarness();
    h.fake.knobs.faults.sendVideo = {
      code: 429,
      description: 'Too Many Requests: retry after 1',
      retryAfter: 1,
      times: 1,
    };
    const { task } = await requestVideo(h, 'rain on a window');
    const delivered = await h.fake.waitFor('sendVideo', (c) => c.errorCode === undefined);
    const calls = h.fake.calls('sendVideo');
    expect(calls.map((c) => c.errorCode)).toEqual([429, undefined]);
    expect(delivered.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(isMp4(delivered.files.video!.bytes)).toBe(true);
    await settle();
    expect((await h.core.service.get(task.id)).deliveredAt).not.toBeNull();
  });

  it('a restart between completion and delivery still delivers exactly once, as a reply', async () => {
    h = await startBotHarness();
    const { task, messageId } = await requestVideo(h, 'northern lights');
    await h.stopAdapter();
    await h.waitForStatus(task.id, 'completed');
    expect(h.fake.calls('sendVideo')).toHaveLength(0);
    expect((await h.core.service.get(task.id)).deliveredAt).toBeNull();

    await h.restart();
    const video = await h.fake.waitFor('sendVideo');
    expect(Number(video.payload.chat_id)).toBe(carol.chatId);
    expect((video.payload.reply_parameters as { message_id: number }).message_id).toBe(messageId);
    expect(isMp4(video.files.video!.bytes)).toBe(true);
    await settle();
    expect((await h.core.service.get(task.id)).deliveredAt).not.toBeNull();

    await h.restart();
    await settle();
    expect(h.fake.delivered('sendVideo', carol.chatId)).toBe(1);
  });

  it('a video over the 50 MB upload limit is sent as a link', async () => {
    h = await startBotHarness();
    const { task } = await requestVideo(h, 'a very long film');
    await h.stopAdapter();
    await h.waitForStatus(task.id, 'completed');
    const file = (await h.core.service.get(task.id)).videoFile!;
    truncateSync(join(h.core.media.videosDir, file), 51 * 1024 * 1024);
    await h.restart();
    const link = await h.fake.waitFor('sendMessage', (c) => text(c).includes('too big to upload'));
    expect(text(link)).toContain(`/videos/${file}`);
    expect(text(link)).toContain('51 MiB');
    expect(h.fake.calls('sendVideo')).toHaveLength(0);
  });

  it('#12.10 a video that could not be copied here is delivered as the upstream link, saying it may expire', async () => {
    const upstream = await startRefusingServer();
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'succeeded', videoUrls: [upstream.expiredUrl] });
    try {
      h = await startBotHarness({}, { provider: () => provider });
      const { task } = await requestVideo(h, 'a lighthouse at dusk');
      const link = await h.fake.waitFor('sendMessage', (c) => text(c).includes('could not keep a copy'), 15_000);
      expect(text(link)).toContain(upstream.expiredUrl);
      expect(text(link)).not.toContain('missing');
      expect(h.fake.calls('sendVideo')).toHaveLength(0);
      await vi.waitFor(async () => expect((await h.core.service.get(task.id)).deliveredAt).not.toBeNull());
    } finally {
      await upstream.close();
    }
  });

  it('a chat that blocked the bot is given up, not retried, and the delivery says why (also to admins)', async () => {
    h = await startBotHarness({ TELEGRAM_ADMIN_IDS: '702' });
    h.fake.knobs.faults.sendVideo = { code: 403, description: 'Forbidden: bot was blocked by the user', times: 5 };
    const { task } = await requestVideo(h, 'a quiet forest');
    await h.fake.waitFor('sendVideo');
    await settle();
    expect(h.fake.calls('sendVideo')).toHaveLength(1);
    expect((await h.core.service.get(task.id)).deliveredAt).toBeNull();
    expect(await h.core.service.deliveries(task.id)).toMatchObject([
      { state: 'given_up', givenUpReason: 'Telegram answered 403: Forbidden: bot was blocked by the user' },
    ]);
    h.fake.pushUpdate(textMessage({ chatId: 702, userId: 702, languageCode: 'en' }, `/task ${task.id}`));
    const detail = await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === 702);
    expect(text(detail)).toContain(
      'delivery: given up — Telegram answered 403: Forbidden: bot was blocked by the user',
    );
  });

  it('#12.2 a Telegram outage through many tries still delivers exactly once when it ends', async () => {
    h = await startBotHarness({ OUTBOX_RETRY_BASE_S: '0.1', OUTBOX_RETRY_MAX_S: '0.4' });
    const { task } = await requestVideo(h, 'city lights');
    h.fake.knobs.outage = { code: 0, description: 'proxy down' };
    await h.waitForStatus(task.id, 'completed');
    await vi.waitFor(
      async () => expect((await h.core.service.deliveries(task.id))[0]?.tries).toBeGreaterThanOrEqual(6),
      {
        timeout: 15_000,
      },
    );
    expect((await h.core.service.get(task.id)).deliveredAt).toBeNull();
    h.fake.knobs.outage = undefined;
    await h.fake.waitFor('sendVideo', (c) => c.errorCode === undefined);
    await settle();
    expect(h.fake.delivered('sendVideo', carol.chatId)).toBe(1);
    expect((await h.core.service.get(task.id)).deliveredAt).not.toBeNull();
    expect((await h.core.service.deliveries(task.id))[0]).toMatchObject({ state: 'sent' });
  });

  it('when Telegram cannot be reached the delivery is retried later and the token stays out of the logs', async () => {
    h = await startBotHarness();
    h.fake.knobs.faults.sendVideo = { code: 0, description: 'dropped', times: 1 };
    await requestVideo(h, 'a stormy sea');
    await vi.waitFor(() => expect(h.core.logs()).toContain('delivery failed; will try again'), { timeout: 15_000 });
    await h.fake.waitFor('sendVideo', (c) => c.errorCode === undefined);
    expect(h.fake.calls('sendVideo').map((c) => c.errorCode)).toEqual([0, undefined]);
    expect(h.core.logs()).not.toContain(h.fake.token);
  });
});
