/**
 * The one headless Chromium the Doubao provider runs, shared by everything that needs a browser (the chat-page
 * video finder and the page transport). It is launched on first use, launched again after it died, and every
 * user opens its own context in it so sessions never share cookies. Closing it ends every page at once.
 */
import { type Browser, type BrowserContext, chromium, type LaunchOptions } from 'playwright-core';
import { UpstreamError } from '../../core/errors.js';
import { USER_AGENT } from './transport.js';

/** Quiet, headless, no background traffic: the browser only loads what the pages ask for. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The session's cookie header as browser cookies for the Doubao site (its parent domain, as the web app sets). */
function browserCookies(cookieHeader: string, baseUrl: string) {
  const { hostname, origin } = new URL(baseUrl);
  const isName = /^[a-z\d.]+$/i.test(hostname) && !/^[\d.]+$/.test(hostname) && hostname.includes('.');
  const place = isName ? { domain: `.${hostname.split('.').slice(-2).join('.')}`, path: '/' } : { url: origin };
  return cookieHeader
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.includes('='))
    .map((part) => {
      const at = part.indexOf('=');
      return { name: part.slice(0, at), value: part.slice(at + 1), ...place };
    });
}

/** The proxy Chromium sends its traffic through (Playwright's launch option: `server`, and `bypass` hosts). */
export type BrowserProxy = NonNullable<LaunchOptions['proxy']>;

export class SharedChromium {
  readonly #path: string;
  readonly #proxy: BrowserProxy | undefined;
  #browser: Promise<Browser> | undefined;
  #closed = false;
  #launches = 0;

  constructor(executablePath: string, proxy?: BrowserProxy) {
    this.#path = executablePath;
    this.#proxy = proxy;
  }

  /** Browsers launched so far (a relaunch after a crash counts again). */
  get launches(): number {
    return this.#launches;
  }

  /** A fresh context (own cookies, the web client's user agent) in the shared browser, launching it if needed. */
  async newContext(cookieHeader: string, baseUrl: string): Promise<BrowserContext> {
    const browser = await this.#launch();
    try {
      const context = await browser.newContext({ userAgent: USER_AGENT });
      await context.addCookies(browserCookies(cookieHeader, baseUrl));
      return context;
    } catch (error) {
      throw new UpstreamError(`Chromium could not open a page: ${(error as Error).message.split('\n')[0]}`, true);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const browser = await this.#browser?.catch(() => undefined);
    this.#browser = undefined;
    await browser?.close();
  }

  #launch(): Promise<Browser> {
    if (this.#closed) return Promise.reject(new UpstreamError('the Doubao browser is shut down', true));
    if (!this.#browser) this.#launches++;
    this.#browser ??= chromium
      .launch({
        executablePath: this.#path,
        headless: true,
        args: CHROMIUM_ARGS,
        ...(this.#proxy && { proxy: this.#proxy }),
      })
      .then((browser) => {
        browser.on('disconnected', () => {
          this.#browser = undefined;
        });
        return browser;
      })
      .catch((error: Error) => {
        this.#browser = undefined;
        throw new UpstreamError(`Chromium could not start (${this.#path}): ${error.message}`, true);
      });
    return this.#browser;
  }
}
