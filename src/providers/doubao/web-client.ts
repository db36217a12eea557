/**
 * How the provider talks to www.doubao.com as its web client would: the common query string and headers of a
 * session, a per-session bottleneck (minimum spacing and concurrency, so a burst of tasks never fires at one
 * account all at once), and one mapping from HTTP answers to session health and typed errors.
 */
import Bottleneck from 'bottleneck';
import { type Dispatcher, request } from 'undici';
import { UpstreamError } from '../../core/errors.js';
import { SESSION_EXPIRED, type Session, type SessionPool } from './session-pool.js';

export const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36';

export interface WebClientOptions {
  baseUrl: string;
  pool: SessionPool;
  /** Minimum milliseconds between two requests of one session. */
  minSpacingMs: number;
  /** Requests of one session in flight at once. */
  perSessionConcurrency: number;
  /** Headers and body must arrive within this many milliseconds (a stalled stream fails). */
  idleTimeoutMs: number;
}

/** The query string the web client appends to every www.doubao.com API call (protocol §2). */
export function commonQuery(session: Session): string {
  return new URLSearchParams({
    aid: '497858',
    device_id: session.device_id,
    device_platform: 'web',
    language: 'zh',
    pc_version: '2.23.2',
    pkg_type: 'release_version',
    real_aid: '497858',
    region: 'CN',
    samantha_web: '1',
    sys_region: 'CN',
    tea_uuid: session.tea_uuid,
    'use-olympus-account': '1',
    version_code: '20800',
    web_id: session.web_id,
  }).toString();
}

export class WebClient {
  readonly #opts: WebClientOptions;
  readonly #limiters: Bottleneck.Group;
  #stopped = false;

  constructor(options: WebClientOptions) {
    this.#opts = options;
    this.#limiters = new Bottleneck.Group({
      maxConcurrent: options.perSessionConcurrency,
      minTime: options.minSpacingMs,
    });
  }

  /** Runs `work` under the session's limiter: every upstream request of a session goes through here. */
  limited<T>(session: Session, work: () => Promise<T>): Promise<T> {
    return this.#limiters.key(session.id).schedule(work);
  }

  /** The web client's headers for a session; `referer` points at its chat page. */
  headers(session: Session, extra: Record<string, string> = {}): Record<string, string> {
    const origin = new URL(this.#opts.baseUrl).origin;
    return {
      cookie: session.cookie,
      origin,
      referer: `${origin}/chat/${session.room_id}`,
      'user-agent': USER_AGENT,
      ...extra,
    };
  }

  /** `<base>/<path>?<common query>` for a session. */
  url(session: Session, path: string): string {
    return `${this.#opts.baseUrl.replace(/\/+$/, '')}${path}?${commonQuery(session)}`;
  }

  /**
   * Sends one request through the session's limiter and checks the status: a login redirect, 401 or 403 expires
   * the session (permanent), 429 cools it down and 5xx are transient, other statuses are permanent. A 200's body
   * is handed to `read` inside the limiter, so a long answer (an SSE stream) still counts as in flight.
   */
  send<T>(
    session: Session,
    url: string,
    options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string | Uint8Array; what: string },
    read: (res: Dispatcher.ResponseData) => Promise<T>,
  ): Promise<T> {
    return this.limited(session, async () => {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: options.method,
          headers: options.headers,
          body: options.body,
          headersTimeout: this.#opts.idleTimeoutMs,
          bodyTimeout: this.#opts.idleTimeoutMs,
        });
      } catch (error) {
        throw new UpstreamError(`${options.what}: Doubao could not be reached (${(error as Error).message})`, true, {
          cause: error,
        });
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw this.statusError(session, res.statusCode, String(res.headers.location ?? ''), options.what);
      }
      try {
        return await read(res);
      } finally {
        if (!res.body.destroyed) res.body.destroy();
      }
    });
  }

  /** `send` for a JSON answer. */
  sendJson(
    session: Session,
    url: string,
    options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string | Uint8Array; what: string },
  ): Promise<unknown> {
    return this.send(session, url, options, (res) => this.json(res, options.what));
  }

  /** The typed error for a non-200 answer, updating the session's health on the way. */
  statusError(session: Session, status: number, location: string, what: string): UpstreamError {
    if (status === 401 || status === 403 || (status >= 300 && status < 400 && /login|passport/i.test(location))) {
      this.#opts.pool.markExpired(session);
      return new UpstreamError(SESSION_EXPIRED, false);
    }
    if (status === 429) {
      this.#opts.pool.coolDown(session);
      return new UpstreamError(`${what}: Doubao rate-limited this session (HTTP 429)`, true);
    }
    return new UpstreamError(`${what}: Doubao answered HTTP ${status}`, status >= 500);
  }

  /** Reads a 200 answer's JSON body; garbage is a transient failure. */
  private async json(res: Dispatcher.ResponseData, what: string): Promise<unknown> {
    let text: string;
    try {
      text = await res.body.text();
    } catch (error) {
      throw new UpstreamError(`${what}: the answer was cut off`, true, { cause: error });
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new UpstreamError(`${what}: Doubao answered with something that is not JSON`, true);
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.#limiters.limiters().map(({ limiter }) => limiter.stop({ dropWaitingJobs: false })));
  }
}
