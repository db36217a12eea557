/**
 * DOUBAO_TRANSPORT through the real doubao provider (undici, the real Chromium) against the fake Doubao, whose
 * pages sign their own calls and which can refuse unsigned ones: `auto` falls back to the session's page once and
 * keeps it for that kind of call (also after a restart), `http` never opens a page, `page` always does; pages are
 * one per session, closed when idle, and a hung page call fails cleanly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chromiumProcesses } from '../bench/chromium-processes.js';
import { UpstreamError } from '../src/core/errors.js';
import {
  createDoubaoProvider,
  type DoubaoProvider,
  type DoubaoProviderOptions,
} from '../src/providers/doubao/index.js';
import { SESSION_EXPIRED, type Session } from '../src/providers/doubao/session-pool.js';
import type { DoubaoAnswer, DoubaoCall } from '../src/providers/doubao/transport.js';
import { TransportSelector } from '../src/providers/doubao/transport-selector.js';
import type { VideoProvider } from '../src/providers/provider.js';
import { type DoubaoFake, type DoubaoFakeKnobs, startDoubaoFake } from './fakes/doubao/index.js';
import { sessionIdCookie, writeSessions } from './fakes/doubao/sessions.js';
import { fakeProviderOptions } from './support/doubao-setup.js';
import { startTestCore, type TestCore } from './support/test-core.js';

let fake: DoubaoFake;
let dir: string;
const cleanup: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function rig(knobs: Partial<DoubaoFakeKnobs>, users = 1): Promise<void> {
  fake = await startDoubaoFake(knobs);
  dir = mkdtempSync(join(tmpdir(), 'dvb-transport-'));
  writeSessions(join(dir, 'session.json'), { users });
}

async function provider(options: Partial<DoubaoProviderOptions> = {}): Promise<VideoProvider> {
  const made = await createDoubaoProvider({
    ...fakeProviderOptions(fake, dir),
    ...options,
  });
  cleanup.push(async () => made.close?.());
  return made;
}

/** A real core (SQLite provider state) around the provider, on a data folder a later core can reopen. */
async function coreAround(made: VideoProvider, dataDir?: string): Promise<TestCore> {
  const core = await startTestCore({ provider: () => made, keepData: true, ...(dataDir && { dataDir }) });
  cleanup.push(() => core.dispose());
  return core;
}

const pages = (p: VideoProvider) => p.status?.().pages as { open: number; opened: number };
const completions = () => fake.gatedCalls.filter((c) => c.path.endsWith('/chat/completion'));
const lists = () => fake.gatedCalls.filter((c) => c.path === '/im/chain/single');
const start = (p: VideoProvider, prompt = 'a paper boat') => p.start({ prompt, guest: false });

describe('DOUBAO_TRANSPORT=auto with signatures required', () => {
  it.each(['body', '403'] as const)(
    'refused unsigned (%s): repeats the call once from the page, then keeps the page for that kind, also after a restart',
    async (refusal) => {
      await rig({ requireSignature: true, signatureRefusal: refusal });
      const first = await provider();
      const core = await coreAround(first);

      const a = await start(first);
      const b = await start(first);
      expect(fake.conversations.has(a.conversationId!)).toBe(true);
      expect(fake.conversations.has(b.conversationId!)).toBe(true);
      expect(completions().map((c) => c.signed)).toEqual([false, true, true]);
      expect(fake.signatures.refused).toBe(1);
      expect(pages(first)).toEqual({ open: 1, opened: 1 });
      const sessionId = String(a.sessionId);
      expect(first.status?.().pageRoutes).toEqual({ [sessionId]: ['completion'] });

      // Another kind of call is judged on its own: the first look is refused plainly, then goes by the page.
      expect(await first.poll(a)).toMatchObject({ state: 'succeeded' });
      expect(await first.poll(b)).toMatchObject({ state: 'succeeded' });
      expect(lists().map((c) => c.signed)).toEqual([false, true, true]);
      expect(fake.signatures.refused).toBe(2);
      expect(first.status?.().pageRoutes).toEqual({ [sessionId]: ['completion', 'list'] });
      expect(pages(first)).toEqual({ open: 1, opened: 1 });

      await core.dispose();
      const second = await provider();
      await coreAround(second, core.dataDir);
      const c = await start(second, 'after the restart');
      expect(await second.poll(c)).toMatchObject({ state: 'succeeded' });
      expect(completions().map((call) => call.signed)).toEqual([false, true, true, true]);
      expect(lists().map((call) => call.signed)).toEqual([false, true, true, true]);
      expect(fake.signatures.refused).toBe(2);
      rmSync(core.dataDir, { recursive: true, force: true });
    },
  );

  it('stays on plain HTTP while Doubao accepts unsigned calls, opening no page', async () => {
    await rig({ requireSignature: false });
    const p = await provider();
    await start(p);
    await start(p);
    expect(completions().map((c) => c.signed)).toEqual([false, false]);
    expect(pages(p).opened).toBe(0);
    expect(fake.signatures.pages).toBe(0);
  });
});

describe('DOUBAO_TRANSPORT=http', () => {
  it('never opens a page, so a refusal stays a refusal with Doubao’s reason', async () => {
    await rig({ requireSignature: true });
    const p = await provider({ transportMode: 'http' });
    const error = await start(p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: false, message: expect.stringMatching(/a_bogus.*710012003/) });
    expect(pages(p).opened).toBe(0);
    expect(fake.signatures.pages).toBe(0);
  });
});

describe('DOUBAO_TRANSPORT=page', () => {
  it('sends every call from the session’s page, signed, even when unsigned ones would pass', async () => {
    await rig({ requireSignature: false });
    const p = await provider({ transportMode: 'page' });
    await start(p);
    await start(p);
    expect(completions().map((c) => c.signed)).toEqual([true, true]);
    expect(pages(p)).toEqual({ open: 1, opened: 1 });
  });

  it.each(['401', 'redirect'] as const)(
    'reads a lost login from the page as plain HTTP would (%s): the session expires',
    async (how) => {
      await rig({});
      const [session] = writeSessions(join(dir, 'session.json'), { users: 1 });
      fake.knobs.expired.set(sessionIdCookie(session!), how);
      const p = await provider({ transportMode: 'page' });
      await expect(start(p)).rejects.toMatchObject({ retryable: false, message: SESSION_EXPIRED });
      expect(p.status?.().sessions).toMatchObject([{ state: 'expired' }]);
      expect(pages(p).opened).toBe(1);
    },
  );

  it('keeps one page per session however many calls run at once, and closes it when idle', async () => {
    await rig({ requireSignature: true, streamDelayMs: 20 }, 2);
    const p = await provider({ transportMode: 'page', pageIdleMs: 1_000, perSessionConcurrency: 3 });
    const refs = await Promise.all(Array.from({ length: 6 }, (_, i) => start(p, `at once ${i}`)));
    const sessions = new Set(refs.map((r) => String(r.sessionId)));
    expect(pages(p).opened).toBe(sessions.size);
    expect(fake.signatures.pages).toBe(sessions.size);
    expect(pages(p).open).toBeLessThanOrEqual(sessions.size); // one done early may have closed its page already
    await expect.poll(() => pages(p).open, { timeout: 5_000, interval: 50 }).toBe(0);
    await start(p, 'after the idle close');
    expect(pages(p)).toEqual({ open: 1, opened: sessions.size + 1 });
  });

  it('opens a fresh page in a relaunched Chromium after the browser died, without failing a call', async () => {
    await rig({ requireSignature: true });
    const p = await provider({ transportMode: 'page' });
    await start(p, 'before');
    const browsers = chromiumProcesses().browsers;
    expect(browsers.length).toBe(1);
    for (const pid of browsers) process.kill(pid, 'SIGKILL');
    await expect.poll(() => pages(p).open, { timeout: 5_000, interval: 50 }).toBe(0);
    await start(p, 'after');
    expect(pages(p)).toEqual({ open: 1, opened: 2 });
    expect((p as DoubaoProvider).browserLaunches).toBe(2);
    expect(completions().map((c) => c.signed)).toEqual([true, true]);
  });

  it('fails a hung page call as a transient error and recycles the page', async () => {
    await rig({ completionFaults: ['stall'] });
    const p = await provider({ transportMode: 'page', idleTimeoutMs: 1_500 });
    const began = Date.now();
    const error = await start(p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true, message: expect.stringMatching(/no answer from the Doubao page/) });
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(pages(p)).toEqual({ open: 0, opened: 1 });
    const ref = await start(p, 'on a fresh page');
    expect(fake.conversations.has(ref.conversationId!)).toBe(true);
    expect(pages(p)).toEqual({ open: 1, opened: 2 });
  });
});

describe('TransportSelector (auto) on scripted answers', () => {
  const session = { id: 's1' } as Session;
  const call = (kind: DoubaoCall['kind']): DoubaoCall => ({
    kind,
    method: 'POST',
    path: '/x',
    query: '',
    headers: {},
    timeoutMs: 1_000,
  });
  const answer = (body: string, status = 200): DoubaoAnswer => ({ status, headers: {}, body });
  const scripted = (...answers: DoubaoAnswer[]) => {
    const sent: string[] = [];
    const send = async (_s: Session, c: DoubaoCall) => {
      sent.push(c.kind);
      return answers.shift()!;
    };
    return { sent, send };
  };
  const refused = answer('{"code":710012003,"message":"bad signature"}');

  it('never repeats a completion whose stream already acknowledged a video job', async () => {
    const acked = answer(
      'data: {"event_type":2002,"event_data":"{}"}\n\nevent: gateway-error\ndata: {"code":710022005,"message":"x"}\n\n',
    );
    const http = scripted(acked);
    const page = scripted();
    const selector = new TransportSelector({ mode: 'auto', http, page });
    expect(await selector.send(session, call('completion'))).toBe(acked);
    expect(page.sent).toEqual([]);
  });

  it('keeps plain HTTP when the page is refused too, and leaves rate limits and logins alone', async () => {
    const http = scripted(refused, answer('{"code":710022004,"message":"rate"}'), answer('', 401));
    const page = scripted(refused);
    const selector = new TransportSelector({ mode: 'auto', http, page });
    await selector.send(session, call('list'));
    await selector.send(session, call('list'));
    await selector.send(session, call('list'));
    expect(http.sent).toEqual(['list', 'list', 'list']);
    expect(page.sent).toEqual(['list']);
    expect(selector.pageRoutes()).toEqual({});
  });
});
