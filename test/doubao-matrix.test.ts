/**
 * The Doubao provider end to end, for each way the fake Doubao can behave: each dialect of the web protocol, with
 * and without signatures required (DOUBAO_TRANSPORT=auto then falls back to the session's page, and in the 2025
 * dialect the chat page's own play-info call is signed by the page). In each world the seed's API flow, the Telegram
 * bot and the Discord bot all complete a text-to-video and an image-to-video through the real provider (undici,
 * the real Chromium) and end with a real MP4.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { photoMessage, textMessage } from './fakes/telegram/updates.js';
import { startDiscordRig } from './support/discord-harness.js';
import { type DoubaoUpstream, startDoubaoUpstream } from './support/doubao-setup.js';
import { isMp4, sampleImage } from './support/media-samples.js';
import { startTestApi } from './support/test-api.js';
import { startBotHarness } from './telegram/harness.js';

/** The seed API's answers, as far as this test reads them. */
interface SeedTask {
  status: string;
  error: string | null;
  video_urls: string[];
}
interface SeedAnswer {
  conversation_id?: string;
  message_id?: string;
  task?: SeedTask;
}

const WORLDS = (['2026', '2025'] as const).flatMap((dialect) => [
  { name: `${dialect} dialect, unsigned calls accepted`, knobs: { dialect, requireSignature: false } },
  { name: `${dialect} dialect, signatures required`, knobs: { dialect, requireSignature: true } },
]);

describe.each(WORLDS)('fake Doubao, $name', ({ knobs }) => {
  let upstream: DoubaoUpstream;
  beforeAll(async () => {
    upstream = await startDoubaoUpstream(knobs);
  });
  afterAll(() => upstream.close());

  /** Every web API call after the first refusals was signed by a page when signatures are required. */
  function expectSignedWhenRequired() {
    if (!knobs.requireSignature) return;
    const calls = upstream.fake.gatedCalls;
    expect(calls.filter((c) => c.refused).length).toBeGreaterThan(0);
    expect(calls.filter((c) => !c.refused).every((c) => c.signed)).toBe(true);
  }

  it('the seed API flow: upload, image- and text-to-video, status until completed, the MP4', async () => {
    const api = await startTestApi({ env: upstream.env, provider: upstream.provider });
    const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
      const bytes = body instanceof Uint8Array;
      const res = await fetch(`${api.base}${path}`, {
        method,
        ...(body !== undefined && {
          headers: { 'content-type': bytes ? 'application/octet-stream' : 'application/json' },
          body: bytes ? body : JSON.stringify(body),
        }),
      });
      return { status: res.status, json: (await res.json()) as SeedAnswer };
    };
    try {
      const upload = await call('POST', '/api/file/upload?file_type=2&file_name=cat.jpg', sampleImage('jpg'));
      expect(upload).toMatchObject({ status: 200, json: { type: 'vlm_image', name: 'cat.jpg' } });
      const started = [
        await call('POST', '/api/video-gen/generate', { prompt: '让猫挥手', image_attachment: upload.json }),
        await call('POST', '/api/video-gen/generate', { prompt: 'a paper boat on a rainy street' }),
      ];
      for (const { status, json } of started) {
        expect(status).toBe(200);
        const query = `conversation_id=${json.conversation_id}&message_id=${json.message_id}`;
        let task: Partial<SeedTask> = {};
        for (let i = 0; i < 120 && !['completed', 'failed'].includes(task.status ?? ''); i++) {
          await new Promise((r) => setTimeout(r, 250));
          task = (await call('GET', `/api/video-gen/status?${query}`)).json.task ?? {};
        }
        expect(task).toMatchObject({ status: 'completed', error: null });
        const video = await fetch(`${api.base}${new URL(task.video_urls![0]!).pathname}`);
        expect(isMp4(new Uint8Array(await video.arrayBuffer()))).toBe(true);
      }
      expectSignedWhenRequired();
    } finally {
      await api.close();
    }
  });

  it('Telegram: /video and a photo with a caption both come back as MP4s', async () => {
    const h = await startBotHarness(upstream.env, { provider: upstream.provider });
    try {
      const from = { chatId: 91, userId: 91, languageCode: 'en' };
      h.fake.pushUpdate(textMessage(from, '/video a lighthouse at dusk'));
      h.fake.pushUpdate(photoMessage(from, h.fake.addFile(sampleImage('jpg')), { caption: 'a slow pan' }));
      await expect
        .poll(() => h.fake.sent.filter((c) => c.method === 'sendVideo').length, { timeout: 60_000, interval: 200 })
        .toBe(2);
      for (const sent of h.fake.sent.filter((c) => c.method === 'sendVideo')) {
        expect(isMp4(sent.files.video!.bytes)).toBe(true);
      }
      const kinds = (await h.core.service.list()).tasks.map((t) => `${t.kind}:${t.status}`);
      expect(kinds.sort()).toEqual(['i2v:completed', 't2v:completed']);
      expectSignedWhenRequired();
    } finally {
      await h.close();
    }
  });

  it('Discord: /video with and without an image both come back as MP4s in the channel', async () => {
    const rig = await startDiscordRig({ env: upstream.env, provider: upstream.provider });
    try {
      rig.fake.slash({ name: 'video', options: { prompt: 'waves on a pier' } });
      const image = rig.fake.addAttachment(sampleImage('png'), 'cat.png', 'image/png');
      rig.fake.slash({ name: 'video', options: { prompt: 'the cat waves' }, image });
      const withFiles = () => rig.fake.requests.filter((r) => r.method === 'POST' && r.files.length > 0);
      await expect.poll(() => withFiles().length, { timeout: 60_000, interval: 200 }).toBe(2);
      for (const r of withFiles()) expect(isMp4(r.files[0]!.bytes)).toBe(true);
      const kinds = (await rig.core.service.list()).tasks.map((t) => `${t.kind}:${t.status}`);
      expect(kinds.sort()).toEqual(['i2v:completed', 't2v:completed']);
      expectSignedWhenRequired();
    } finally {
      await rig.close();
    }
  });
});
