/**
 * Session health from what Doubao says (protocol §8), through the real provider against the fake: every code ends
 * in the right session state and the right outcome for the task (a permanent error fails it at once with the
 * reason, a transient one is tried again), the state survives a restart (a new provider attached to the same
 * store), exactly one incident is reported per change of state, and a new login in the sessions file resets it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../src/core/errors.js';
import { createDoubaoProvider, type DoubaoProvider } from '../src/providers/doubao/index.js';
import { memoryState } from '../src/providers/doubao/memory-state.js';
import { SESSION_EXPIRED, sessionIdOf } from '../src/providers/doubao/session-pool.js';
import type { ProviderIncident, ProviderStateStore } from '../src/providers/provider.js';
import { type DoubaoFake, type InBodyFault, startDoubaoFake } from './fakes/doubao/index.js';
import { fakeSession, sessionIdCookie, writeSessions } from './fakes/doubao/sessions.js';
import { fakeProviderOptions } from './support/doubao-setup.js';

interface Host {
  store: ProviderStateStore;
  incidents: ProviderIncident[];
}

describe('doubao session health', () => {
  let fake: DoubaoFake;
  let dir: string;
  const providers: DoubaoProvider[] = [];
  const newHost = (): Host => ({ store: memoryState(), incidents: [] });
  const open = async (host: Host, extra: Record<string, unknown> = {}) => {
    const provider = await createDoubaoProvider({
      ...fakeProviderOptions(fake, dir),
      settleMs: 500,
      cooldownMs: 60_000,
      // Health on its own: a refusal repeated from the session's page is test/doubao-page-transport's.
      transportMode: 'http',
      ...extra,
    });
    provider.attach?.({ state: host.store, reportIncident: (i) => host.incidents.push(i) });
    providers.push(provider);
    return provider;
  };

  beforeAll(async () => {
    fake = await startDoubaoFake();
  });
  afterAll(() => fake.close());
  afterEach(async () => {
    for (const p of providers.splice(0)) await p.close?.();
    rmSync(dir, { recursive: true, force: true });
    Object.assign(fake.knobs, {
      bodyFaults: [],
      httpFaults: [],
      completionFaults: [],
      readyDelayMs: 0,
      streamDelayMs: 0,
      dialect: 'both',
    });
    fake.knobs.expired.clear();
  });
  const oneSession = () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-health-'));
    return writeSessions(join(dir, 'session.json'), { users: 1 })[0]!;
  };

  type Case = [string, InBodyFault | { status: number }, 'cooling' | 'paused' | 'expired', boolean, RegExp, string];
  const cases: Case[] = [
    [
      '710022004 (rate limited)',
      { path: 'chat/completion', code: 710022004 },
      'cooling',
      true,
      /rate-limited/,
      '710022004',
    ],
    ['HTTP 429', { status: 429 }, 'cooling', true, /rate-limited/, 'HTTP 429'],
    [
      '710022002 (risk control)',
      { path: 'chat/completion', code: 710022002 },
      'paused',
      true,
      /risk control/,
      '710022002',
    ],
    [
      'shark_admin',
      { path: 'chat/completion', code: 710022009, sharkAdmin: true },
      'paused',
      true,
      /risk control/,
      '710022009',
    ],
    ['a captcha page', { path: 'chat/completion', captcha: true }, 'paused', true, /risk control/, 'captcha'],
    ['1011 (not logged in)', { path: 'chat/completion', code: 1011 }, 'expired', false, /npm run session/, '1011'],
    [
      '`login invalid`',
      { path: 'chat/completion', code: 10000, message: 'login invalid' },
      'expired',
      false,
      /npm run session/,
      '10000',
    ],
    ['-2001 (banned)', { path: 'chat/completion', code: -2001 }, 'expired', false, /npm run session/, '-2001'],
    ['HTTP 401', { status: 401 }, 'expired', false, /npm run session/, 'HTTP 401'],
    ['HTTP 403', { status: 403 }, 'expired', false, /npm run session/, 'HTTP 403'],
  ];

  it.each(cases)(
    '%s on a video request: the session state, the task retried or failed, one incident',
    async (_, fault, state, retryable, reason, code) => {
      const session = oneSession();
      const host = newHost();
      const provider = await open(host);
      // A 403 on the 2026 request is a refusal the 2025 request may pass: it must come on both to mean the login.
      const times = 'status' in fault && fault.status === 403 ? 2 : 1;
      if ('status' in fault)
        fake.knobs.httpFaults = Array(times).fill({ path: 'chat/completion', status: fault.status });
      else fake.knobs.bodyFaults = [fault];
      const error = await provider.start({ prompt: 'x', guest: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ retryable, message: expect.stringMatching(reason) });
      expect(provider.status!().sessions).toMatchObject([{ state, lastCode: code }]);
      const kind = { cooling: 'rate_limited', paused: 'risk_control', expired: 'expired' }[state];
      expect(host.incidents).toEqual([
        expect.objectContaining({
          provider: 'doubao',
          kind,
          code,
          subject: `session ${sessionIdOf(session).slice(0, 8)}`,
        }),
      ]);
      expect(JSON.stringify(host.incidents)).not.toContain(sessionIdCookie(session));
      expect(host.incidents[0]!.action).toMatch(state === 'cooling' ? /another account/ : /npm run session/);
    },
  );

  it.each([
    ['event 2005', 'rate-limit-2005', 'cooling', '710022004'],
    ['a gateway-error about the request', 'gateway-error', 'ok', undefined],
  ] as const)('2025 dialect: %s → session %s', async (_, fault, state, code) => {
    oneSession();
    fake.knobs.dialect = '2025';
    const host = newHost();
    const provider = await open(host);
    fake.knobs.completionFaults = [fault];
    await expect(provider.start({ prompt: 'x', guest: false })).rejects.toBeInstanceOf(UpstreamError);
    expect(provider.status!().sessions).toMatchObject([{ state, ...(code && { lastCode: code }) }]);
    expect(host.incidents).toHaveLength(state === 'ok' ? 0 : 1);
  });

  it('a refusal that is not about the session fails the request, leaves the session ok and reports nothing', async () => {
    oneSession();
    const host = newHost();
    const provider = await open(host);
    const refusal = { path: 'chat/completion', code: 710022005, message: 'content not allowed' };
    fake.knobs.bodyFaults = [refusal, { ...refusal }]; // the 2026 request, then the 2025 one
    await expect(provider.start({ prompt: 'x', guest: false })).rejects.toMatchObject({
      retryable: false,
      message: 'Doubao refused the request: content not allowed (code 710022005)',
    });
    expect(provider.status!().sessions).toMatchObject([{ state: 'ok' }]);
    expect(host.incidents).toEqual([]);
  });

  it('codes on a look: 1011 fails the task at once, 710022004 keeps it waiting', async () => {
    oneSession();
    const host = newHost();
    fake.knobs.readyDelayMs = 60_000;
    const provider = await open(host);
    const ref = await provider.start({ prompt: 'x', guest: false });
    fake.knobs.bodyFaults = [{ path: '/im/chain/single', code: 710022004 }];
    await expect(provider.poll(ref)).rejects.toMatchObject({ retryable: true, message: /rate-limited/ });
    // While it rests, looks do not call Doubao at all and say why.
    const before = fake.requests.length;
    await expect(provider.poll(ref)).rejects.toMatchObject({ retryable: true, message: /rate-limited/ });
    expect(fake.requests.length).toBe(before);
    fake.knobs.bodyFaults = [{ path: '/im/chain/single', code: 1011 }];
    const again = await open(newHost(), { cooldownMs: 0 }); // a provider whose cooldown is over
    await expect(again.poll(ref)).rejects.toMatchObject({ retryable: false, message: SESSION_EXPIRED });
  });

  it('rate limits in a row rest longer each time and report one incident until the session works again', async () => {
    const session = oneSession();
    const host = newHost();
    const provider = await open(host, { cooldownMs: 40 });
    for (let i = 0; i < 3; i++) {
      fake.knobs.bodyFaults = [{ path: 'chat/completion', code: 710022004 }];
      await expect(provider.start({ prompt: 'x', guest: false })).rejects.toMatchObject({ retryable: true });
      const record = host.store.get<{ until: number; since: number; strikes: number }>(
        `session:${sessionIdOf(session)}`,
      )!;
      expect(record.strikes).toBe(i + 1);
      expect(record.until - Date.now()).toBeGreaterThan(40 * 2 ** i - 30);
      await new Promise((r) => setTimeout(r, 40 * 2 ** i + 10));
    }
    expect(host.incidents.map((i) => i.kind)).toEqual(['rate_limited']);
    await provider.start({ prompt: 'works', guest: false });
    await provider.start({ prompt: 'works again', guest: false });
    expect(host.incidents.map((i) => i.kind)).toEqual(['rate_limited', 'recovered']);
    expect(provider.status!().sessions).toMatchObject([{ state: 'ok' }]);
  });

  it('a call already under way that works after the session expired does not revive it', async () => {
    const session = oneSession();
    const host = newHost();
    fake.knobs.streamDelayMs = 150; // the first request is still streaming when the second one is refused
    const provider = await open(host, { perSessionConcurrency: 2 });
    const slow = provider.start({ prompt: 'slow', guest: false });
    await new Promise((r) => setTimeout(r, 50));
    fake.knobs.streamDelayMs = 0;
    fake.knobs.bodyFaults = [{ path: 'chat/completion', code: 1011 }];
    await expect(provider.start({ prompt: 'refused', guest: false })).rejects.toMatchObject({
      message: SESSION_EXPIRED,
    });
    await expect(slow).resolves.toHaveProperty('conversationId');
    expect(provider.status!().sessions).toMatchObject([{ id: sessionIdOf(session), state: 'expired' }]);
    expect(host.incidents.map((i) => i.kind)).toEqual(['expired']);
  });

  it('keeps the state across a restart: a new provider on the same store still knows, and says nothing again', async () => {
    const session = oneSession();
    const host = newHost();
    const first = await open(host);
    fake.knobs.bodyFaults = [{ path: 'chat/completion', code: 1011 }];
    await expect(first.start({ prompt: 'x', guest: false })).rejects.toMatchObject({ message: SESSION_EXPIRED });
    await first.close?.();

    const second = await open({ store: host.store, incidents: host.incidents });
    expect(second.status!().sessions).toMatchObject([{ id: sessionIdOf(session), state: 'expired', lastCode: '1011' }]);
    await expect(second.start({ prompt: 'y', guest: false })).rejects.toMatchObject({
      retryable: false,
      message: SESSION_EXPIRED,
    });
    expect(
      fake.requests.filter((r) => r.owner === sessionIdCookie(session) && r.path.includes('completion')),
    ).toHaveLength(1);
    expect(host.incidents.map((i) => i.kind)).toEqual(['expired']);
  });

  it('a new login for the account (`npm run session`) makes an expired session ok again, reported once', async () => {
    const session = oneSession();
    const host = newHost();
    const first = await open(host);
    fake.knobs.bodyFaults = [{ path: 'chat/completion', code: -2001 }];
    await expect(first.start({ prompt: 'x', guest: false })).rejects.toMatchObject({ retryable: false });
    await first.close?.();
    // The operator logs in again: same device, new cookie.
    const relogged = { ...fakeSession('user'), device_id: session.device_id };
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'session.json'), JSON.stringify([relogged]));
    const second = await open(host);
    expect(second.status!().sessions).toMatchObject([{ state: 'ok' }]);
    expect(host.incidents.map((i) => i.kind)).toEqual(['expired', 'recovered']);
    await expect(second.start({ prompt: 'y', guest: false })).resolves.toHaveProperty('conversationId');
  });

  it('a look at a task whose session is paused by risk control gives a clear reason without calling Doubao', async () => {
    oneSession();
    const host = newHost();
    fake.knobs.readyDelayMs = 60_000;
    const provider = await open(host);
    const ref = await provider.start({ prompt: 'x', guest: false });
    fake.knobs.bodyFaults = [{ path: '/im/chain/single', captcha: true }];
    await expect(provider.poll(ref)).rejects.toMatchObject({ retryable: true, message: /risk control/ });
    const before = fake.requests.length;
    await expect(provider.poll(ref)).rejects.toMatchObject({ message: /risk control paused the account/ });
    expect(fake.requests.length).toBe(before);
    expect(host.incidents.map((i) => i.kind)).toEqual(['risk_control']);
  });
});
