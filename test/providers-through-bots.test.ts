/**
 * Every provider works unchanged under both bots: Telegram (photo with caption, and /video text) and Discord
 * (/video with an image, and without) against the fake Doubao web API in each dialect and the fake Ark API,
 * ending with a real MP4 in the chat.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.js';
import { createDoubaoProvider, doubaoTiming } from '../src/providers/doubao/index.js';
import { doubaoOptions } from '../src/providers/index.js';
import type { PollTiming, VideoProvider } from '../src/providers/provider.js';
import { type ArkFake, startArkFake } from './fakes/ark/index.js';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { writeSessions } from './fakes/doubao/sessions.js';
import { photoMessage, textMessage } from './fakes/telegram/updates.js';
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
function lazy(make: () => Promise<VideoProvider>, name: string, timing?: PollTiming): VideoProvider {
  const ready = make();
  return {
    name,
    ...(timing && { timing }),
    attach: (host) => void ready.then((p) => p.attach?.(host)),
    uploadImage: async (image) => (await ready).uploadImage(image),
    start: async (req) => (await ready).start(req),
    poll: async (ref) => (await ready).poll(ref),
    close: async () => (await ready).close?.(),
  };
}

/** The doubao provider against a fake speaking `dialect`, with its own timing shortened for the test. */
async function doubaoUpstream(dialect: '2025' | '2026'): Promise<Upstream> {
  const fake: DoubaoFake = await startDoubaoFake({ dialect });
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
    DOUBAO_FIRST_CHECK_S: '1',
    DOUBAO_POLL_INTERVAL_S: '1',
    DOUBAO_MAX_WAIT_S: '60',
  };
  return {
    env,
    provider: (config) =>
      lazy(
        () => createDoubaoProvider(doubaoOptions(config)),
        'doubao',
        doubaoTiming(config.DOUBAO_FIRST_CHECK_S, config.DOUBAO_POLL_INTERVAL_S, config.DOUBAO_MAX_WAIT_S),
      ),
    close: () => fake.close(),
  };
}

const upstreams: Record<string, () => Promise<Upstream>> = {
  'doubao-2026': () => doubaoUpstream('2026'),
  'doubao-2025': () => doubaoUpstream('2025'),
  async ark() {
    const fake: ArkFake = await startArkFake();
    return { env: arkEnv(fake), provider: arkProvider, close: () => fake.close() };
  },
};

describe.each(Object.keys(upstreams))('PROVIDER=%s under both bots', (upstreamName) => {
  const name = upstreamName.split('-')[0]!;
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await upstreams[upstreamName]!();
  });
  afterAll(() => upstream.close());

  it('Telegram: a photo with a caption comes back as an MP4', async () => {
    const h = await startBotHarness(upstream.env, { provider: upstream.provider });
    try {
      const file = h.fake.addFile(sampleImage('jpg'));
      h.fake.pushUpdate(photoMessage({ chatId: 71, userId: 71, languageCode: 'en' }, file, { caption: 'a slow pan' }));
      const video = await h.fake.waitFor('sendVideo', undefined, 60_000);
      expect(isMp4(video.files.video!.bytes)).toBe(true);
      expect((await h.core.service.list()).tasks[0]).toMatchObject({
        provider: name,
        kind: 'i2v',
        status: 'completed',
      });
    } finally {
      await h.close();
    }
  });

  it('Telegram: /video <prompt> (text to video) comes back as an MP4', async () => {
    const h = await startBotHarness(upstream.env, { provider: upstream.provider });
    try {
      h.fake.pushUpdate(textMessage({ chatId: 72, userId: 72, languageCode: 'en' }, '/video a red kite'));
      const video = await h.fake.waitFor('sendVideo', undefined, 60_000);
      expect(isMp4(video.files.video!.bytes)).toBe(true);
      expect((await h.core.service.list()).tasks[0]).toMatchObject({
        provider: name,
        kind: 't2v',
        status: 'completed',
      });
    } finally {
      await h.close();
    }
  });

  it('Discord: /video without an image (text to video) comes back as an MP4', async () => {
    const rig = await startDiscordRig({ env: upstream.env, provider: upstream.provider });
    try {
      rig.fake.slash({ name: 'video', options: { prompt: 'a red kite' } });
      const result = await rig.fake.waitFor((r) => r.method === 'POST' && r.files.length > 0, 60_000);
      expect(isMp4(result.files[0]!.bytes)).toBe(true);
      expect((await rig.core.service.list()).tasks[0]).toMatchObject({
        provider: name,
        kind: 't2v',
        status: 'completed',
      });
    } finally {
      await rig.close();
    }
  });

  it('Discord: /video with an image comes back as an MP4 in the channel', async () => {
    const rig = await startDiscordRig({ env: upstream.env, provider: upstream.provider });
    try {
      const image = rig.fake.addAttachment(sampleImage('png'), 'cat.png', 'image/png');
      rig.fake.slash({ name: 'video', options: { prompt: 'the cat waves' }, image });
      const result = await rig.fake.waitFor((r) => r.method === 'POST' && r.files.length > 0, 60_000);
      expect(isMp4(result.files[0]!.bytes)).toBe(true);
      expect((await rig.core.service.list()).tasks[0]).toMatchObject({
        provider: name,
        kind: 'i2v',
        status: 'completed',
      });
    } finally {
      await rig.close();
    }
  });
});
