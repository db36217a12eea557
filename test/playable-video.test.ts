/**
 * Playable everywhere, end to end: Doubao serves an HEVC video (the fake's `videoCodec` knob), the user in
 * Telegram receives H.264, and the download is kept beside the re-hosted copy.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { mp4VideoSampleEntry } from '../src/core/transcode.js';
import { textMessage } from './fakes/telegram/updates.js';
import { type DoubaoUpstream, startDoubaoUpstream } from './support/doubao-setup.js';
import { isMp4 } from './support/media-samples.js';
import { startBotHarness } from './telegram/harness.js';

let upstream: DoubaoUpstream | undefined;
afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

/** The sample entry of an MP4 given as bytes. */
async function codecOf(bytes: Uint8Array): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'dvb-codec-'));
  try {
    writeFileSync(join(dir, 'v.mp4'), bytes);
    return await mp4VideoSampleEntry(join(dir, 'v.mp4'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('an HEVC video from Doubao reaches Telegram as H.264, and the HEVC download is kept', async () => {
  upstream = await startDoubaoUpstream({ videoCodec: 'hevc' });
  const h = await startBotHarness(upstream.env, { provider: upstream.provider });
  try {
    h.fake.pushUpdate(textMessage({ chatId: 81, userId: 81, languageCode: 'en' }, '/video a heron takes off'));
    const sent = await h.fake.waitFor('sendVideo', undefined, 60_000);
    const delivered = sent.files.video!.bytes;
    expect(isMp4(delivered)).toBe(true);
    expect(await codecOf(delivered)).toBe('avc1');

    const [task] = (await h.core.service.list()).tasks;
    expect(task).toMatchObject({ status: 'completed', videoFile: `${task!.id}.mp4` });
    const original = readFileSync(h.core.media.originalVideoPath(task!.id));
    expect(await codecOf(original)).toBe('hvc1');
  } finally {
    await h.close();
  }
});
