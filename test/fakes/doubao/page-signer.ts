/**
 * The fake's stand-in for Doubao's in-page security SDK (protocol §8 "Signatures"): every page the fake serves on
 * the Doubao origin carries a script that wraps `window.fetch` and adds an `a_bogus` query parameter to the
 * page's own same-origin calls. The signature is an HMAC-SHA256 of the path, query and body under a secret the
 * fake issued to that page load (and to that session), so the fake can verify it and nothing outside a page can
 * make one. With `requireSignature` on, an unsigned or badly signed API call is refused the way §8 describes a
 * refused call: an error code inside an HTTP 200 (`body`), or a bare 403 (`403`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** How the fake refuses an unsigned call. */
export type SignatureRefusal = 'body' | '403';

/**
 * The in-body refusal. §8 names no code for a missing `a_bogus`; this one is the fake's own and deliberately none
 * of the known rate-limit, risk-control or login codes, so a client can only read it as "refused".
 */
export const UNSIGNED_REFUSAL = { code: 710012003, message: 'request signature (a_bogus) missing or invalid' };

/** What the fake saw of signatures, for tests' assertions. */
export interface SignatureCounts {
  /** API calls that carried a valid signature. */
  signed: number;
  /** API calls without one (or with a wrong one), refused or not. */
  unsigned: number;
  /** Unsigned calls refused because `requireSignature` was on. */
  refused: number;
  /** Pages issued a signing secret (page loads on the Doubao origin). */
  pages: number;
}

/** Same-origin POST calls to the Doubao web API; ImageX (`/?Action=`) and the upload store are other hosts. */
function isSignedApiCall(method: string | undefined, url: URL): boolean {
  return method === 'POST' && url.pathname !== '/' && !url.pathname.startsWith('/upload/');
}

/** What is signed: the path, the query without `a_bogus` (as the URL standard serialises it) and the body. */
function canonical(url: URL, body: string): string {
  const query = new URLSearchParams(url.search);
  query.delete('a_bogus');
  return `${url.pathname}?${query.toString()}\n${body}`;
}

/** One API call as the signature gate saw it. */
export interface GatedCall {
  path: string;
  owner: string | undefined;
  signed: boolean;
  refused: boolean;
}

export class PageSigner {
  readonly counts: SignatureCounts = { signed: 0, unsigned: 0, refused: 0, pages: 0 };
  /** Every API call the gate saw, first first. */
  readonly calls: GatedCall[] = [];
  /** page id → the secret issued with that page and the session (cookie owner) that loaded it. */
  readonly #pages = new Map<string, { secret: Buffer; owner: string | undefined }>();

  /** A `<script>` for the `<head>` of a page served to `owner`: signs that page's fetch calls. */
  script(owner: string | undefined): string {
    const pageId = randomBytes(6).toString('hex');
    const secret = randomBytes(32);
    this.#pages.set(pageId, { secret, owner });
    this.counts.pages += 1;
    // Runs before the page's own scripts, as the SDK does; crypto.subtle exists on http://127.0.0.1 (a secure context).
    return `<script>(() => {
  const pageId = ${JSON.stringify(pageId)};
  const keyBytes = Uint8Array.from(atob(${JSON.stringify(secret.toString('base64'))}), (c) => c.charCodeAt(0));
  const key = crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const pageFetch = window.fetch.bind(window);
  window.fetch = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url, location.href);
    if (url.origin !== location.origin || typeof (init.body ?? '') !== 'string') return pageFetch(input, init);
    url.searchParams.delete('a_bogus');
    const text = url.pathname + '?' + url.searchParams.toString() + '\\n' + (init.body ?? '');
    const mac = await crypto.subtle.sign('HMAC', await key, new TextEncoder().encode(text));
    const hex = Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, '0')).join('');
    url.searchParams.set('a_bogus', pageId + '.' + hex);
    return pageFetch(url.href, init);
  };
})();</script>`;
  }

  /** True when the call carries a signature made by a page the fake issued to this very session. */
  verify(url: URL, body: string, owner: string | undefined): boolean {
    const [pageId, hex] = (url.searchParams.get('a_bogus') ?? '').split('.');
    const page = pageId ? this.#pages.get(pageId) : undefined;
    // A page loaded before its login (the home page during `npm run session`) signs for whoever logs in there.
    if (!page || !hex || (page.owner !== undefined && page.owner !== owner)) return false;
    const expected = createHmac('sha256', page.secret).update(canonical(url, body)).digest();
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * Counts an API call's signature and says whether it must be refused (`requireSignature` on and not signed).
   * `body` is the call's raw body.
   */
  check(req: IncomingMessage, url: URL, body: string, owner: string | undefined, required: boolean): boolean {
    if (!isSignedApiCall(req.method, url)) return false;
    const signed = this.verify(url, body, owner);
    const refused = !signed && required;
    this.calls.push({ path: url.pathname, owner, signed, refused });
    this.counts[signed ? 'signed' : 'unsigned'] += 1;
    if (refused) this.counts.refused += 1;
    return refused;
  }
}
