import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { describe, expect, it, vi } from 'vitest';
import type { VideoOptions } from '../src/core/options.js';
import { captionText, findCaptionFont, PREVIEW_LABEL } from '../src/providers/local/caption.js';
import { createLocalProvider, localTiming } from '../src/providers/local/index.js';
import { textScene } from '../src/providers/local/render.js';
import { pollUntilDone, providerContract } from './provider-contract.js';
import { sampleImage } from './support/media-samples.js';
import { stubbornFfmpeg } from './support/stubborn-ffmpeg.js';
import { startTestCore } from './support/test-core.js';
import { probeVideo } from './support/video-probe.js';

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
      core.service.on('started', async () => {
        mostRunning = Math.max(mostRunning, await core.store.countRunning('local'));
      });
      const origin = { platform: 'http' as const, userId: 'queue' };
      const tasks = await Promise.all(
        ['one', 'two', 'three', 'four'].map((prompt) => core.service.submit({ prompt: `queued ${prompt}`, origin })),
      );
      await vi.waitFor(
        async () => {
          const now = await Promise.all(tasks.map((t) => core.service.get(t.id)));
          expect(now.map((t) => [t.status, t.error])).toEqual(Array(4).fill(['completed', null]));
        },
        { timeout: 60_000, interval: 200 },
      );
      expect(mostRunning).toBe(1);
      expect(core.provider.maxRunning).toBe(1);
    } finally {
      await core.dispose();
    }
  }, 90_000);
});

/** One RGB frame (640×360) of a rendered video, at `second`. */
function frameAt(file: string, second: number): Buffer {
  return execFileSync(ffmpeg.path, [
    '-v',
    'error',
    '-ss',
    String(second),
    '-i',
    file,
    '-frames:v',
    '1',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-',
  ]);
}

/** Renders one job (with the task's generation options, if any) to the end and returns its video file. */
async function renderOne(
  options: Partial<Parameters<typeof createLocalProvider>[0]>,
  prompt: string,
  image?: Buffer,
  videoOptions?: VideoOptions,
) {
  const workDir = mkdtempSync(join(tmpdir(), 'dvb-local-'));
  const provider = createLocalProvider({ workDir, ffmpegPath: ffmpeg.path, ...options });
  const asked = videoOptions && { options: videoOptions };
  const ref = image
    ? await provider.start({
        prompt,
        image: await provider.uploadImage({ bytes: image, fileName: 'p.png', mime: 'image/png' }),
        guest: false,
        ...asked,
      })
    : await provider.start({ prompt, guest: false, ...asked });
  const result = await pollUntilDone(provider, ref, 480); // up to 2 minutes: a 720p render on a busy machine
  if (result.state !== 'succeeded') throw new Error(`render failed: ${JSON.stringify(result)}`);
  return {
    file: fileURLToPath(result.videoUrls[0]!),
    dispose: () => rmSync(workDir, { recursive: true, force: true }),
  };
}

describe('#14 the local preview says what it is', () => {
  const cjk = { file: '/fonts/cjk.ttc', cjk: true };
  const latin = { file: '/fonts/latin.ttf', cjk: false };

  it('captions the label and the prompt; a Latin-only font leaves out a prompt it cannot draw', () => {
    expect(captionText('一只猫在月球上跳舞', cjk)).toBe(`${PREVIEW_LABEL}\n一只猫在月球上跳舞`);
    expect(captionText('一只猫在月球上跳舞', latin)).toBe(PREVIEW_LABEL);
    expect(captionText('a cat on the moon', latin)).toBe(`${PREVIEW_LABEL}\na cat on the moon`);
    const long = captionText('word '.repeat(40), latin).split('\n');
    expect(long).toHaveLength(3);
    expect(long[2]).toMatch(/…$/);
  });

  it('burns the caption into the text-to-video (a frame differs from the uncaptioned one where the caption is)', async () => {
    const font = findCaptionFont();
    expect(font, 'a font (fonts-dejavu or fonts-noto-cjk) is installed here').toBeDefined();
    const captioned = await renderOne({ captionFont: font! }, 'a lighthouse 灯塔');
    const plain = await renderOne({ captionFont: null }, 'a lighthouse 灯塔');
    try {
      const [a, b] = [frameAt(captioned.file, 2), frameAt(plain.file, 2)];
      const row = 640 * 3;
      const differing = (from: number, to: number) => {
        let n = 0;
        for (let i = from * row; i < to * row; i++) if (Math.abs(a[i]! - b[i]!) > 40) n++;
        return n;
      };
      // The caption's box at the bottom; the top is the same picture (up to the encoder's noise).
      const bottom = differing(260, 350);
      expect(bottom).toBeGreaterThan(1000);
      expect(bottom).toBeGreaterThan(5 * differing(0, 90));
    } finally {
      captioned.dispose();
      plain.dispose();
    }
  });

  it('never fails a render for its caption: a font that cannot be opened gives a video without it', async () => {
    const video = await renderOne({ captionFont: { file: '/nonexistent/font.ttf', cjk: true } }, '没有字体');
    try {
      expect(frameAt(video.file, 1).length).toBe(640 * 360 * 3);
    } finally {
      video.dispose();
    }
  });

  it('does not render again without the caption when the captioned render ran out of time', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'dvb-local-'));
    const stubborn = stubbornFfmpeg(workDir);
    const provider = createLocalProvider({
      workDir,
      ffmpegPath: stubborn.path,
      captionFont: { file: '/fonts/any.ttf', cjk: false },
      renderTimeoutMs: 500,
    });
    try {
      const ref = await provider.start({ prompt: 'never ends', guest: false });
      const result = await pollUntilDone(provider, ref);
      expect(result).toMatchObject({ state: 'failed', retryable: false });
      expect(result.state === 'failed' && result.reason).toMatch(/longer than/);
      expect(stubborn.runs()).toBe(1);
    } finally {
      await provider.close?.();
      rmSync(workDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('keeps the whole of a portrait picture: its top and bottom bands are in the video', async () => {
    // 180×640: a red band at the top, grey in the middle, a blue band at the bottom.
    const portrait = execFileSync(ffmpeg.path, [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=red:s=180x60',
      '-f',
      'lavfi',
      '-i',
      'color=gray:s=180x520',
      '-f',
      'lavfi',
      '-i',
      'color=blue:s=180x60',
      '-filter_complex',
      'vstack=inputs=3',
      '-frames:v',
      '1',
      '-f',
      'image2pipe',
      '-c:v',
      'png',
      '-',
    ]);
    const video = await renderOne({}, 'portrait', portrait);
    try {
      const frame = frameAt(video.file, 4);
      let red = 0;
      let blue = 0;
      for (let i = 0; i < frame.length; i += 3) {
        const [r, g, b] = [frame[i]!, frame[i + 1]!, frame[i + 2]!];
        if (r > 180 && g < 80 && b < 80) red++;
        if (b > 180 && r < 80 && g < 80) blue++;
      }
      expect(red).toBeGreaterThan(200);
      expect(blue).toBeGreaterThan(200);
    } finally {
      video.dispose();
    }
  });
});

describe('#15 the local preview renders the ratio and duration it is given', () => {
  it('text-to-video 9:16 for 10 s is a 720×1280 MP4 of 10 s, its caption fitted to the narrow frame', async () => {
    const video = await renderOne({}, 'a tall tower', undefined, { ratio: '9:16', durationS: 10 });
    try {
      expect(await probeVideo(video.file)).toMatchObject({ width: 720, height: 1280 });
      expect((await probeVideo(video.file)).durationS).toBeCloseTo(10, 0);
    } finally {
      video.dispose();
    }
  }, 120_000);

  it('image-to-video 1:1 is 720×720 and 5 s; 21:9 is 1680×720', async () => {
    const square = await renderOne({}, 'the picture breathes', sampleImage('png'), { ratio: '1:1' });
    const wide = await renderOne({ captionFont: null }, 'a wide valley', undefined, { ratio: '21:9' });
    try {
      expect(await probeVideo(square.file)).toMatchObject({ width: 720, height: 720 });
      expect((await probeVideo(square.file)).durationS).toBeCloseTo(5, 0);
      expect(await probeVideo(wide.file)).toMatchObject({ width: 1680, height: 720 });
    } finally {
      square.dispose();
      wide.dispose();
    }
  }, 120_000);

  it('without options it is the preview as before: 640×360 and 5 s; a duration alone keeps that frame', async () => {
    const plain = await renderOne({}, 'as always');
    const longer = await renderOne({ captionFont: null }, 'longer', undefined, { durationS: 10 });
    try {
      expect(await probeVideo(plain.file)).toMatchObject({ width: 640, height: 360 });
      expect((await probeVideo(plain.file)).durationS).toBeCloseTo(5, 0);
      expect(await probeVideo(longer.file)).toMatchObject({ width: 640, height: 360 });
      expect((await probeVideo(longer.file)).durationS).toBeCloseTo(10, 0);
    } finally {
      plain.dispose();
      longer.dispose();
    }
  }, 120_000);

  it('cuts caption lines to the frame: at most 20 characters a line in a 360-pixel-wide scene', () => {
    const lines = captionText('word '.repeat(10), { file: '/f.ttf', cjk: false }, 360).split('\n');
    expect(lines[1]!.length).toBeLessThanOrEqual(20);
    expect(captionText('word '.repeat(10), { file: '/f.ttf', cjk: false }).split('\n')[1]!.length).toBeGreaterThan(20);
  });
});
