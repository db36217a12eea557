import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../src/core/errors.js';
import { createArkProvider } from '../src/providers/ark/index.js';
import { type ArkFake, startArkFake } from './fakes/ark/index.js';
import { overFake, providerContract } from './provider-contract.js';
import { sampleImage } from './support/media-samples.js';

function providerFor(fake: ArkFake, workDir: string, apiKey = fake.knobs.apiKey) {
  return createArkProvider(optionsFor(fake, workDir, apiKey));
}

function optionsFor(fake: ArkFake, workDir: string, apiKey = fake.knobs.apiKey) {
  return {
    apiKey,
    baseUrl: fake.apiUrl,
    model: 'seedance-t2v-test',
    modelI2v: 'seedance-i2v-test',
    ratio: '16:9',
    durationS: 5,
    resolution: '720p',
    maxConcurrent: 2,
    firstCheckS: 0.2,
    pollIntervalS: 0.2,
    maxAttempts: 10,
    workDir,
  };
}

providerContract('ark', async () => {
  const fake = await startArkFake({ queuedMs: 50, runningMs: 100 });
  const workDir = mkdtempSync(join(tmpdir(), 'dvb-ark-'));
  const provider = providerFor(fake, workDir);
  return overFake(provider, fake, workDir);
});

describe('ark provider', () => {
  let fake: ArkFake | undefined;
  const workDir = mkdtempSync(join(tmpdir(), 'dvb-ark-'));
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('sends the model, the prompt and the generation options as top-level fields', async () => {
    fake = await startArkFake();
    const provider = providerFor(fake, workDir);
    await provider.start({ prompt: 'a lighthouse at dusk', guest: false });
    expect(fake.tasks[0]!.body).toEqual({
      model: 'seedance-t2v-test',
      content: [{ type: 'text', text: 'a lighthouse at dusk' }],
      ratio: '16:9',
      duration: 5,
      resolution: '720p',
    });
    await provider.close?.();
  });

  it("#15 a task's options replace the configured defaults in the create body, and Ark's Get echoes them", async () => {
    fake = await startArkFake();
    const provider = providerFor(fake, workDir);
    const ref = await provider.start({
      prompt: 'a tall waterfall',
      guest: false,
      options: { ratio: '9:16', durationS: 10, resolution: '1080p' },
    });
    expect(fake.tasks[0]!.body).toMatchObject({ ratio: '9:16', duration: 10, resolution: '1080p' });
    expect(fake.describe(ref.id)).toMatchObject({ ratio: '9:16', duration: 10, resolution: '1080p' });
    // One option given: the others stay the configured defaults.
    await provider.start({ prompt: 'a square', guest: false, options: { ratio: '1:1' } });
    expect(fake.tasks[1]!.body).toMatchObject({ ratio: '1:1', duration: 5, resolution: '720p' });
    await provider.close?.();
  });

  it("#15 the fake refuses what Ark refuses: a ratio outside Seedance's is a 400 that fails the start for good", async () => {
    fake = await startArkFake();
    const provider = createArkProvider({ ...optionsFor(fake, workDir), ratio: '5:4' });
    const error = await provider.start({ prompt: 'odd', guest: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).retryable).toBe(false);
    expect((error as Error).message).toMatch(/ratio/);
    expect(fake.tasks).toHaveLength(0);
    await provider.close?.();
  });

  it('keeps the image out of the stored ref and sends it inline, under the image-to-video model', async () => {
    fake = await startArkFake();
    const provider = providerFor(fake, workDir);
    const png = sampleImage('png');
    const image = await provider.uploadImage({ bytes: png, fileName: 'cat.png', mime: 'image/png' });
    expect(JSON.stringify(image).length).toBeLessThan(300);
    await provider.start({ prompt: 'the cat waves', image, guest: false });
    const body = fake.tasks[0]!.body;
    expect(body.model).toBe('seedance-i2v-test');
    const item = body.content[1] as { type: string; image_url: { url: string } };
    expect(item.type).toBe('image_url');
    const [prefix, data] = item.image_url.url.split(',');
    expect(prefix).toBe('data:image/png;base64');
    expect(Buffer.from(data!, 'base64').equals(png)).toBe(true);
    await provider.close?.();
  });

  it('reports queued and running as running, and a failed task with its reason in plain words', async () => {
    fake = await startArkFake({ queuedMs: 60_000 });
    const provider = providerFor(fake, workDir);
    const ref = await provider.start({ prompt: 'slow', guest: false });
    expect(await provider.poll(ref)).toEqual({ state: 'running', progress: 0 });
    fake.knobs.queuedMs = 0;
    fake.knobs.runningMs = 60_000;
    expect(await provider.poll(ref)).toEqual({ state: 'running' });
    fake.knobs.runningMs = 0;
    fake.knobs.failWith = {
      code: 'OutputVideoSensitiveContentDetected',
      message: 'The output video may contain sensitive content.',
    };
    const result = await provider.poll(ref);
    expect(result).toMatchObject({ state: 'failed', retryable: false });
    expect(result.state === 'failed' && result.reason).toMatch(/content policy.*OutputVideoSensitiveContentDetected/);
    await provider.close?.();
  });

  it('treats a rate limit as transient and a wrong key as permanent, without revealing the key', async () => {
    fake = await startArkFake({ rateLimitNext: 1 });
    const provider = providerFor(fake, workDir);
    const limited = await provider.start({ prompt: 'x', guest: false }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(UpstreamError);
    expect(limited).toMatchObject({ retryable: true, message: expect.stringMatching(/rate limiting/) });
    const wrongKey = providerFor(fake, workDir, 'sk-wrong-secret');
    const denied = await wrongKey.start({ prompt: 'x', guest: false }).catch((e: unknown) => e);
    expect(denied).toMatchObject({ retryable: false, message: expect.stringMatching(/rejected the API key/) });
    expect((denied as Error).message).not.toContain('sk-wrong-secret');
    await provider.close?.();
    await wrongKey.close?.();
  });

  it('treats an unreachable Ark as transient', async () => {
    fake = await startArkFake();
    const provider = providerFor(fake, workDir);
    await fake.close();
    const error = await provider.poll({ id: 'cgt-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: true, message: expect.stringMatching(/could not reach Ark/) });
    await provider.close?.();
    fake = undefined;
  });
});
