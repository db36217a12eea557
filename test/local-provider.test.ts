import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { describe, expect, it, vi } from 'vitest';
import { createLocalProvider, localTiming } from '../src/providers/local/index.js';
import { textScene } from '../src/providers/local/render.js';
import { pollUntilDone, providerContract } from './provider-contract.js';
import { startTestCore } from './support/test-core.js';

providerContract('local', async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'dvb-local-'));
  return {
    provider: createLocalProvider({ workDir, ffmpegPath: ffmpeg.path }),
    fetchVideo: async (url) => readFileSync(fileURLToPath(url)),
    dispose: async () => rmSync(workDir, { recursive: true, force: true }),
  };
});

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
    await provider.close?.(); // wait for the render itself
    expect(await provider.poll(ref)).toMatchObject({ state: 'running' });
    clock += 61_000;
    expect(await provider.poll(ref)).toMatchObject({ state: 'succeeded' });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('renders again after a restart lost the render in memory', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'dvb-local-'));
    const first = createLocalProvider({ workDir, ffmpegPath: ffmpeg.path });
    const ref = { id: 'lost-render', prompt: 'after a crash', startedAt: Date.now() };
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

  it('#14 brings its own timing: a first look after a few seconds, then frequent looks covering LOCAL_RENDER_S', () => {
    const timing = localTiming({ firstCheckS: 2, pollIntervalS: 1, renderDelayS: 0 });
    expect(timing).toMatchObject({ firstAttemptDelayS: 2, retryIntervalS: 1 });
    expect(timing.maxAttempts).toBeGreaterThanOrEqual(120);
    const slow = localTiming({ firstCheckS: 2, pollIntervalS: 1, renderDelayS: 600 });
    expect(slow.maxAttempts! * slow.retryIntervalS).toBeGreaterThan(600);
  });

  it('#14 is queue-aware: tasks waiting for the one renderer stay unstarted and spend no attempts', async () => {
    const core = await startTestCore({
      provider: (config) =>
        createLocalProvider({
          workDir: join(config.DATA_DIR, 'local'),
          ffmpegPath: ffmpeg.path,
          concurrency: 1,
          timing: { firstAttemptDelayS: 0.2, retryIntervalS: 0.2, maxAttempts: 40 },
        }),
    });
    try {
      let mostRunning = 0;
      core.service.on('started', () => {
        mostRunning = Math.max(mostRunning, core.store.countRunning('local'));
      });
      const origin = { platform: 'http' as const, userId: 'queue' };
      const tasks = await Promise.all(
        ['one', 'two', 'three', 'four'].map((prompt) => core.service.submit({ prompt: `queued ${prompt}`, origin })),
      );
      await vi.waitFor(
        () =>
          expect(tasks.map((t) => [core.service.get(t.id).status, core.service.get(t.id).error])).toEqual(
            Array(4).fill(['completed', null]),
          ),
        { timeout: 60_000, interval: 200 },
      );
      expect(mostRunning).toBe(1);
      expect(core.provider.maxRunning).toBe(1);
    } finally {
      await core.dispose();
    }
  }, 90_000);
});
