/**
 * Every provider works unchanged under both bots: Telegram (photo with caption) and Discord (/video with an image)
 * against the fake Doubao web API and the fake Ark API, ending with a real MP4 in the chat.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.js';
import { createDoubaoProvider } from '../src/providers/doubao/index.js';
import { doubaoOptions } from '../src/providers/index.js';
import type { VideoProvider } from '../src/providers/provider.js';
import { type ArkFake, startArkFake } from './fakes/ark/index.js';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { writeSessions } from './fakes/doubao/sessions.js';
import { photoMessage } from './fakes/telegram/updates.js';
import { arkEnv, arkProvider } from './support/ark-setup.js';
import { startDiscordRig } from './support/discord-harness.js';
import { isMp4, sampleImage } from './support/media-samples.js';
import { startBotHarness } from './telegram/harness.js';

interface Upstream {
  env: Record<string, string>;
  provider: (config: Config) => VideoProvider;
  close(): Promise<void>;
}

/** Builds the provider synchronously for the harnesses, resolving the doubao provider's async start lazily. */
function lazy(make: () => Promise<VideoProvider>, name: string): VideoProvider {
  const ready = make();
  return {
    name,
    uploadImage: async (image) => (await ready).uploadImage(image),
    start: async (req) => (await ready).start(req),
    poll: async (ref) => (await ready).poll(ref),
    close: async () => (await ready).close?.(),
  };
}

const upstreams: Record<string, () => Promise<Upstream>> = {
  async doubao() {
    const fake: DoubaoFake = await startDoubaoFake();
    const sessionsFile = join(mkdtempSync(join(tmpdir(), 'dvb-bots-')), 'session.json');
    writeSessions(sessionsFile, { users: 1 });
    const env = {
      PROVIDER: 'doubao',
      DOUBAO_SESSIONS_FILE: sessionsFile,
      DOUBAO_BASE_URL: fake.baseUrl,
      DOUBAO_IMAGEX_URL: fake.imagexUrl,
      DOUBAO_UPLOAD_URL: fake.uploadUrl,
      DOUBAO_PAGE_WAIT_S: '1',
      DOUBAO_MIN_SPACING_MS: '0',
    };
    return {
      env,
      provider: (config) => lazy(() => createDoubaoProvider(doubaoOptions(config)), 'doubao'),
      close: () => fake.close(),
    };
  },
  async ark() {
    const fake: ArkFake = await startArkFake();
    return { env: arkEnv(fake), provider: arkProvider, close: () => fake.close() };
  },
};

describe.each(Object.keys(upstreams))('PROVIDER=%s under both bots', (name) => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await upstreams[name]!();
  });
  afterAll(() => upstream.close());

  it('Telegram: a photo with a caption comes back as an MP4', async () => {
    const h = await startBotHarness(upstream.env, { provider: upstream.provider });
    try {
      const file = h.fake.addFile(sampleImage('jpg'));
      h.fake.pushUpdate(photoMessage({ chatId: 71, userId: 71, languageCode: 'en' }, file, { caption: 'a slow pan' }));
      const video = await h.fake.waitFor('sendVideo', undefined, 60_000);
      expect(isMp4(video.files.video!.bytes)).toBe(true);
      expect(h.core.service.list().tasks[0]).toMatchObject({ provider: name, kind: 'i2v', status: 'completed' });
    } finally {
      await h.close();
    }
  });

  it('Discord: /video with an image comes back as an MP4 in the channel', async () => {
    const rig = await startDiscordRig({ env: upstream.env, provider: upstream.provider });
    try {
      const image = rig.fake.addAttachment(sampleImage('png'), 'cat.png', 'image/png');
      rig.fake.slash({ name: 'video', options: { prompt: 'the cat waves' }, image });
      const result = await rig.fake.waitFor((r) => r.method === 'POST' && r.files.length > 0, 60_000);
      expect(isMp4(result.files[0]!.bytes)).toBe(true);
      expect(rig.core.service.list().tasks[0]).toMatchObject({ provider: name, kind: 'i2v', status: 'completed' });
    } finally {
      await rig.close();
    }
  });
});
