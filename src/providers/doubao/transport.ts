/**
 * How one Doubao web API call travels: the seam between the provider (which builds calls and reads answers) and
 * the way they are sent. Every www.doubao.com API call (completion, message list, play info, prepare_upload) is a
 * `DoubaoCall` handed to a `Transport`; ImageX and the upload store are not Doubao web API calls and stay plain.
 * `HttpTransport` sends with undici and the session's cookie; a transport that sends from inside a logged-in page
 * implements the same interface, so the provider never knows which one answered.
 */
import { type Dispatcher, request } from 'undici';
import { UpstreamError } from '../../core/errors.js';
import type { Session } from './session-pool.js';

export type CallKind = 'completion' | 'list' | 'play_info' | 'upload';

export interface DoubaoCall {
  kind: CallKind;
  method: 'GET' | 'POST';
  /** Path on the Doubao origin, e.g. `/im/chain/single`. */
  path: string;
  /** The query string without `?` (the web client's common query of the session). */
  query: string;
  /** The call's own headers (content type, accept, `agw-js-conv`, `x-flow-trace`); never the cookie. */
  headers: Record<string, string>;
  body?: string;
  /** No progress for this long ends the call (HTTP: the headers, then each next piece of the body). */
  timeoutMs: number;
}

export interface DoubaoAnswer {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The body as text: all of it, or what arrived before it broke off (see `broken`). */
  body: string;
  /** The body was cut off (connection lost, idle timeout); `body` is what arrived, still worth parsing. */
  broken?: Error;
}

export interface Transport {
  /**
   * Sends one call as the session. Resolves with whatever Doubao answered (any status); rejects with a retryable
   * UpstreamError only when no answer arrived at all (unreachable, no headers in time).
   */
  send(session: Session, call: DoubaoCall): Promise<DoubaoAnswer>;
}

export const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36';

/** An answer larger than this is cut off and marked broken: no Doubao API answer comes near it. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The headers a browser on the Doubao site sends with every API call of a session. */
export function sessionHeaders(session: Session, baseUrl: string): Record<string, string> {
  const origin = new URL(baseUrl).origin;
  return {
    cookie: session.cookie,
    origin,
    referer: `${origin}/chat/${session.room_id}`,
    'user-agent': USER_AGENT,
  };
}

/** Plain HTTP with undici, as the seed did: the session's cookie and the web client's headers on every call. */
export class HttpTransport implements Transport {
  readonly #baseUrl: string;
  readonly #dispatcher: Dispatcher | undefined;

  /** `dispatcher`: how requests travel (the configured proxy); absent → undici's default. */
  constructor(options: { baseUrl: string; dispatcher?: Dispatcher }) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#dispatcher = options.dispatcher;
  }

  async send(session: Session, call: DoubaoCall): Promise<DoubaoAnswer> {
    const url = `${this.#baseUrl}${call.path}${call.query ? `?${call.query}` : ''}`;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: call.method,
        headers: { ...sessionHeaders(session, this.#baseUrl), ...call.headers },
        ...(call.body !== undefined && { body: call.body }),
        headersTimeout: call.timeoutMs,
        bodyTimeout: call.timeoutMs,
        ...(this.#dispatcher && { dispatcher: this.#dispatcher }),
      });
    } catch (error) {
      throw new UpstreamError(`Doubao could not be reached (${(error as Error).message})`, true, { cause: error });
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let broken: Error | undefined;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          broken = new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
          break;
        }
        chunks.push(chunk);
      }
    } catch (error) {
      broken = error as Error;
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
    return { status: res.statusCode, headers, body: Buffer.concat(chunks).toString('utf8'), ...(broken && { broken }) };
  }
}
