/**
 * Issue 13, one bad image must not hurt anyone else: images that do not decode are refused at upload, an ffmpeg
 * that ignores SIGTERM is killed with its whole process group (on timeout and on shutdown), image bombs are
 * refused from their header, and every accepted format renders.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFinal } from '../src/core/index.js';
import { createLocalProvider } from '../src/providers/local/index.js';
import { renderVideo } from '../src/providers/local/render.js';
import { pollUntilDone } from './provider-contract.js';
import { idleProvider } from './support/idle-provider.js';
import { IMAGE_TYPES, isMp4, pngWithoutPixels, sampleAnimatedGif, sampleImage } from './support/media-samples.js';
import { alive, stubbornFfmpeg } from './support/stubborn-ffmpeg.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { startTestCore } from './support/test-core.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvb-hostile-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('#13.1 an ffmpeg that ignores SIGTERM', () => {
  it('#13.1 a render past its time limit kills the whole ffmpeg process group (SIGKILL after the grace period)', async () => {
    const dir = tempDir();
    const stubborn = stubbornFfmpeg(dir);
    const started = Date.now();
    const render = renderVideo(stubborn.path, [], join(dir, 'out.mp4'), { timeoutMs: 500 });
    await expect(render).rejects.toThrow(/longer than/);
    expect(Date.now() - started).toBeLessThan(8_000);
    const pids = stubborn.pids();
    expect(pids).toHaveLength(2);
    await waitFor(() => pids.every((pid) => !alive(pid)), 'the process group to die');
  }, 20_000);

  it('#13.1 closing the local provider kills a running ffmpeg group and does not wait for it', async () => {
    const dir = tempDir();
    const stubborn = stubbornFfmpeg(dir);
    const provider = createLocalProvider({ workDir: dir, ffmpegPath: stubborn.path });
    await provider.start({ prompt: 'never ends', guest: false });
    await waitFor(() => stubborn.runs() === 1, 'ffmpeg to start');
    const started = Date.now();
    await provider.close?.();
    expect(Date.now() - started).toBeLessThan(8_000);
    const pids = stubborn.pids();
    await waitFor(() => pids.every((pid) => !alive(pid)), 'the process group to die');
  }, 20_000);

  it('#13.1 a PNG without IDAT reaching the local renderer fails within seconds and the next render still succeeds', async () => {
    const dir = tempDir();
    const provider = createLocalProvider({ workDir: dir, ffmpegPath: ffmpeg.path });
    const image = await provider.uploadImage({ bytes: pngWithoutPixels(), fileName: 'x.png', mime: 'image/png' });
    const broken = await provider.start({ prompt: 'broken', image, guest: false });
    const behind = await provider.start({ prompt: 'queued behind it', guest: false });
    const started = Date.now();
    const first = await pollUntilDone(provider, broken, 120, 250);
    expect(first).toMatchObject({ state: 'failed', retryable: false });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await pollUntilDone(provider, behind, 240, 250)).state).toBe('succeeded');
    await provider.close?.();
  }, 90_000);
});

describe('#13.1 images are decoded before they are accepted', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ provider: () => idleProvider() });
  });
  afterAll(() => api.close());

  const upload = (bytes: Buffer, name = 'x.png') =>
    request(`${api.base}/api/file/upload?file_type=2&file_name=${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });

  it('#13.1 a PNG without IDAT is refused at upload (415) and never reaches a render', async () => {
    const png = pngWithoutPixels(100, 100);
    expect(png.length).toBe(33);
    const started = Date.now();
    const res = await upload(png);
    expect(res.statusCode).toBe(415);
    expect(((await res.body.json()) as { detail: string }).detail).toMatch(/could not be decoded/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await api.core.service.list()).total).toBe(0);
  }, 20_000);

  it('#13.1 a truncated PNG is refused at upload; a whole one is accepted', async () => {
    const whole = sampleImage('png', 64, 48);
    const cut = await upload(whole.subarray(0, Math.floor(whole.length / 2)));
    expect(cut.statusCode).toBe(415);
    await cut.body.dump();
    const fine = await upload(whole);
    expect(fine.statusCode).toBe(200);
    await fine.body.dump();
  }, 20_000);
});

describe('#13.2 image bombs', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ provider: () => idleProvider(), env: { MAX_IMAGE_PIXELS: '100000' } });
  });
  afterAll(() => api.close());

  const upload = (bytes: Buffer) =>
    request(`${api.base}/api/file/upload?file_type=2&file_name=bomb.png`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });

  it('#13.2 a 16000×16000 PNG header is refused at upload (413) from its header, without decoding it', async () => {
    const started = Date.now();
    const res = await upload(pngWithoutPixels(16_000, 16_000));
    expect(res.statusCode).toBe(413);
    expect(((await res.body.json()) as { detail: string }).detail).toBe(
      'the image is 16000×16000 (256 megapixels); the limit is 0.1 megapixels',
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('#13.2 MAX_IMAGE_PIXELS applies to uploads and to images sent with a request (image_url, chat) alike', async () => {
    const big = await upload(sampleImage('png', 400, 300)); // 120 000 pixels
    expect(big.statusCode).toBe(413);
    await big.body.dump();
    const small = await upload(sampleImage('png', 300, 300)); // 90 000 pixels
    expect(small.statusCode).toBe(200);
    await small.body.dump();
    await expect(
      api.core.service.submit({
        prompt: 'x',
        image: { bytes: sampleImage('png', 400, 300) },
        origin: { platform: 'http', userId: 'api' },
      }),
    ).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  it('#13.2 MAX_IMAGE_PIXELS defaults to 40 megapixels', async () => {
    expect(api.core.config.MAX_IMAGE_PIXELS).toBe(100_000);
    const { loadConfig } = await import('../src/config.js');
    expect(loadConfig({}).MAX_IMAGE_PIXELS).toBe(40_000_000);
  });
});

describe('#13.3 every accepted format renders', () => {
  const formats = [
    ...IMAGE_TYPES.map((ext) => ({ name: ext, bytes: () => sampleImage(ext, 320, 200) })),
    { name: 'animated gif', bytes: sampleAnimatedGif },
  ];

  it.each(formats)(
    '#13.3 a $name image is accepted at upload and rendered into a video',
    async ({ name, bytes }) => {
      const api = await startTestApi({ env: { FIRST_ATTEMPT_DELAY_S: '0' } });
      try {
        const ext = name === 'animated gif' ? 'gif' : name;
        const res = await request(`${api.base}/api/file/upload?file_type=2&file_name=x.${ext}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: bytes(),
        });
        expect(res.statusCode).toBe(200);
        const attachment = (await res.body.json()) as { key: string };
        const task = await api.core.service.submit({
          prompt: `a ${name}`,
          imageKey: attachment.key,
          origin: { platform: 'http', userId: 'api' },
        });
        await waitFor(async () => isFinal((await api.core.service.get(task.id)).status), 'the task to finish', 60_000);
        const done = await api.core.service.get(task.id);
        expect(done.error).toBeNull();
        expect(done.status).toBe('completed');
        expect(isMp4(readFileSync(join(api.core.media.videosDir, done.videoFile!)))).toBe(true);
      } finally {
        await api.close();
      }
    },
    90_000,
  );
});

describe('#13.4 renders nobody waits for are stopped', () => {
  const stubbornCore = async (env: Record<string, string> = {}) => {
    const dir = tempDir();
    const stubborn = stubbornFfmpeg(dir);
    const core = await startTestCore({
      env,
      provider: () => createLocalProvider({ workDir: dir, ffmpegPath: stubborn.path }),
    });
    return { core, stubborn };
  };

  it('#13.4 cancelling a task stops its render (the whole ffmpeg group dies)', async () => {
    const { core, stubborn } = await stubbornCore();
    try {
      const task = await core.service.submit({ prompt: 'cancel me', origin: { platform: 'http', userId: 'api' } });
      await waitFor(() => stubborn.runs() === 1, 'ffmpeg to start');
      const pids = stubborn.pids();
      await core.service.cancel(task.id, { admin: true });
      await waitFor(() => pids.every((pid) => !alive(pid)), 'the process group to die');
      expect((await core.service.get(task.id)).status).toBe('cancelled');
    } finally {
      await core.dispose();
    }
  }, 30_000);

  it('#13.4 a task that failed for good (not ready after its last attempt) stops its render', async () => {
    const { core, stubborn } = await stubbornCore({ MAX_ATTEMPTS: '1', FIRST_ATTEMPT_DELAY_S: '1' });
    try {
      const task = await core.service.submit({ prompt: 'too slow', origin: { platform: 'http', userId: 'api' } });
      await waitFor(() => stubborn.runs() === 1, 'ffmpeg to start');
      const pids = stubborn.pids();
      await waitFor(async () => (await core.service.get(task.id)).status === 'failed', 'the task to fail', 20_000);
      expect((await core.service.get(task.id)).error).toMatch(/not ready after 1 attempts/);
      await waitFor(() => pids.every((pid) => !alive(pid)), 'the process group to die');
    } finally {
      await core.dispose();
    }
  }, 40_000);

  it('#13.4 shutdown stops the running render and starts none of the queued ones', async () => {
    const dir = tempDir();
    const stubborn = stubbornFfmpeg(dir);
    const provider = createLocalProvider({ workDir: dir, ffmpegPath: stubborn.path, concurrency: 1 });
    for (const prompt of ['one', 'two', 'three']) await provider.start({ prompt, guest: false });
    await waitFor(() => stubborn.runs() === 1, 'ffmpeg to start');
    const started = Date.now();
    await provider.close?.();
    expect(Date.now() - started).toBeLessThan(8_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(stubborn.runs()).toBe(1);
    const pids = stubborn.pids();
    await waitFor(() => pids.every((pid) => !alive(pid)), 'the process group to die');
  }, 30_000);
});
