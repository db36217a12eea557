/**
 * `npm run screenshots`: draws docs/admin/*.png, the admin page as the README shows it. Deterministic: two weeks of
 * made-up history from a seeded generator (written through the store, as the core would have), one real task
 * rendered by the local provider (so the task page has a real video), and the Doubao pool of the fake Doubao with
 * one session whose login expired. Browser in UTC, English, laptop width (plus the overview at phone width).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Task } from '../../src/core/index.js';
import { createDoubaoProvider } from '../../src/providers/doubao/index.js';
import { sessionIdOf } from '../../src/providers/doubao/session-pool.js';
import { doubaoOptions } from '../../src/providers/index.js';
import { startDoubaoFake } from '../fakes/doubao/index.js';
import { sessionIdCookie, writeSessions } from '../fakes/doubao/sessions.js';
import { launchBrowser, signIn, startAdmin } from '../support/admin-web.js';
import { doubaoFakeEnv } from '../support/doubao-setup.js';
import { newTask } from '../support/new-task.js';
import { finished, testConfig, waitFor } from '../support/test-core.js';

const OUT = join(import.meta.dirname, '../../docs/admin');
const TOKEN = 'screenshot-token-0123456789';
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const PROMPTS = [
  'a paper boat drifting down a rainy street',
  '一只橘猫在窗台上晒太阳',
  'timelapse of clouds over snowy mountains',
  'a robot watering plants in a greenhouse',
  '夜晚的城市，霓虹灯倒映在水面上',
  'a hot air balloon over a desert at dawn',
];

/** A small seeded generator (mulberry32): the same pictures on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function shoot(page: Page, name: string, url: string, fullPage = true): Promise<void> {
  await page.goto(url);
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
  console.log(`docs/admin/${name}.png`);
}

async function localPages(): Promise<void> {
  // The core's clock reads a fixed afternoon, so the charts' days are the same on every run.
  const pinned = Date.parse('2026-03-14T15:00:00Z') - Date.now();
  let offset = 0;
  const admin = await startAdmin({
    env: { API_TOKEN: TOKEN, LOCAL_RENDER_S: '2' },
    core: { now: () => Date.now() + pinned + offset },
  });
  try {
    const { store } = admin.core;
    const rand = random(17);
    let n = 0;
    for (let day = 13; day >= 0; day--) {
      for (let k = Math.round(3 + rand() * 9); k > 0; k--) {
        offset = -day * DAY - Math.round(rand() * 8 * 60) * MIN;
        const provider = rand() < 0.7 ? 'doubao' : 'ark';
        const platform = (['telegram', 'discord', 'http'] as const)[Math.floor(rand() * 3)]!;
        const id = `demo${String(++n).padStart(3, '0')}`;
        const queued = await store.insert(seedTask(id, provider, platform, PROMPTS[n % PROMPTS.length]!));
        await store.recordTaskEvent('queued', queued, null);
        const roll = rand();
        offset += Math.round((provider === 'ark' ? 1 : 3) * MIN + rand() * (provider === 'ark' ? 3 : 12) * MIN);
        const status = roll < 0.8 ? 'completed' : roll < 0.93 ? 'failed' : 'cancelled';
        const error =
          status === 'failed' ? 'video not ready after 5 attempts' : status === 'cancelled' ? 'cancelled' : null;
        const done = await store.update(id, {
          status,
          error,
          attempts: 1 + Math.floor(rand() * 4),
          nextAttemptAt: null,
        });
        await store.recordTaskEvent(status, done, error);
      }
    }
    offset = 0;
    const failing = await store.claimDeliveries('telegram', ['result'], 60_000, 3);
    for (const d of failing)
      await store.deliveryFailed(d.id, d.claim, 'Telegram answered 502 Bad Gateway', Date.now() + pinned + MIN);

    const origin = { platform: 'telegram' as const, userId: '20417', chatId: '20417', locale: 'en' };
    const shown = await admin.core.service.submit({ prompt: PROMPTS[0]!, origin });
    await admin.core.service.submit({ prompt: PROMPTS[3]!, origin: { ...origin, userId: '88120' } });
    await waitFor(
      () => admin.core.service.get(shown.id),
      (t: Task) => finished(t),
      120_000,
    );

    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({
        locale: 'en-US',
        timezoneId: 'UTC',
        viewport: { width: 1200, height: 900 },
      });
      await shoot(await context.newPage(), 'signin', `${admin.base}/admin/login`, false);
      const page = await signIn(context, admin.base, TOKEN);
      await shoot(page, 'overview', `${admin.base}/admin`);
      await shoot(page, 'tasks', `${admin.base}/admin/tasks`, false);
      await shoot(page, 'task', `${admin.base}/admin/tasks/${shown.id}`);
      const phone = await browser.newContext({
        locale: 'zh-CN',
        timezoneId: 'UTC',
        viewport: { width: 390, height: 844 },
      });
      await shoot(await signIn(phone, admin.base, TOKEN), 'overview-phone-zh', `${admin.base}/admin`, false);
    } finally {
      await browser.close();
    }
  } finally {
    await admin.close();
  }
}

async function sessionsPage(): Promise<void> {
  const fake = await startDoubaoFake({ readyDelayMs: 600_000 });
  const dir = testConfig().DATA_DIR;
  const file = join(dir, 'session.json');
  const sessions = writeSessions(file, { users: 3, guests: 1 });
  const labelled = sessions.map((s, i) => ({
    ...s,
    label: ['main account', 'backup account', 'team account', 'guest'][i],
  }));
  writeFileSync(file, JSON.stringify(labelled));
  const env = {
    ...doubaoFakeEnv(fake),
    DOUBAO_SESSIONS_FILE: file,
    DOUBAO_TRANSPORT: 'http',
    DOUBAO_FIRST_CHECK_S: '600',
    API_TOKEN: TOKEN,
  };
  const provider = await createDoubaoProvider(doubaoOptions(testConfig(env, dir)));
  const admin = await startAdmin({ env, provider: () => provider });
  const browser = await launchBrowser();
  try {
    for (const prompt of PROMPTS.slice(0, 3)) {
      await admin.core.service.submit({ prompt, origin: { platform: 'http', userId: 'ops' } });
    }
    fake.knobs.expired.set(sessionIdCookie(sessions[2]!), '401');
    await provider.recheck!(sessionIdOf(sessions[2]!));
    const context = await browser.newContext({
      locale: 'en-US',
      timezoneId: 'UTC',
      viewport: { width: 1200, height: 700 },
    });
    await shoot(await signIn(context, admin.base, TOKEN), 'sessions', `${admin.base}/admin/sessions`, false);
  } finally {
    await browser.close();
    await admin.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function seedTask(id: string, provider: string, platform: 'telegram' | 'discord' | 'http', prompt: string) {
  return newTask(id, {
    provider,
    prompt,
    upstream: { id: `job-${id}` },
    origin: { platform, userId: String(10_000 + (id.charCodeAt(6) % 7) * 1111) },
  });
}

mkdirSync(OUT, { recursive: true });
await localPages();
await sessionsPage();
