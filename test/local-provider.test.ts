import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { describe, expect, it } from 'vitest';
import { createLocalProvider } from '../src/providers/local/index.js';
import { textScene } from '../src/providers/local/render.js';
import { pollUntilDone, providerContract } from './provider-contract.js';

providerContract('local', async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'dvb-local-'));
  return {
    provider: createLocalProvider({ workDir, ffmpegPath: ffmpeg.path }),
    fetchVideo: async (url) => readFileSync(fileURLToPath(url)),
    dispose: async () => rmSync(workDir, { recursive: true, force: true }),
  };
});

/** Waits until a finished MP4 is in the provider's videos folder. */
async function waitForVideo(workDir: string): Promise<void> {
  const videos = join(workDir, 'videos');
  for (let i = 0; i < 600; i++) {
    if (existsSync(videos) && readdirSync(videos).some((f) => f.endsWith('.mp4') && !f.includes('.part'))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no video rendered within 60 s');
}

describe('local provider', () => {
  it('derives the text scene deterministically from the prompt', () => {
    expect(textScene('a cat')).toEqual(textScene('a cat'));
    expect(textScene('a cat')).not.toEqual(textScene('a dog'));
  });

  it('keeps the video "not ready" for LOCAL_RENDER_S, then reports it', async () => {
    let clock = 1_000_000;
    const workDir = mkdtempSync(join(tmpdir(), 'dvb-local-'));
    const provider = createLocalProvider({ workDir, ffmpegPath: ffmpeg.path, renderDelayS: 60, now: () => clock });
    const ref = await provider.start({ prompt: 'slow', guest: false });
    await waitForVideo(workDir); // the render itself
    expect(await provider.poll(ref)).toMatchObject({ state: 'running' });
    clock += 61_000;
    expect(await provider.poll(ref)).toMatchObject({ state: 'succeeded' });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('renders again after a restart lost the render in memory', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'dvb-local-'));
    const first = createLocalProvider({ workDir, ffmpegPath: ffmpeg.path });
    const ref = { id: randomUUID(), prompt: 'after a crash', startedAt: Date.now() };
    const second = createLocalProvider({ workDir, ffmpegPath: ffmpeg.path });
    expect(await second.poll(ref)).toEqual({ state: 'running' });
    expect((await pollUntilDone(second, ref)).state).toBe('succeeded');
    await first.close?.();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("fails for good, with the renderer's reason, when the image cannot be decoded", async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'dvb-local-'));
    const provider = createLocalProvider({ workDir, ffmpegPath: ffmpeg.path });
    const image = await provider.uploadImage({
      bytes: Buffer.from('not an image'),
      fileName: 'x.png',
      mime: 'image/png',
    });
    const ref = await provider.start({ prompt: 'broken', image, guest: false });
    const result = await pollUntilDone(provider, ref);
    expect(result).toMatchObject({ state: 'failed', retryable: false });
    expect(result.state === 'failed' && result.reason).toMatch(/local renderer failed/);
    rmSync(workDir, { recursive: true, force: true });
  });
});
