/**
 * The VideoProvider conformance suite. Every provider (local, doubao, ark) runs it against its fake before
 * anything else: refs survive a JSON round trip (they are stored in SQLite and used after restarts), text- and
 * image-to-video jobs end `succeeded` with fetchable video URLs, and polls answer with the contract's shapes.
 */
import { rmSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PollResult, UpstreamRef, VideoProvider } from '../src/providers/provider.js';
import { sampleImage } from './support/media-samples.js';

export interface ContractSetup {
  provider: VideoProvider;
  /** Reads a video URL the provider returned (file: or http:) and resolves with its bytes. */
  fetchVideo(url: string): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

/** `fetchVideo` for providers whose video URLs are served over HTTP (by their fake). */
export async function fetchOverHttp(url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await request(url)).body.arrayBuffer());
}

/**
 * The setup of a provider against its own fake over HTTP: videos fetched from the fake; `dispose` closes the
 * provider, then the fake, then removes the provider's folder.
 */
export function overFake(provider: VideoProvider, fake: { close(): Promise<void> }, dir: string): ContractSetup {
  return {
    provider,
    fetchVideo: fetchOverHttp,
    dispose: async () => {
      await provider.close?.();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until the job leaves `running`, at most `tries` times, `everyMs` apart. */
export async function pollUntilDone(provider: VideoProvider, ref: UpstreamRef, tries = 60, everyMs = 250) {
  let result: PollResult = { state: 'running' };
  for (let i = 0; i < tries && result.state === 'running'; i++) {
    result = await provider.poll(ref);
    if (result.state === 'running') await new Promise((r) => setTimeout(r, everyMs));
  }
  return result;
}

/** Runs the suite; `variant` names a configuration of the same provider (e.g. a protocol dialect) in the title. */
export function providerContract(name: string, setup: () => Promise<ContractSetup>, variant?: string): void {
  describe(`VideoProvider contract: ${name}${variant ? ` (${variant})` : ''}`, () => {
    let ctx: ContractSetup;
    beforeAll(async () => {
      ctx = await setup();
    });
    afterAll(async () => {
      await ctx?.dispose();
    });

    it('names itself', () => {
      expect(ctx.provider.name).toBe(name);
    });

    it('turns a prompt into a job whose ref survives a JSON round trip and ends with a video', async () => {
      const ref = await ctx.provider.start({ prompt: 'a red kite over the sea', guest: false });
      expect(typeof ref.id).toBe('string');
      const stored = JSON.parse(JSON.stringify(ref)) as UpstreamRef;
      const result = await pollUntilDone(ctx.provider, stored);
      expect(result.state).toBe('succeeded');
      if (result.state !== 'succeeded') return;
      expect(result.videoUrls.length).toBeGreaterThan(0);
      const bytes = await ctx.fetchVideo(result.videoUrls[0]!);
      expect(Buffer.from(bytes.subarray(4, 8)).toString('latin1')).toBe('ftyp');
    });

    it('uploads an image and turns it into a video', async () => {
      const image = await ctx.provider.uploadImage({
        bytes: sampleImage('png'),
        fileName: 'cat.png',
        mime: 'image/png',
      });
      const storedImage = JSON.parse(JSON.stringify(image));
      const ref = await ctx.provider.start({ prompt: 'the cat waves', image: storedImage, guest: false });
      const result = await pollUntilDone(ctx.provider, JSON.parse(JSON.stringify(ref)));
      expect(result.state).toBe('succeeded');
    });
  });
}
