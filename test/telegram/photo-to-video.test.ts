/** Photos become image-to-video tasks; the finished MP4 comes back to the same chat as a reply. */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { documentMessage, photoMessage, textMessage } from '../fakes/telegram/updates.js';
import { isMp4, sampleImage } from '../support/media-samples.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const alice = { chatId: 501, userId: 501, languageCode: 'en' };

describe('photo to video', () => {
  it('a photo with a caption becomes an i2v task whose video is uploaded back as a reply', async () => {
    h = await startBotHarness();
    const image = sampleImage('jpg');
    const file = h.fake.addFile(image);
    const received: Buffer[] = [];
    h.core.service.on('queued', (task) => received.push(readFileSync(task.imagePath ?? '')));
    const update = photoMessage(alice, file, { caption: 'the waves start moving' });
    h.fake.pushUpdate(update);

    const status = await h.fake.waitFor('sendMessage', (c) => String(c.payload.text).includes('accepted'));
    expect(status.payload.chat_id).toBe(alice.chatId);
    expect((status.payload.reply_parameters as { message_id: number }).message_id).toBe(update.message.message_id);

    const video = await h.fake.waitFor('sendVideo');
    expect(Number(video.payload.chat_id)).toBe(alice.chatId);
    expect((video.payload.reply_parameters as { message_id: number }).message_id).toBe(update.message.message_id);
    const upload = video.files.video;
    expect(upload && isMp4(upload.bytes)).toBe(true);
    expect(String(video.payload.caption)).toMatch(/^the waves start moving\n\nhttp.*\/videos\/.+\.mp4$/);

    const { tasks } = await h.core.service.list({ platform: 'telegram' });
    expect(tasks).toHaveLength(1);
    const task = tasks[0]!;
    expect(task.kind).toBe('i2v');
    expect(task.prompt).toBe('the waves start moving');
    expect(task.origin).toMatchObject({ userId: '501', chatId: '501', locale: 'en' });
    expect(task.origin.reply).toMatchObject({
      chatId: 501,
      replyToMessageId: update.message.message_id,
      statusMessageId: (status.result as { message_id: number }).message_id,
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.equals(image)).toBe(true);
    expect(h.core.logs()).not.toContain(h.fake.token);
  });

  it('a photo without a caption asks for a prompt, and the reply to that question continues', async () => {
    h = await startBotHarness();
    const file = h.fake.addFile(sampleImage('jpg'));
    const photo = photoMessage(alice, file);
    h.fake.pushUpdate(photo);
    const question = await h.fake.waitFor('sendMessage', (c) => String(c.payload.text).includes('Reply to this'));
    expect((await h.core.service.list({})).total).toBe(0);

    const questionId = (question.result as { message_id: number }).message_id;
    h.fake.pushUpdate(textMessage(alice, 'a slow zoom in', questionId));
    const video = await h.fake.waitFor('sendVideo');
    expect((video.payload.reply_parameters as { message_id: number }).message_id).toBe(photo.message.message_id);
    expect((await h.core.service.list({})).tasks[0]).toMatchObject({ kind: 'i2v', prompt: 'a slow zoom in' });
  });

  it('a photo waiting for its prompt survives a restart (kept in the database), and only its sender continues it', async () => {
    h = await startBotHarness();
    const image = sampleImage('jpg');
    const photo = photoMessage(alice, h.fake.addFile(image));
    h.fake.pushUpdate(photo);
    const question = await h.fake.waitFor('sendMessage', (c) => String(c.payload.text).includes('Reply to this'));
    const questionId = (question.result as { message_id: number }).message_id;
    // Kept once Telegram answered the question (a moment after the fake logged it).
    await vi.waitFor(async () => expect(await h.core.store.countPendingPhotos()).toBe(1));

    await h.restart();
    // Someone else answering the question does not take the photo (in a private chat, it is a text prompt).
    const bob = { chatId: alice.chatId, userId: 502, languageCode: 'en' };
    h.fake.pushUpdate(textMessage(bob, 'not my photo', questionId));
    h.fake.pushUpdate(textMessage(alice, 'the clouds drift by', questionId));
    const video = await h.fake.waitFor('sendVideo', (c) => String(c.payload.caption).startsWith('the clouds'));
    expect((video.payload.reply_parameters as { message_id: number }).message_id).toBe(photo.message.message_id);
    const i2v = (await h.core.service.list({})).tasks.filter((t) => t.kind === 'i2v');
    expect(i2v).toHaveLength(1);
    expect(i2v[0]).toMatchObject({ prompt: 'the clouds drift by', origin: { userId: String(alice.userId) } });
    expect(readFileSync(i2v[0]!.imagePath!).equals(image)).toBe(true);
    expect(await h.core.store.countPendingPhotos()).toBe(0);
  });

  it('in a group, a caption that mentions the bot is the prompt without the mention', async () => {
    h = await startBotHarness();
    const group = { chatId: -100_501, userId: 502, languageCode: 'en' };
    const prompts: string[] = [];
    h.core.service.on('queued', (task) => prompts.push(task.prompt));
    h.fake.pushUpdate(
      photoMessage(group, h.fake.addFile(sampleImage('jpg')), { caption: '@doubao_test_bot a red kite' }),
    );
    await h.fake.waitFor('sendMessage', (c) => String(c.payload.text).includes('accepted'));
    expect(prompts).toEqual(['a red kite']);
  });

  it('an image sent as a document is accepted too', async () => {
    h = await startBotHarness();
    const file = h.fake.addFile(sampleImage('png'), 'png');
    h.fake.pushUpdate(documentMessage(alice, file, { caption: 'sparkles', mimeType: 'image/png' }));
    await h.fake.waitFor('sendVideo');
    expect((await h.core.service.list({})).tasks[0]).toMatchObject({ kind: 'i2v', prompt: 'sparkles' });
  });

  it('an album makes one task from the captioned photo and says so', async () => {
    h = await startBotHarness();
    const first = h.fake.addFile(sampleImage('jpg'));
    const second = h.fake.addFile(sampleImage('jpg', 160, 100));
    h.fake.pushUpdate(photoMessage(alice, first, { caption: 'birds fly away', mediaGroupId: 'album-1' }));
    h.fake.pushUpdate(photoMessage(alice, second, { mediaGroupId: 'album-1' }));
    await h.fake.waitFor('sendMessage', (c) => String(c.payload.text).startsWith('Albums:'));
    await h.fake.waitFor('sendVideo');
    expect((await h.core.service.list({})).total).toBe(1);
    expect(h.fake.calls('sendMessage').some((c) => String(c.payload.text).includes('Reply to this'))).toBe(false);
  });

  it('an album without any caption gets the prompt question once', async () => {
    h = await startBotHarness();
    for (const size of [100, 120, 140]) {
      h.fake.pushUpdate(
        photoMessage(alice, h.fake.addFile(sampleImage('jpg', size, size)), { mediaGroupId: 'album-2' }),
      );
    }
    await h.fake.waitFor('sendMessage', (c) => String(c.payload.text).includes('Reply to this'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(h.fake.calls('sendMessage')).toHaveLength(1);
    expect((await h.core.service.list({})).total).toBe(0);
  });
});
