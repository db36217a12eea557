/**
 * #15 in Telegram: option flags in a prompt or caption (`--ratio 9:16 --duration 10`, `--ar`, an iOS em dash),
 * taken out of the prompt before it goes upstream, checked by the core, refused with a clear reply in the user's
 * language, listed by /help; through grammY against the fake Bot API with a real core.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlagWithoutValue, parseOptionFlags } from '../../adapters/telegram/option-flags.js';
import { type ArkFake, startArkFake } from '../fakes/ark/index.js';
import { photoMessage, textMessage } from '../fakes/telegram/updates.js';
import { arkEnv, arkProvider } from '../support/ark-setup.js';
import { sampleImage } from '../support/media-samples.js';
import { probeVideo } from '../support/video-probe.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness | undefined;
let ark: ArkFake | undefined;
afterEach(async () => {
  await h?.close();
  await ark?.close();
  h = undefined;
  ark = undefined;
});

const bob = { chatId: 611, userId: 611, languageCode: 'en' };
const li = { chatId: 612, userId: 612, languageCode: 'zh-hans' };
const text = (c: { payload: Record<string, unknown> }) => String(c.payload.text);
/** Renders stay "not ready" (the test is about the request, not the video). */
const SLOW = { LOCAL_RENDER_S: '600', MAX_ATTEMPTS: '3' };

describe('#15 option flags (parser)', () => {
  it('takes the flags out of the prompt and keeps the rest as written', () => {
    expect(parseOptionFlags('a cat surfing --ratio 9:16 --duration 10')).toEqual({
      prompt: 'a cat surfing',
      options: { ratio: '9:16', durationS: '10' },
    });
    expect(parseOptionFlags('--ar=1:1 a square  dance —duration 5 --res 720p')).toEqual({
      prompt: 'a square dance',
      options: { ratio: '1:1', durationS: '5', resolution: '720p' },
    });
    expect(parseOptionFlags('a road -- long and --winding')).toEqual({
      prompt: 'a road -- long and --winding',
      options: {},
    });
    expect(parseOptionFlags('一只猫 --RATIO 16:9')).toEqual({ prompt: '一只猫', options: { ratio: '16:9' } });
  });

  it('a flag without a value is an error naming the flag', () => {
    expect(() => parseOptionFlags('a cat --ratio')).toThrow(FlagWithoutValue);
    expect(() => parseOptionFlags('a cat --duration --ratio 9:16')).toThrow('--duration needs a value');
    expect(() => parseOptionFlags('a cat --ratio\nmore')).toThrow(FlagWithoutValue);
  });
});

describe('#15 option flags through the bot', () => {
  it('/video … --ar 9:16: the prompt goes upstream without the flag and the video comes back 720×1280', async () => {
    h = await startBotHarness();
    h.fake.pushUpdate(textMessage(bob, '/video a lighthouse at night --ar 9:16'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
    const task = (await h.core.service.list({})).tasks[0]!;
    expect(task).toMatchObject({ prompt: 'a lighthouse at night', options: { ratio: '9:16' } });
    const video = await h.fake.waitFor('sendVideo', undefined, 110_000);
    const dir = mkdtempSync(join(tmpdir(), 'dvb-tg-options-'));
    try {
      writeFileSync(join(dir, 'v.mp4'), video.files.video!.bytes);
      expect(await probeVideo(join(dir, 'v.mp4'))).toMatchObject({ width: 720, height: 1280 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(String(video.payload.caption)).toMatch(/^a lighthouse at night\n/);
  }, 120_000);

  it('a photo caption with flags (an em dash from iOS too) makes an i2v task with those options', async () => {
    h = await startBotHarness(SLOW);
    const file = h.fake.addFile(sampleImage('jpg'));
    h.fake.pushUpdate(photoMessage(bob, file, { caption: 'the waves move —ratio 1:1 --duration 10' }));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
    expect((await h.core.service.list({})).tasks[0]).toMatchObject({
      kind: 'i2v',
      prompt: 'the waves move',
      options: { ratio: '1:1', durationS: 10 },
    });
    h.fake.pushUpdate(textMessage(bob, '/mytasks'));
    const list = await h.fake.waitFor('sendMessage', (c) => text(c).includes('Your recent videos'));
    expect(text(list)).toMatch(/ · i2v · 1:1 · 10 s · .* · the waves move$/m);
  });

  it('a bad value, an option the provider lacks, a flag without value: a clear reply, nothing started', async () => {
    h = await startBotHarness(SLOW);
    h.fake.pushUpdate(textMessage(bob, '/video a cat --ratio 7:5'));
    await h.fake.waitFor('sendMessage', (c) =>
      text(c).startsWith('Sorry, "7:5" is not a valid aspect ratio. Use --ratio with one of: 16:9, 9:16, 1:1'),
    );
    h.fake.pushUpdate(textMessage(bob, '/video a cat --duration 7'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('Use --duration with one of: 5, 10 (seconds).'));
    h.fake.pushUpdate(textMessage(bob, '/video a cat --resolution 1080p'));
    await h.fake.waitFor('sendMessage', (c) =>
      text(c).includes('cannot choose the resolution: leave out --resolution'),
    );
    h.fake.pushUpdate(textMessage(bob, 'a cat --ratio'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('--ratio needs a value right after it'));
    h.fake.pushUpdate(textMessage(li, '/video 一只猫 --ratio 7:5'));
    await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('抱歉，"7:5" 不是可用的画面比例。'));
    expect((await h.core.service.list({})).total).toBe(0);
  });

  it('/help lists the flags the running provider takes (local: no resolution)', async () => {
    h = await startBotHarness(SLOW);
    h.fake.pushUpdate(textMessage(bob, '/help'));
    const help = await h.fake.waitFor('sendMessage', (c) => text(c).includes('--ratio'));
    expect(text(help)).toContain('--ratio 16:9|9:16|1:1|4:3|3:4|21:9 (--ar)');
    expect(text(help)).toContain('--duration 5|10');
    expect(text(help)).not.toContain('--resolution');
  });

  it('with Ark: --resolution is taken and reaches Ark with the other options', async () => {
    ark = await startArkFake({ queuedMs: 60_000 });
    h = await startBotHarness(arkEnv(ark), { provider: arkProvider });
    h.fake.pushUpdate(textMessage(bob, '/video a harbour --ratio 4:3 --duration 10 --resolution 1080p'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('accepted'));
    expect(ark.tasks[0]?.body).toMatchObject({
      content: [{ type: 'text', text: 'a harbour' }],
      ratio: '4:3',
      duration: 10,
      resolution: '1080p',
    });
    h.fake.pushUpdate(textMessage(bob, '/help'));
    const help = await h.fake.waitFor('sendMessage', (c) => text(c).includes('--resolution'));
    expect(text(help)).toContain('--resolution 480p|720p|1080p');
  });
});
