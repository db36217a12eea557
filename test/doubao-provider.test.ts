import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../src/core/errors.js';
import { createDoubaoProvider, type DoubaoProviderOptions } from '../src/providers/doubao/index.js';
import { SESSION_EXPIRED, sessionIdOf } from '../src/providers/doubao/session-pool.js';
import type { VideoProvider } from '../src/providers/provider.js';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { sessionIdCookie, writeSessions } from './fakes/doubao/sessions.js';
import { overFake, pollUntilDone, providerContract } from './provider-contract.js';
import { isMp4, sampleImage } from './support/media-samples.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function options(fake: DoubaoFake, sessionsFile: string, extra: Partial<DoubaoProviderOptions> = {}) {
  return {
    sessionsFile,
    baseUrl: fake.baseUrl,
    imagexUrl: fake.imagexUrl,
    uploadUrl: fake.uploadUrl,
    chromiumPath: CHROMIUM,
    minSpacingMs: 0,
    settleMs: 1_500,
    cooldownMs: 60_000,
    ...extra,
  } satisfies DoubaoProviderOptions;
}

for (const dialect of ['2026', '2025', 'both'] as const) {
  providerContract(
    'doubao',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dvb-doubao-'));
      const fake = await startDoubaoFake({ dialect });
      writeSessions(join(dir, 'session.json'), { users: 1 });
      const provider = await createDoubaoProvider(options(fake, join(dir, 'session.json')));
      return overFake(provider, fake, dir);
    },
    `fake speaking ${dialect === 'both' ? 'both dialects' : `the ${dialect} dialect`}`,
  );
}

describe('doubao provider against the fake', () => {
  let fake: DoubaoFake;
  let dir: string;
  const providers: VideoProvider[] = [];
  const open = async (extra: Partial<DoubaoProviderOptions> = {}) => {
    const provider = await createDoubaoProvider(options(fake, join(dir, 'session.json'), extra));
    providers.push(provider);
    return provider;
  };

  beforeAll(async () => {
    fake = await startDoubaoFake();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(async () => {
    for (const p of providers.splice(0)) await p.close?.();
    rmSync(dir, { recursive: true, force: true });
    fake.knobs.completionFaults = [];
    fake.knobs.httpFaults = [];
    fake.knobs.expired.clear();
    fake.knobs.readyDelayMs = 0;
    fake.knobs.uploadHost = undefined;
    fake.knobs.storeAnswer = 'both';
  });
  const freshDir = () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-doubao-'));
    return join(dir, 'session.json');
  };

  it('uploads an image the fake accepts (SigV4 and CRC32 checked) and attaches it to the video request', async () => {
    freshDir();
    writeSessions(join(dir, 'session.json'), { users: 1 });
    const provider = await open();
    const image = await provider.uploadImage({
      bytes: sampleImage('jpg', 64, 48),
      fileName: 'cat.jpg',
      mime: 'image/jpeg',
    });
    const attachment = image.attachment as Record<string, unknown>;
    expect(attachment).toMatchObject({ type: 'vlm_image', name: 'cat.jpg', option: { width: 64, height: 48 } });
    const again = await provider.uploadImage({
      bytes: sampleImage('jpg', 64, 48),
      fileName: 'cat.jpg',
      mime: 'image/jpeg',
    });
    expect((again.attachment as { identifier: string }).identifier).not.toBe(attachment.identifier);
    const ref = await provider.start({ prompt: 'the cat waves', image, guest: false });
    expect(fake.conversations.get(ref.conversationId!)?.attachments).toEqual([attachment.key]);
  });

  it('sends the bytes to the host ImageX names (UploadHosts), not the configured one', async () => {
    freshDir();
    writeSessions(join(dir, 'session.json'), { users: 1 });
    const provider = await open({ uploadUrl: 'http://127.0.0.1:9' }); // nothing listens there
    const image = { bytes: sampleImage('png', 32, 32), fileName: 'a.png', mime: 'image/png' };
    await expect(provider.uploadImage(image)).resolves.toHaveProperty('attachment.key');
    fake.knobs.uploadHost = null; // ImageX names no host: the configured one is used (and is down)
    await expect(provider.uploadImage(image)).rejects.toMatchObject({
      retryable: true,
      message: /could not be reached/,
    });
  });

  it.each([
    ['2026', true],
    ['2025', true],
    ['wrong-crc', false],
  ] as const)('accepts the store answer %s: %s', async (storeAnswer, ok) => {
    freshDir();
    writeSessions(join(dir, 'session.json'), { users: 1 });
    fake.knobs.storeAnswer = storeAnswer;
    const provider = await open();
    const upload = provider.uploadImage({ bytes: sampleImage('png', 32, 32), fileName: 'a.png', mime: 'image/png' });
    if (ok) await expect(upload).resolves.toHaveProperty('attachment.key');
    else await expect(upload).rejects.toMatchObject({ retryable: true, message: /store refused the image/ });
  });

  it('stores the owning session by a hash, never its cookie, and polls with that session after a restart', async () => {
    const file = freshDir();
    const sessions = writeSessions(file, { users: 3 });
    fake.knobs.readyDelayMs = 5_000; // the first look launches Chromium: slow on a busy machine
    const first = await open();
    const ref = JSON.parse(JSON.stringify(await first.start({ prompt: 'a boat', guest: false })));
    const owner = sessions.find((s) => sessionIdOf(s) === ref.sessionId)!;
    expect(fake.conversations.get(ref.conversationId)?.owner).toBe(sessionIdCookie(owner));
    for (const s of sessions) expect(JSON.stringify(ref)).not.toContain(sessionIdCookie(s));
    expect(await first.poll(ref)).toMatchObject({ state: 'running' });
    await first.close?.();

    const second = await open(); // a restart: a new pool, which picks sessions at random
    const result = await pollUntilDone(second, ref, 40, 300);
    expect(result.state).toBe('succeeded');
    if (result.state === 'succeeded') {
      expect(result.videoUrls[0]).toMatch(
        /\/douyinvod\/[0-9a-f]+\/video\.mp4$|\/video\/tos\/cn\/[0-9a-f]+\/\?mime_type=video_mp4/,
      );
      expect(isMp4(new Uint8Array(await (await request(result.videoUrls[0]!)).body.arrayBuffer()))).toBe(true);
    }
  });

  it('keeps a session to its request limit: six video requests at once never overlap on one account', async () => {
    freshDir();
    const [session] = writeSessions(join(dir, 'session.json'), { users: 1 });
    fake.knobs.streamDelayMs = 30;
    const provider = await open({ perSessionConcurrency: 1, minSpacingMs: 20 });
    const refs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => provider.start({ prompt: `p${i}`, guest: false })),
    );
    fake.knobs.streamDelayMs = 0;
    expect(new Set(refs.map((r) => r.conversationId)).size).toBe(6);
    expect(fake.maxInFlight(sessionIdCookie(session!))).toBe(1);
  });

  it.each([
    ['rate-limit-2005', true, /rate-limited/],
    ['gateway-error', false, /Doubao refused the request: content not allowed/],
    ['truncated-before-start', true, /stream/],
    ['malformed-event', true, /unreadable event|stream/],
  ] as const)('maps a %s stream to a typed error (retryable: %s)', async (fault, retryable, message) => {
    freshDir();
    writeSessions(join(dir, 'session.json'), { users: 1 });
    // A refused request is asked again from the session's page (DOUBAO_TRANSPORT=auto), then in the 2025 dialect
    // plainly and from the page: a refusal must come four times.
    fake.knobs.completionFaults = fault === 'gateway-error' ? [fault, fault, fault, fault] : [fault];
    const provider = await open();
    const error = await provider.start({ prompt: 'x', guest: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable, message: expect.stringMatching(message) });
  });

  it('cools a rate-limited session down and asks again at once with another one', async () => {
    freshDir();
    writeSessions(join(dir, 'session.json'), { users: 2 });
    const provider = await open();
    fake.knobs.httpFaults = [{ path: 'chat/completion', status: 429 }];
    const ref = await provider.start({ prompt: 'x', guest: false });
    const health = provider.status!().sessions as Array<{ id: string; state: string }>;
    expect(health.map((h) => h.state).sort()).toEqual(['cooling', 'ok']);
    expect(health.find((h) => h.state === 'ok')!.id).toBe(ref.sessionId);
    for (let i = 0; i < 4; i++) {
      expect(await provider.start({ prompt: `after ${i}`, guest: false })).toMatchObject({ sessionId: ref.sessionId });
    }
    fake.knobs.httpFaults = [{ path: 'chat/completion', status: 429 }];
    await expect(provider.start({ prompt: 'y', guest: false })).rejects.toMatchObject({
      retryable: true,
      message: /rate-limited/,
    });
  });

  it('asks for an image-to-video with the session that uploaded the image, waiting while it cools down', async () => {
    freshDir();
    writeSessions(join(dir, 'session.json'), { users: 3 });
    const provider = await open({ cooldownMs: 300 });
    const image = await provider.uploadImage({
      bytes: sampleImage('png', 32, 32),
      fileName: 'a.png',
      mime: 'image/png',
    });
    fake.knobs.completionFaults = ['rate-limit-2005'];
    await expect(provider.start({ prompt: 'x', image, guest: false })).rejects.toMatchObject({ retryable: true });
    await expect(provider.start({ prompt: 'x', image, guest: false })).rejects.toMatchObject({
      message: /session of this task is rate-limited/,
    });
    await new Promise((r) => setTimeout(r, 350));
    const ref = await provider.start({ prompt: 'x', image, guest: false });
    expect(ref.sessionId).toBe(image.sessionId);
  });

  it('keeps the ids when the stream breaks after the conversation was created', async () => {
    freshDir();
    writeSessions(join(dir, 'session.json'), { users: 1 });
    fake.knobs.completionFaults = ['truncated-after-start'];
    const provider = await open();
    const ref = await provider.start({ prompt: 'x', guest: false });
    expect(fake.conversations.has(ref.conversationId!)).toBe(true);
  });

  it('gives up on a stalled stream after the idle timeout, as a transient error', async () => {
    freshDir();
    writeSessions(join(dir, 'session.json'), { users: 1 });
    fake.knobs.completionFaults = ['stall'];
    const provider = await open({ idleTimeoutMs: 500 });
    await expect(provider.start({ prompt: 'x', guest: false })).rejects.toMatchObject({ retryable: true });
  });

  it('treats 5xx and answers that are not JSON as transient', async () => {
    freshDir();
    writeSessions(join(dir, 'session.json'), { users: 1 });
    const provider = await open();
    const image = { bytes: sampleImage('png', 32, 32), fileName: 'a.png', mime: 'image/png' };
    fake.knobs.httpFaults = [{ path: 'prepare_upload', status: 503 }];
    await expect(provider.uploadImage(image)).rejects.toMatchObject({ retryable: true, message: /HTTP 503/ });
    fake.knobs.httpFaults = [{ path: 'prepare_upload', status: 200, body: '<html>oops' }];
    await expect(provider.uploadImage(image)).rejects.toMatchObject({ retryable: true, message: /not JSON/ });
    await expect(provider.uploadImage(image)).resolves.toHaveProperty('attachment');
  });

  it('drops a used-up guest from the pool and from the sessions file', async () => {
    const file = freshDir();
    const [user, guest] = writeSessions(file, { users: 1, guests: 1 }, 'split');
    fake.knobs.guestLimit = 1;
    const provider = await open();
    await provider.start({ prompt: 'first', guest: true });
    await expect(provider.start({ prompt: 'second', guest: true })).rejects.toMatchObject({ message: /guest/ });
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.guest_sessions).toEqual([]);
    expect(saved.user_sessions.map((s: { device_id: string }) => s.device_id)).toEqual([user!.device_id]);
    expect(JSON.stringify(provider.status!())).not.toContain(guest!.device_id);
    await expect(provider.start({ prompt: 'third', guest: true })).rejects.toMatchObject({ retryable: false });
  });

  it.each(['401', 'redirect'] as const)('expires a session whose API call answers %s (login gone)', async (how) => {
    freshDir();
    const [session] = writeSessions(join(dir, 'session.json'), { users: 1 });
    fake.knobs.expired.set(sessionIdCookie(session!), how);
    const provider = await open();
    const image = { bytes: sampleImage('png', 32, 32), fileName: 'a.png', mime: 'image/png' };
    await expect(provider.uploadImage(image)).rejects.toMatchObject({ retryable: false, message: SESSION_EXPIRED });
    expect(provider.status!()).toMatchObject({ sessions: [{ state: 'expired' }] });
  });

  it.each(['401', 'redirect'] as const)('marks a session expired on %s and fails its tasks for good', async (how) => {
    const file = freshDir();
    const [session] = writeSessions(file, { users: 1 });
    fake.knobs.readyDelayMs = 60_000;
    const provider = await open();
    const ref = await provider.start({ prompt: 'x', guest: false });
    fake.knobs.expired.set(sessionIdCookie(session!), how);
    await expect(provider.poll(ref)).rejects.toMatchObject({ message: SESSION_EXPIRED, retryable: false });
    await expect(provider.start({ prompt: 'y', guest: false })).rejects.toMatchObject({
      retryable: false,
      message: SESSION_EXPIRED,
    });
    expect(provider.status!()).toMatchObject({
      sessions: [
        {
          id: sessionIdOf(session!),
          guest: false,
          state: 'expired',
          lastCode: how === '401' ? 'HTTP 401' : 'login redirect',
        },
      ],
    });
    expect(JSON.stringify(provider.status!())).not.toContain(sessionIdCookie(session!));
  });
});
