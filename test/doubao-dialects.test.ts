/**
 * The doubao provider in both dialects of the web protocol against one fake: the 2026 request first, the 2025 one
 * when the new endpoint is missing (remembered per session across a restart), a stream broken after the
 * acknowledgement still yields the one job, and looks go through the message list — status 3, play info by video
 * id, encrypted play URLs, refusal codes, progress — with no browser while the list works and the chat page only
 * when it cannot tell.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RATIOS } from '../src/core/options.js';
import { createDoubaoProvider, type DoubaoProvider } from '../src/providers/doubao/index.js';
import { memoryState } from '../src/providers/doubao/memory-state.js';
import { sessionIdOf } from '../src/providers/doubao/session-pool.js';
import { readVideoStream } from '../src/providers/doubao/stream-frames.js';
import type { ProviderStateStore } from '../src/providers/provider.js';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { writeSessions } from './fakes/doubao/sessions.js';
import { fetchOverHttp, pollUntilDone } from './provider-contract.js';
import { fakeProviderOptions } from './support/doubao-setup.js';
import { isMp4 } from './support/media-samples.js';

describe('doubao dialects and looks', () => {
  let fake: DoubaoFake;
  let dir: string;
  let store: ProviderStateStore;
  const providers: DoubaoProvider[] = [];
  const open = async () => {
    const provider = await createDoubaoProvider({
      ...fakeProviderOptions(fake, dir),
      settleMs: 1_000,
      // The dialects on their own: a refusal repeated from the session's page is test/doubao-page-transport's.
      transportMode: 'http',
    });
    provider.attach?.({ state: store, reportIncident: () => {} });
    providers.push(provider);
    return provider;
  };
  const completions = () => fake.requests.filter((r) => r.path.endsWith('chat/completion')).map((r) => r.path);

  beforeAll(async () => {
    fake = await startDoubaoFake();
  });
  afterAll(() => fake.close());
  afterEach(async () => {
    for (const p of providers.splice(0)) await p.close?.();
    rmSync(dir, { recursive: true, force: true });
    Object.assign(fake.knobs, {
      dialect: 'both',
      completionFaults: [],
      bodyFaults: [],
      refuseNext: [],
      listShape: 'download_url',
      readyDelayMs: 0,
    });
    fake.knobs.readyDelayFor.clear();
  });
  const oneSession = () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-dialects-'));
    store = memoryState();
    fake.requests.length = 0;
    return writeSessions(join(dir, 'session.json'), { users: 1 })[0]!;
  };

  it('speaks 2026 to a 2026 Doubao: one request, no browser for the looks, the video found', async () => {
    const session = oneSession();
    fake.knobs.dialect = '2026';
    const provider = await open();
    const ref = await provider.start({ prompt: 'a kite', guest: false });
    expect(completions()).toEqual(['/chat/completion']);
    expect(store.get(`dialect:${sessionIdOf(session)}`)).toBe('2026');
    expect(fake.conversations.get(ref.conversationId!)).toMatchObject({ prompt: 'a kite', dialect: '2026' });
    const result = await pollUntilDone(provider, ref, 5, 100);
    expect(result.state).toBe('succeeded');
    if (result.state === 'succeeded') expect(isMp4(await fetchOverHttp(result.videoUrls[0]!))).toBe(true);
    expect(provider.browserLaunches).toBe(0);
  });

  it('falls back to 2025 when the new endpoint is missing, remembers it across a restart, finds the video on the page', async () => {
    const session = oneSession();
    fake.knobs.dialect = '2025';
    const first = await open();
    const ref = await first.start({ prompt: 'a boat', guest: false });
    expect(completions()).toEqual(['/chat/completion', '/samantha/chat/completion']);
    expect(store.get(`dialect:${sessionIdOf(session)}`)).toBe('2025');
    await first.start({ prompt: 'again', guest: false });
    expect(completions()).toHaveLength(3); // no second probe
    // No message list in this dialect: the chat page in Chromium is the fallback.
    const result = await pollUntilDone(first, ref, 5, 200);
    expect(result.state).toBe('succeeded');
    expect(first.browserLaunches).toBe(1);
    await first.close?.();

    const second = await open(); // a restart with the same durable state
    fake.requests.length = 0;
    await second.start({ prompt: 'after the restart', guest: false });
    expect(completions()).toEqual(['/samantha/chat/completion']);
  });

  it('#15 2026: ratio and duration go in ability_param and the text block; none asked → the page defaults as before', async () => {
    oneSession();
    fake.knobs.dialect = '2026';
    const provider = await open();
    expect(provider.capabilities).toEqual({ ratios: RATIOS, durationsS: [5, 10], resolutions: [] });
    const asked = await provider.start({ prompt: 'a kite', guest: false, options: { ratio: '9:16', durationS: 10 } });
    expect(fake.conversations.get(asked.conversationId!)).toMatchObject({
      prompt: 'a kite',
      ratio: '9:16',
      duration: 10,
      text: '生成视频：a kite，9:16',
      dialect: '2026',
    });
    const plain = await provider.start({ prompt: 'a kite', guest: false });
    expect(fake.conversations.get(plain.conversationId!)).toMatchObject({
      ratio: '16:9',
      duration: 5,
      text: '生成视频：a kite，16:9',
    });
  });

  it('#15 2025 has no option fields: the options are said at the end of the prompt; none asked → the prompt as is', async () => {
    oneSession();
    fake.knobs.dialect = '2025';
    const provider = await open();
    const asked = await provider.start({ prompt: 'a boat', guest: false, options: { ratio: '1:1', durationS: 10 } });
    expect(fake.conversations.get(asked.conversationId!)).toMatchObject({
      prompt: 'a boat，1:1，10秒',
      dialect: '2025',
    });
    const plain = await provider.start({ prompt: 'a boat', guest: false });
    expect(fake.conversations.get(plain.conversationId!)?.prompt).toBe('a boat');
  });

  it('a refused 2026 request is asked again in 2025; with no 2025 endpoint the refusal stands', async () => {
    const session = oneSession();
    const provider = await open();
    fake.knobs.bodyFaults = [{ path: '/chat/completion', code: 710022001, message: 'invalid video request' }];
    const ref = await provider.start({ prompt: 'x', guest: false });
    expect(completions()).toEqual(['/chat/completion', '/samantha/chat/completion']);
    expect(fake.conversations.get(ref.conversationId!)?.dialect).toBe('2025');
    expect(store.get(`dialect:${sessionIdOf(session)}`)).toBe('2025');

    oneSession();
    fake.knobs.dialect = '2026';
    const strict = await open();
    fake.knobs.bodyFaults = [{ path: '/chat/completion', code: 710022001, message: 'invalid video request' }];
    await expect(strict.start({ prompt: 'x', guest: false })).rejects.toMatchObject({
      retryable: false,
      message: 'Doubao refused the request: invalid video request (code 710022001)',
    });
  });

  it('a stream broken after SSE_ACK still yields its job, and no second video is asked for', async () => {
    oneSession();
    fake.knobs.completionFaults = ['truncated-after-start'];
    const provider = await open();
    const before = fake.conversations.size;
    const ref = await provider.start({ prompt: 'x', guest: false });
    expect(fake.conversations.size).toBe(before + 1);
    expect(fake.conversations.has(ref.conversationId!)).toBe(true);
    expect(completions()).toEqual(['/chat/completion']);
    expect(ref.messageId).toBe(fake.conversations.get(ref.conversationId!)!.messageId); // SSE_ACK's question_id
  });

  it('reads both SSE shapes, skipping heartbeats and frames it does not know', () => {
    const s2026 = [
      'event: SSE_HEARTBEAT\ndata: \n\n',
      'event: SOMETHING_NEW\ndata: {"x":1}\n\n',
      ': a comment\n\n',
      'event: SSE_ACK\ndata: {"ack_client_meta":{"conversation_id":"c1","section_id":"s1"}}\n\n',
    ].join('');
    expect(readVideoStream(s2026)).toEqual({
      shape: '2026',
      guestUsedUp: false,
      ids: { conversationId: 'c1', sectionId: 's1' },
    });
    const withQuestion = 'event: SSE_ACK\ndata: {"ack_client_meta":{"conversation_id":"c1"},"question_id":"q1"}\n\n';
    expect(readVideoStream(withQuestion).ids).toEqual({ conversationId: 'c1', sectionId: '', messageId: 'q1' });
    const data = JSON.stringify({ conversation_id: 'c2', message_id: 'm2', section_id: 's2' });
    const s2025 = `data: not json\n\ndata: ${JSON.stringify({ event_type: 2002, event_data: data })}\n\n`;
    expect(readVideoStream(s2025)).toMatchObject({ shape: '2025', ids: { conversationId: 'c2', messageId: 'm2' } });
  });

  it('reports progress while the creation renders, then the video', async () => {
    oneSession();
    fake.knobs.readyDelayMs = 2_000;
    const provider = await open();
    const ref = await provider.start({ prompt: 'x', guest: false });
    await new Promise((r) => setTimeout(r, 500));
    const running = await provider.poll(ref);
    expect(running).toMatchObject({ state: 'running', progress: expect.any(Number) });
    if (running.state === 'running') expect(running.progress).toBeGreaterThan(0.1);
    expect(running.state === 'running' && running.progress! < 1).toBe(true);
    expect((await pollUntilDone(provider, ref, 20, 200)).state).toBe('succeeded');
    expect(provider.browserLaunches).toBe(0);
  });

  it.each([
    [710092006, /copyright/],
    [710082041, /duration/],
    [710099999, /code 710099999/],
  ])('fails at once on ai_creation_res_code %s, in words a user understands', async (code, reason) => {
    oneSession();
    fake.knobs.refuseNext = [code];
    const provider = await open();
    const ref = await provider.start({ prompt: 'x', guest: false });
    expect(await provider.poll(ref)).toEqual({
      state: 'failed',
      reason: expect.stringMatching(reason),
      retryable: false,
    });
    expect(provider.browserLaunches).toBe(0);
  });

  it('asks get_play_info for a finished video listed by id only', async () => {
    oneSession();
    fake.knobs.listShape = 'vid_only';
    const provider = await open();
    const ref = await provider.start({ prompt: 'x', guest: false });
    expect(await provider.poll(ref)).toMatchObject({ state: 'succeeded' });
    expect(fake.requests.map((r) => r.path)).toContain('/samantha/video/get_play_info');
  });

  it('takes an encrypted main_url from the media play info as "still running"', async () => {
    oneSession();
    fake.knobs.listShape = 'no_status';
    fake.knobs.readyDelayMs = 1_500;
    const provider = await open();
    const ref = await provider.start({ prompt: 'x', guest: false });
    expect(await provider.poll(ref)).toMatchObject({ state: 'running' });
    expect(fake.requests.map((r) => r.path)).toContain('/samantha/media/get_play_info');
    const result = await pollUntilDone(provider, ref, 20, 200);
    expect(result.state).toBe('succeeded');
    if (result.state === 'succeeded')
      expect(result.videoUrls[0]).toMatch(/\/video\/tos\/cn\/[0-9a-f]+\/\?mime_type=video_mp4/);
    expect(provider.browserLaunches).toBe(0);
  });

  it('falls back to the chat page when the list is refused (712012002)', async () => {
    oneSession();
    const provider = await open();
    const ref = await provider.start({ prompt: 'x', guest: false });
    fake.knobs.bodyFaults = [{ path: '/im/chain/single', code: 712012002, message: 'invalid content type' }];
    expect(await provider.poll(ref)).toMatchObject({ state: 'succeeded' });
    expect(provider.browserLaunches).toBe(1);
    expect(provider.status!().sessions).toMatchObject([{ state: 'ok' }]);
  });
});
