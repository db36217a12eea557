/**
 * Getting a Doubao session the way the seed's `auto_get_session.py` did (protocol §1): a visible Chromium opens
 * Doubao, the user logs in and sends any message, and the first `/samantha/chat/completion` request gives the
 * six fields — ids from its query string, `x-flow-trace` from its headers, the room from its referer (or better,
 * the address bar once it shows a real `/chat/<id>`), and the cookie header from the browser's cookies.
 */
import { chromium, type Request } from 'playwright-core';
import type { BrowserProxy } from './chromium.js';
import type { SessionFields } from './session-file.js';

export interface CaptureOptions {
  chromiumPath: string;
  baseUrl: string;
  /** How long the user has to log in and send a message. @defaultValue 5 minutes */
  timeoutMs?: number;
  /** Tests drive a scripted page headless; people need to see the window. @defaultValue false */
  headless?: boolean;
  /** The configured proxy (src/proxy.ts `browserProxy`); absent → direct. */
  proxy?: BrowserProxy;
}

const COMPLETION = /\/samantha\/chat\/completion/;

/** The room id in a `/chat/<id>` path; `local_…` ids are the page's placeholders before the server answers. */
function roomIdOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const id = /\/chat\/([^/?#]+)/.exec(new URL(url).pathname)?.[1];
  return id && !id.startsWith('local_') ? id : undefined;
}

/** Opens Chromium at Doubao and resolves with the captured session once the user has sent a message. */
export async function captureSession(options: CaptureOptions): Promise<SessionFields> {
  const browser = await chromium.launch({
    executablePath: options.chromiumPath,
    headless: options.headless ?? false,
    args: ['--no-first-run', '--disable-sync'],
    ...(options.proxy && { proxy: options.proxy }),
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const sent = context.waitForEvent('request', {
      predicate: (request: Request) => COMPLETION.test(request.url()),
      timeout: options.timeoutMs ?? 5 * 60_000,
    });
    await page.goto(options.baseUrl);
    const request = await sent;
    const query = new URL(request.url()).searchParams;
    const headers = await request.allHeaders();
    await request.response().catch(() => null); // the page moves to /chat/<real id> once the answer starts
    await page.waitForURL((url) => roomIdOf(url.href) !== undefined, { timeout: 5_000 }).catch(() => undefined);
    const referer = headers.referer ? new URL(headers.referer).pathname.split('/').filter(Boolean).pop() : undefined;
    const cookies = await context.cookies(options.baseUrl);
    const fields = {
      cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; '),
      device_id: query.get('device_id') ?? '',
      tea_uuid: query.get('tea_uuid') ?? '',
      web_id: query.get('web_id') ?? '',
      room_id: roomIdOf(page.url()) ?? referer ?? '',
      x_flow_trace: headers['x-flow-trace'] ?? '',
    };
    const missing = Object.entries(fields)
      .filter(([, value]) => !value)
      .map(([name]) => name);
    if (missing.length > 0) throw new Error(`the captured request lacked ${missing.join(', ')}; try again`);
    return fields;
  } finally {
    await browser.close();
  }
}
