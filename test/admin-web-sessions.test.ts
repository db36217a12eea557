/**
 * Issue 17, the admin page's sessions view against the fake Doubao, in a real browser: the pool is listed (state,
 * tasks running, never a cookie), the Re-check button finds a session whose login expired on Doubao, and a session
 * that expires while the page is open turns expired on it live (the incident's server-sent event); and Ark's slots
 * on the fake Ark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDoubaoProvider } from '../src/providers/doubao/index.js';
import type { SessionFields } from '../src/providers/doubao/session-file.js';
import { sessionIdOf } from '../src/providers/doubao/session-pool.js';
import { doubaoOptions } from '../src/providers/index.js';
import type { VideoProvider } from '../src/providers/provider.js';
import { startArkFake } from './fakes/ark/index.js';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { sessionIdCookie, writeSessions } from './fakes/doubao/sessions.js';
import { type AdminHarness, launchBrowser, newContext, signIn, startAdmin } from './support/admin-web.js';
import { arkEnv, arkProvider } from './support/ark-setup.js';
import { doubaoFakeEnv } from './support/doubao-setup.js';
import { testConfig, waitFor } from './support/test-core.js';

const TOKEN = 'admin-sessions-token-0123456789';

describe('#17 admin page: Doubao sessions on the fake Doubao', () => {
  let fake: DoubaoFake;
  let dir: string;
  let sessions: SessionFields[];
  let browser: Browser;
  let admin: AdminHarness;
  let page: Page;
  const row = (s: SessionFields) => `tr[data-session-id="${sessionIdOf(s)}"]`;

  beforeAll(async () => {
    fake = await startDoubaoFake({ readyDelayMs: 600_000 });
    dir = mkdtempSync(join(tmpdir(), 'dvb-admin-doubao-'));
    const sessionsFile = join(dir, 'session.json');
    sessions = writeSessions(sessionsFile, { users: 2 });
    const env = {
      ...doubaoFakeEnv(fake),
      DOUBAO_SESSIONS_FILE: sessionsFile,
      DOUBAO_TRANSPORT: 'http',
      DOUBAO_FIRST_CHECK_S: '600',
      API_TOKEN: TOKEN,
    };
    const provider: VideoProvider = await createDoubaoProvider(doubaoOptions(testConfig(env, dir)));
    admin = await startAdmin({ env, provider: () => provider });
    browser = await launchBrowser();
    page = await signIn(await newContext(browser), admin.base, TOKEN);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await admin?.close();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the pool with the tasks each session runs, and never a cookie', async () => {
    const task = await admin.core.service.submit({
      prompt: 'a lantern festival',
      origin: { platform: 'http', userId: 'u' },
    });
    const owner = String(task.upstream?.sessionId);
    await page.goto(`${admin.base}/admin/sessions`);
    for (const s of sessions) {
      expect(await page.locator(`${row(s)} [data-state]`).getAttribute('data-state')).toBe('ok');
      const running = await page
        .locator(`${row(s)} td`)
        .nth(5)
        .textContent();
      expect(running).toBe(sessionIdOf(s) === owner ? '1' : '0');
    }
    const markup = await page.content();
    for (const s of sessions) {
      expect(markup).not.toContain(sessionIdCookie(s));
      expect(markup).not.toContain(s.cookie.split(';')[0]!);
    }
  });

  it('re-checks a session whose login expired on Doubao: it turns expired with its code', async () => {
    const [first] = sessions;
    fake.knobs.expired.set(sessionIdCookie(first!), '401');
    await page.goto(`${admin.base}/admin/sessions`);
    await page.click(`${row(first!)} button`);
    await page.waitForURL(/done=/);
    expect(await page.locator(`${row(first!)} [data-state]`).getAttribute('data-state')).toBe('expired');
    expect(
      await page
        .locator(`${row(first!)} td`)
        .nth(3)
        .textContent(),
    ).toContain('401');
    expect(await page.locator('.flash').textContent()).toContain('expired');
  });

  it('shows a session turn expired live while the page is open (no reload)', async () => {
    const second = sessions[1]!;
    await page.goto(`${admin.base}/admin/sessions`);
    await page.waitForSelector('.live[data-live="on"]');
    await page.evaluate('window.notReloaded = true');
    expect(await page.locator(`${row(second)} [data-state]`).getAttribute('data-state')).toBe('ok');
    fake.knobs.expired.set(sessionIdCookie(second), 'redirect');
    // Something other than this page finds out (here the provider's re-check, as a task's look would).
    await admin.provider.recheck!(sessionIdOf(second));
    await page.waitForSelector(`${row(second)} [data-state="expired"]`, { timeout: 15_000 });
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    const health = await waitFor(
      async () => (await admin.core.service.stats()).accounts,
      (a) => a.length === 2,
    );
    expect(health.every((a) => a.state === 'expired')).toBe(true);
  });
});

describe('#17 admin page: Ark slots on the fake Ark', () => {
  it('shows how many of the Ark slots the running jobs take', async () => {
    const fake = await startArkFake({ queuedMs: 600_000 });
    const admin = await startAdmin({
      env: arkEnv(fake, { ARK_MAX_CONCURRENT: '2', API_TOKEN: TOKEN }),
      provider: arkProvider,
    });
    const browser = await launchBrowser();
    try {
      const origin = { platform: 'http' as const, userId: 'ops' };
      for (const prompt of ['one', 'two', 'three']) await admin.core.service.submit({ prompt, origin });
      const page = await signIn(await newContext(browser), admin.base, TOKEN);
      await page.goto(`${admin.base}/admin/sessions`);
      expect(await page.locator('#sessions h2').textContent()).toBe('Ark slots');
      expect(await page.locator('#sessions .figure').textContent()).toBe('2 of 2 slots in use');
    } finally {
      await browser.close();
      await admin.close();
      await fake.close();
    }
  });
});
