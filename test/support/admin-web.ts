/**
 * The admin web page under test: a real core (local provider unless given another) with the HTTP app and its
 * /admin plugin listening on a loopback port, and the system Chromium driven by Playwright. Used by
 * test/admin-web*.test.ts and the screenshot script.
 */
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { buildHttpApp } from '../../adapters/http/index.js';
import type { Config } from '../../src/config.js';
import type { CoreOptions } from '../../src/core/index.js';
import { CHROMIUM_ARGS } from '../../src/providers/doubao/chromium.js';
import type { VideoProvider } from '../../src/providers/provider.js';
import { CHROMIUM } from './doubao-setup.js';
import { startTestCore, type TestCore } from './test-core.js';

export interface AdminHarness {
  core: TestCore;
  app: FastifyInstance;
  provider: VideoProvider;
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

export async function startAdmin(
  options: { env?: Record<string, string>; provider?: (config: Config) => VideoProvider; core?: CoreOptions } = {},
): Promise<AdminHarness> {
  let provider: VideoProvider | undefined;
  const core = await startTestCore({
    env: options.env ?? {},
    ...(options.core && { core: options.core }),
    ...(options.provider && {
      provider: (config: Config) => {
        provider = options.provider!(config);
        return provider;
      },
    }),
  });
  const used = provider ?? core.provider;
  const app = await buildHttpApp({
    service: core.service,
    config: core.config,
    log: core.log,
    videosDir: core.media.videosDir,
    ...(used.status && { providerStatus: () => used.status!() }),
    admin: {
      reads: core.store,
      sessions: core.store,
      provider: used,
      ...(options.core?.now && { now: options.core.now }),
    },
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    core,
    app,
    provider: used,
    base,
    async close() {
      await app.close();
      await core.dispose();
    },
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS.filter((a) => a !== '--headless') });
}

/** A fresh browser context (own cookies) in English unless told otherwise, at a laptop's width unless told. */
export function newContext(
  browser: Browser,
  options: { locale?: string; width?: number; height?: number } = {},
): Promise<BrowserContext> {
  return browser.newContext({
    locale: options.locale ?? 'en-US',
    viewport: { width: options.width ?? 1200, height: options.height ?? 900 },
  });
}

/** Signs in with `token` on the sign-in page and waits for the overview. */
export async function signIn(context: BrowserContext, base: string, token: string) {
  const page = await context.newPage();
  await page.goto(`${base}/admin`);
  await page.fill('#token', token);
  await page.press('#token', 'Enter');
  await page.waitForURL(`${base}/admin`);
  return page;
}
