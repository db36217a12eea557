/** Bad or oversized input gets a clear reply stating the limit, and the bot keeps working afterwards. */
import { afterEach, describe, expect, it } from 'vitest';
import { documentMessage, photoMessage, textMessage } from '../fakes/telegram/updates.js';
import { sampleImage } from '../support/media-samples.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const dave = { chatId: 801, userId: 801, languageCode: 'en' };
const text = (c: { payload: Record<string, unknown> }) => String(c.payload.text);
const MiB = 1024 * 1024;

describe('limits', () => {
  it('a photo over Telegram’s 20 MB download limit is refused before any download', async () => {
    h = await startBotHarness();
    const file = h.fake.addFile({ size: 25 * MiB });
    h.fake.pushUpdate(photoMessage(dave, file, { caption: 'too big' }));
    const reply = await h.fake.waitFor('sendMessage');
    expect(text(reply)).toBe('That file is too big: Telegram lets bots download files up to 20 MiB.');
    expect(h.fake.calls('getFile')).toHaveLength(0);
    expect((await h.core.service.list({})).total).toBe(0);
  });

  it('a document whose size is unknown is refused when getFile says it is too big', async () => {
    h = await startBotHarness();
    const file = h.fake.addFile({ size: 25 * MiB });
    h.fake.pushUpdate(documentMessage(dave, file, { caption: 'big scan', fileSize: null }));
    const reply = await h.fake.waitFor('sendMessage');
    expect(text(reply)).toContain('up to 20 MiB');
    expect(h.fake.calls('getFile').map((c) => c.errorCode)).toEqual([400]);
  });

  it('an image over MAX_IMAGE_BYTES is refused with the limit, whether declared or discovered', async () => {
    h = await startBotHarness({ MAX_IMAGE_BYTES: '4096' });
    const image = sampleImage('jpg', 640, 400);
    expect(image.length).toBeGreaterThan(4096);
    const file = h.fake.addFile(image);
    h.fake.pushUpdate(photoMessage(dave, file, { caption: 'declared' }));
    h.fake.pushUpdate(documentMessage(dave, file, { caption: 'undeclared', fileSize: null }));
    await h.fake.waitFor('sendMessage', () => h.fake.calls('sendMessage').length === 2);
    for (const reply of h.fake.calls('sendMessage'))
      expect(text(reply)).toBe('That image is too big: the limit is 4 KiB.');
    expect((await h.core.service.list({})).total).toBe(0);
  });

  it('a file claiming to be an image is checked by its bytes; other documents are refused', async () => {
    h = await startBotHarness();
    const fake = h.fake.addFile(Buffer.from('%PDF-1.4 not really a picture'), 'jpg');
    h.fake.pushUpdate(documentMessage(dave, fake, { caption: 'sneaky', mimeType: 'image/jpeg' }));
    h.fake.pushUpdate(documentMessage(dave, fake, { caption: 'a pdf', mimeType: 'application/pdf' }));
    await h.fake.waitFor('sendMessage', () => h.fake.calls('sendMessage').length === 2);
    for (const reply of h.fake.calls('sendMessage')) {
      expect(text(reply)).toBe('That file is not an image. Send a JPEG, PNG, WebP, GIF or BMP.');
    }
    h.fake.pushUpdate(textMessage(dave, '/help'));
    await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('How to use me'));
  });

  it('the per-user limit of active tasks is explained in plain words', async () => {
    h = await startBotHarness({ USER_MAX_ACTIVE: '1', LOCAL_RENDER_S: '600' });
    h.fake.pushUpdate(textMessage(dave, '/video first'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
    h.fake.pushUpdate(textMessage(dave, '/video second'));
    const refusal = await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Sorry'));
    expect(text(refusal)).toContain('the limit is 1');
    expect((await h.core.service.list({})).total).toBe(1);
  });

  it('refusals are in Chinese for zh users', async () => {
    h = await startBotHarness();
    const file = h.fake.addFile({ size: 25 * MiB });
    h.fake.pushUpdate(photoMessage({ ...dave, languageCode: 'zh' }, file, { caption: '太大了' }));
    const reply = await h.fake.waitFor('sendMessage');
    expect(text(reply)).toBe('文件太大：Telegram 只允许机器人下载不超过 20 MiB 的文件。');
  });
});
