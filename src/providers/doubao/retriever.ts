/**
 * Finding a finished video, protocol §5: the conversation's chat page opened in headless Chromium with the
 * owning session's cookies. The provider's one shared browser (chromium.ts), a fresh context per attempt so
 * sessions never share cookies, a hard time limit per attempt and a bound on attempts at once. URLs come first
 * from `get_play_info` answers, then `<video>` sources, resource timing, other network responses and the HTML.
 */
import Bottleneck from 'bottleneck';
import type { BrowserContext, Page } from 'playwright-core';
import { UpstreamError } from '../../core/errors.js';
import type { SharedChromium } from './chromium.js';
import {
  isVideoUrl,
  LOGIN_PAGE,
  PLAY_INFO_PATH,
  VIDEO_THUMBNAIL_SELECTORS,
  videoUrlsInHtml,
  videoUrlsInJson,
} from './page-signals.js';
import type { Session } from './session-pool.js';

export interface RetrieverOptions {
  chromium: SharedChromium;
  baseUrl: string;
  /** One attempt (page load and watching it) is abandoned after this many milliseconds. */
  attemptTimeoutMs: number;
  /** How long a loaded page is watched for a video before it counts as "not ready yet". */
  settleMs: number;
  /** Attempts (browser contexts) at once. */
  concurrency: number;
}

export type Retrieval = { state: 'found'; urls: string[] } | { state: 'not-ready' } | { state: 'logged-out' };

export class VideoRetriever {
  readonly #opts: RetrieverOptions;
  readonly #limiter: Bottleneck;

  constructor(options: RetrieverOptions) {
    this.#opts = options;
    this.#limiter = new Bottleneck({ maxConcurrent: options.concurrency });
  }

  /** One attempt at finding the conversation's video. @throws UpstreamError (transient) on timeout or crash. */
  find(session: Session, conversationId: string): Promise<Retrieval> {
    return this.#limiter.schedule(() => this.#attempt(session, conversationId));
  }

  /** Stops taking attempts; the shared browser is closed by its owner. */
  async close(): Promise<void> {
    await this.#limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }

  async #attempt(session: Session, conversationId: string): Promise<Retrieval> {
    const context = await this.#opts.chromium.newContext(session.cookie, this.#opts.baseUrl);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new UpstreamError(`no answer from the chat page within ${this.#opts.attemptTimeoutMs / 1000} s`, true));
        void context.close().catch(() => undefined);
      }, this.#opts.attemptTimeoutMs);
    });
    try {
      return await Promise.race([this.#watch(context, conversationId), timeout]);
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError(`the chat page could not be read: ${(error as Error).message.split('\n')[0]}`, true);
    } finally {
      clearTimeout(timer);
      await context.close().catch(() => undefined);
    }
  }

  async #watch(context: BrowserContext, conversationId: string): Promise<Retrieval> {
    const page = await context.newPage();
    const fromPlayInfo = new Set<string>();
    const fromNetwork = new Set<string>();
    const reading: Promise<unknown>[] = [];
    page.on('response', (response) => {
      const url = response.url();
      if (PLAY_INFO_PATH.test(url)) {
        reading.push(
          response
            .json()
            .then((body) => videoUrlsInJson(body, fromPlayInfo))
            .catch(() => undefined),
        );
      } else if (isVideoUrl(url)) fromNetwork.add(url);
    });

    const chatUrl = `${new URL(this.#opts.baseUrl).origin}/chat/${encodeURIComponent(conversationId)}`;
    const response = await page.goto(chatUrl, { waitUntil: 'domcontentloaded' });
    const status = response?.status() ?? 0;
    if (status === 401 || status === 403 || LOGIN_PAGE.test(new URL(page.url()).pathname)) {
      return { state: 'logged-out' };
    }

    const fromPage = new Set<string>();
    const deadline = Date.now() + this.#opts.settleMs;
    let clicked = false;
    while (Date.now() < deadline) {
      await Promise.allSettled(reading);
      if (fromPlayInfo.size > 0) break;
      if (!clicked) clicked = await clickThumbnail(page);
      for (const url of await pageVideoUrls(page)) fromPage.add(url);
      if (fromPage.size > 0) break;
      await page.waitForTimeout(200);
    }
    await Promise.allSettled(reading);
    const fromHtml = videoUrlsInHtml(await page.content());
    const urls = [...new Set([...fromPlayInfo, ...fromPage, ...fromNetwork, ...fromHtml])];
    return urls.length > 0 ? { state: 'found', urls } : { state: 'not-ready' };
  }
}

/** Clicks the first video thumbnail on the page, if there is one; true when it did. */
async function clickThumbnail(page: Page): Promise<boolean> {
  const thumbnail = page.locator(VIDEO_THUMBNAIL_SELECTORS.join(', ')).first();
  if ((await thumbnail.count()) === 0) return false;
  await thumbnail.click({ timeout: 2_000 }).catch(() => undefined);
  return true;
}

/** `<video>` sources and resource-timing entries that are video files. */
async function pageVideoUrls(page: Page): Promise<string[]> {
  const candidates = await page.evaluate<string[]>(`[
    ...Array.from(document.querySelectorAll('video, video source'), (el) => el.currentSrc || el.src || ''),
    ...performance.getEntriesByType('resource').map((entry) => entry.name),
  ]`);
  return candidates.filter(isVideoUrl);
}
