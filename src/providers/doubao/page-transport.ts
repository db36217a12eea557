/**
 * Doubao web API calls sent from inside a logged-in page (protocol §8 "Signatures"): each session keeps at most
 * one page open on the Doubao origin, in its own context of the shared Chromium with the session's cookies, and a
 * call is the page's own `fetch`, so the page's security script signs it (`a_bogus`) and the browser adds the
 * cookies, exactly as when a person uses the site.
 *
 * Bounded: one page per session, closed after `idleMs` without a call; every call has a time limit, and a call
 * that overruns it fails as a transient UpstreamError and takes its page down with it (the next call opens a
 * fresh one), since a page that hung once is not trusted again.
 */

import type { Logger } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { UpstreamError } from '../../core/errors.js';
import type { SharedChromium } from './chromium.js';
import { LOGIN_PAGE } from './page-signals.js';
import type { Session } from './session-pool.js';
import type { DoubaoAnswer, DoubaoCall, Transport } from './transport.js';

export interface PageTransportOptions {
  chromium: SharedChromium;
  baseUrl: string;
  /** A session's page is closed after this many milliseconds without a call. @defaultValue 300 000 */
  idleMs?: number;
  /** Loading the page may take this long, ms. @defaultValue 30 000 */
  loadTimeoutMs?: number;
  log?: Logger;
}

/** Headers only the browser may set (fetch drops or refuses them): the page supplies its own. */
const BROWSER_HEADERS = new Set(['cookie', 'origin', 'referer', 'user-agent', 'host', 'content-length', 'connection']);

/**
 * The call as the page runs it: the page's `fetch` (wrapped by its security script), the answer read to the end
 * or to where it broke off. A redirect to the login page is reported as that redirect, as plain HTTP would see it.
 * A string, not a function, so no bundler helper leaks into the page.
 */
const PAGE_FETCH = `async ({ url, method, headers, body, loginPage }) => {
  const res = await fetch(url, { method, headers, body, credentials: 'include' });
  const answer = { status: res.status, headers: {}, body: '' };
  res.headers.forEach((value, name) => { answer.headers[name] = value; });
  if (res.redirected && new RegExp(loginPage, 'i').test(new URL(res.url).pathname)) {
    return { status: 302, headers: { location: new URL(res.url).pathname }, body: '' };
  }
  const decoder = new TextDecoder();
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      answer.body += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    answer.broken = String(error && error.message || error);
  }
  return answer;
}`;

interface PageAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  broken?: string;
}

/** One session's page: opened once, shared by that session's calls, closed when idle or broken. */
interface SessionPage {
  context: Promise<BrowserContext>;
  page: Promise<Page>;
  inFlight: number;
  idleTimer?: NodeJS.Timeout;
}

export class PageTransport implements Transport {
  readonly #opts: Required<Omit<PageTransportOptions, 'log'>> & { log?: Logger };
  readonly #pages = new Map<string, SessionPage>();
  #opened = 0;
  #closed = false;

  constructor(options: PageTransportOptions) {
    this.#opts = { idleMs: 300_000, loadTimeoutMs: 30_000, ...options };
  }

  /** Pages open now (at most one per session) and pages opened since start, for status and tests. */
  get pages(): { open: number; opened: number } {
    return { open: this.#pages.size, opened: this.#opened };
  }

  async send(session: Session, call: DoubaoCall): Promise<DoubaoAnswer> {
    if (this.#closed) throw new UpstreamError('the Doubao page transport is shut down', true);
    const slot = this.#slot(session);
    slot.inFlight += 1;
    clearTimeout(slot.idleTimer);
    let timer: NodeJS.Timeout | undefined;
    try {
      // Opening the page has its own limit (`loadTimeoutMs`); the call's limit starts once the page is there.
      const page = await slot.page;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new UpstreamError(`no answer from the Doubao page within ${call.timeoutMs / 1000} s`, true));
          this.#log('a page call timed out; the page is recycled', session);
          void this.#recycle(session.id, slot);
        }, call.timeoutMs);
      });
      const answer = await Promise.race([this.#fetch(page, call), timeout]);
      return {
        status: answer.status,
        headers: answer.headers,
        body: answer.body,
        ...(answer.broken !== undefined && { broken: new Error(answer.broken) }),
      };
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      void this.#recycle(session.id, slot);
      throw new UpstreamError(`the Doubao page failed: ${(error as Error).message.split('\n')[0]}`, true, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      slot.inFlight -= 1;
      if (slot.inFlight === 0 && this.#pages.get(session.id) === slot) this.#armIdle(session.id, slot);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pages.entries()].map(([id, slot]) => this.#recycle(id, slot)));
  }

  /** The session's page, opening it (one per session) when there is none; a page that fails to open is dropped. */
  #slot(session: Session): SessionPage {
    const open = this.#pages.get(session.id);
    if (open) return open;
    this.#opened += 1;
    const context = this.#opts.chromium.newContext(session.cookie, this.#opts.baseUrl);
    const slot: SessionPage = { context, page: context.then((c) => this.#load(c, session)), inFlight: 0 };
    // A page that closes by itself (it crashed, or the browser died) is forgotten at once, so the next call opens
    // a fresh one instead of failing on the dead one.
    slot.page.then(
      (page) => page.once('close', () => void this.#recycle(session.id, slot)),
      () => this.#recycle(session.id, slot),
    );
    this.#pages.set(session.id, slot);
    return slot;
  }

  async #load(context: BrowserContext, session: Session): Promise<Page> {
    const page = await context.newPage();
    const home = `${new URL(this.#opts.baseUrl).origin}/chat/`;
    try {
      await page.goto(home, { waitUntil: 'domcontentloaded', timeout: this.#opts.loadTimeoutMs });
    } catch (error) {
      throw new UpstreamError(`the Doubao page did not load: ${(error as Error).message.split('\n')[0]}`, true);
    }
    this.#log('Doubao page opened', session);
    return page;
  }

  #fetch(page: Page, call: DoubaoCall): Promise<PageAnswer> {
    const headers = Object.fromEntries(
      Object.entries(call.headers).filter(([name]) => !BROWSER_HEADERS.has(name.toLowerCase())),
    );
    const args = {
      url: `${call.path}${call.query ? `?${call.query}` : ''}`,
      method: call.method,
      headers,
      body: call.body,
      loginPage: LOGIN_PAGE.source,
    };
    return page.evaluate<PageAnswer>(`(${PAGE_FETCH})(${JSON.stringify(args)})`);
  }

  #armIdle(sessionId: string, slot: SessionPage): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => void this.#recycle(sessionId, slot), this.#opts.idleMs);
    slot.idleTimer.unref?.();
  }

  /** Forgets the session's page and closes its context: the page goes with it, a load under way is aborted. */
  async #recycle(sessionId: string, slot: SessionPage): Promise<void> {
    clearTimeout(slot.idleTimer);
    if (this.#pages.get(sessionId) === slot) this.#pages.delete(sessionId);
    const context = await slot.context.catch(() => undefined);
    await context?.close().catch(() => undefined);
  }

  #log(message: string, session: Session): void {
    this.#opts.log?.debug({ session: session.id }, message);
  }
}
