/**
 * Issue 17, the admin web page in a real browser (Playwright, the system Chromium) against a real core with the
 * local provider: signing in (and a wrong token refused), a task followed live from pending to completed without
 * a reload, its video played, a task cancelled, a cross-site POST refused, Chinese by Accept-Language, phone width
 * and keyboard use.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminHarness, launchBrowser, newContext, signIn, startAdmin } from './support/admin-web.js';

const TOKEN = 'admin-test-token-0123456789';
const origin = { platform: 'http' as const, userId: 'alice' };

describe('#17 admin web page (local provider)', () => {
  let browser: Browser;
  let quick: AdminHarness;
  let slow: AdminHarness;

  beforeAll(async () => {
    browser = await launchBrowser();
    // `quick` renders in a few seconds (a task seen pending, then completed); `slow` never within a test (cancel).
    quick = await startAdmin({ env: { API_TOKEN: TOKEN, LOCAL_RENDER_S: '3' } });
    slow = await startAdmin({ env: { API_TOKEN: TOKEN, LOCAL_RENDER_S: '600' } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await quick?.close();
    await slow?.close();
  });

  it('refuses a wrong token, then signs in with the right one into an HttpOnly, SameSite=Strict session', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${quick.base}/admin/tasks`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.fill('#token', 'not-the-token');
    await page.click('button[type=submit]');
    await expect(page.locator('.error').textContent()).resolves.toContain('not right');
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect(await context.cookies()).toEqual([]);

    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${quick.base}/admin/tasks`);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'dvb_admin', httpOnly: true, sameSite: 'Strict', path: '/admin' });
    expect(cookie!.value).not.toContain(TOKEN);

    await page.click('text=Sign out');
    await page.waitForURL(/\/admin\/login$/);
    await page.goto(`${quick.base}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await context.close();
  });

  it('shows a task go from pending to completed live, without a reload, and plays its video', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, quick.base, TOKEN);
    await page.goto(`${quick.base}/admin/tasks`);
    await page.waitForSelector('.live[data-live="on"]');
    // Marks the page (a reload would lose the mark) and notes every status its rows show, in order.
    await page.evaluate(`window.notReloaded = true; window.seen = [];
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('tr[data-task-id] [data-field=status]')) {
          if (window.seen.at(-1) !== el.dataset.status) window.seen.push(el.dataset.status);
        }
      }).observe(document.querySelector('tbody'), { subtree: true, childList: true, attributes: true, characterData: true });`);
    const task = await quick.core.service.submit({ prompt: 'a paper boat <b>on</b> a river', origin });
    expect(task.status).toBe('pending');
    // The new task's row appears on the open page (its prompt as text, never markup) and follows the task.
    const status = page.locator(`tr[data-task-id="${task.id}"] [data-field="status"]`);
    await status.waitFor();
    expect(await page.locator(`tr[data-task-id="${task.id}"] td.prompt`).textContent()).toBe(
      'a paper boat <b>on</b> a river',
    );
    await page.waitForSelector(`tr[data-task-id="${task.id}"] [data-status="completed"]`, { timeout: 60_000 });
    expect(await status.textContent()).toBe('completed');
    const seen = (await page.evaluate('window.seen')) as string[];
    expect(seen[0]).toBe('pending');
    expect(seen.at(-1)).toBe('completed');
    expect(await page.evaluate('window.notReloaded')).toBe(true);

    await page.click(`a[href="/admin/tasks/${task.id}"]`);
    await page.waitForSelector('video[src]');
    // The browser decodes the re-hosted MP4: its metadata gives a duration, and it plays.
    const duration = await page.evaluate(`(async () => {
      const video = document.querySelector('video');
      if (Number.isNaN(video.duration)) await new Promise((r) => video.addEventListener('loadedmetadata', r));
      await video.play();
      return video.duration;
    })()`);
    expect(duration).toBeGreaterThan(0.5);
    const timeline = await page.locator('.timeline li').allTextContents();
    expect(timeline[0]).toContain('queued');
    expect(timeline.at(-1)).toMatch(/video ready|told the asker/);
    await context.close();
  }, 90_000);

  it('cancels a task with the Cancel button, through the service', async () => {
    const task = await slow.core.service.submit({ prompt: 'a very slow sunrise', origin });
    const context = await newContext(browser);
    const page = await signIn(context, slow.base, TOKEN);
    await page.goto(`${slow.base}/admin/tasks/${task.id}`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('form[data-action="cancel"] button');
    await page.waitForSelector('h1 [data-status="cancelled"]');
    expect(await page.locator('.flash').textContent()).toContain('cancelled');
    expect((await slow.core.service.get(task.id)).status).toBe('cancelled');
    expect(await page.locator('form[data-action="retry"]').isVisible()).toBe(true);
    await context.close();
  });

  it('refuses a cross-site POST: a foreign Origin, or no CSRF token, even with the session cookie', async () => {
    const task = await slow.core.service.submit({ prompt: 'a slow tide', origin });
    const context = await newContext(browser);
    const page = await signIn(context, slow.base, TOKEN);
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    await page.goto(`${slow.base}/admin/tasks/${task.id}`);
    const csrf = await page.locator('form[data-action="cancel"] input[name=csrf]').inputValue();
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${slow.base}/admin/tasks/${task.id}/cancel`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
        body,
      });
    expect((await post({ origin: 'https://evil.example' }, '')).status).toBe(403);
    expect((await post({ origin: 'https://evil.example' }, `csrf=${csrf}`)).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' }, `csrf=${csrf}`)).status).toBe(403);
    expect((await post({ origin: slow.base }, 'csrf=wrong')).status).toBe(403);
    expect((await post({}, `csrf=${csrf.slice(0, -1)}`)).status).toBe(403);
    expect((await post({}, '')).status).toBe(403);
    expect((await slow.core.service.get(task.id)).status).not.toBe('cancelled');
    // The same request from this page's origin with its token is the one that works.
    expect((await post({ origin: slow.base }, `csrf=${csrf}`)).status).toBe(303);
    expect((await slow.core.service.get(task.id)).status).toBe('cancelled');
    // Signing in from another site is refused too (login CSRF).
    const login = await fetch(`${slow.base}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: `token=${TOKEN}`,
    });
    expect(login.status).toBe(403);
    expect(login.headers.get('set-cookie')).toBeNull();
    await context.close();
  });

  it('answers an unknown task or session with a page in the frame, and a retry of a running task with its reason', async () => {
    const task = await slow.core.service.submit({ prompt: 'a slow cloud', origin });
    const context = await newContext(browser);
    const page = await signIn(context, slow.base, TOKEN);
    const missing = await page.goto(`${slow.base}/admin/tasks/no-such-task`);
    expect(missing?.status()).toBe(404);
    expect(await page.locator('.error').textContent()).toBe('Not found.');
    await page.goto(`${slow.base}/admin/tasks/${task.id}`);
    const csrf = await page.locator('form[data-action="cancel"] input[name=csrf]').inputValue();
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const post = (path: string) =>
      fetch(`${slow.base}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: slow.base },
        body: `csrf=${csrf}`,
      });
    const recheck = await post('/admin/sessions/nope/recheck');
    expect(recheck.status).toBe(404);
    expect(recheck.headers.get('content-type')).toContain('text/html');
    const retry = await post(`/admin/tasks/${task.id}/retry`);
    expect(retry.status).toBe(303);
    await page.goto(`${slow.base}${retry.headers.get('location')}`);
    expect(await page.locator('.error').textContent()).toContain('only failed or cancelled tasks can be retried');
    await context.close();
  });

  it('speaks Chinese to a Chinese browser, fits a phone and is usable with the keyboard', async () => {
    const context = await newContext(browser, { locale: 'zh-CN', width: 390, height: 844 });
    const page = await context.newPage();
    await page.goto(`${quick.base}/admin`);
    expect(await page.locator('h1').textContent()).toBe('登录');
    // Keyboard only: the token field has the focus, Enter signs in; then Tab reaches the skip link first.
    expect(await page.evaluate('document.activeElement?.id')).toBe('token');
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${quick.base}/admin`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.className')).toBe('skip');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement?.id')).toBe('main');
    expect(await page.locator('nav a[aria-current=page]').textContent()).toBe('概览');
    for (const path of ['/admin', '/admin/tasks', '/admin/sessions']) {
      await page.goto(`${quick.base}${path}`);
      const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await context.close();
  });

  it('answers only loopback callers that name it by a loopback name when no API_TOKEN is set', async () => {
    const open = await startAdmin();
    try {
      const res = await fetch(`${open.base}/admin`);
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toMatch(/dvb_admin=.*HttpOnly; SameSite=Strict/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      // A site rebinding its own name to 127.0.0.1 reaches the socket but not the page.
      const rebound = await openRequest(open.base, 'evil.example');
      expect(rebound).toBe(403);
    } finally {
      await open.close();
    }
  });
});

/** A GET of /admin with another Host header (fetch does not let one set it). */
async function openRequest(base: string, host: string): Promise<number> {
  const { request } = await import('undici');
  const res = await request(`${base}/admin`, { headers: { host } });
  await res.body.dump();
  return res.statusCode;
}
