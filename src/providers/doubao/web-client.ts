/**
 * How the provider talks to www.doubao.com as its web client would: the common query string of a session, a
 * per-session limit (minimum spacing and concurrency, so a burst of tasks never fires at one account all at once:
 * this process's bottleneck, or the cluster's shared limiter with DATABASE_URL), every API call through the
 * `Transport`, and one mapping from Doubao's answers (`codes.ts`) to session health and typed errors. ImageX and
 * the upload store are not Doubao web API calls: `sendPlainJson` sends those.
 */
import { randomUUID } from 'node:crypto';
import Bottleneck from 'bottleneck';
import { type Dispatcher, request } from 'undici';
import { UpstreamError } from '../../core/errors.js';
import type { LimiterSlot, LimitRules, UpstreamLimiter } from '../../core/upstream-limiter.js';
import { type Classification, classifyAnswer } from './codes.js';
import type { Dialect } from './dialect.js';
import type { Session } from './session-pool.js';
import type { CallKind, DoubaoAnswer, Transport } from './transport.js';

export { USER_AGENT } from './transport.js';

/** What the client tells the session's keeper about an answer that named the session's state. */
export type SessionVerdict = Exclude<Classification, { kind: 'ok' }>;

export interface WebClientOptions {
  transport: Transport;
  /** Minimum milliseconds between two requests of one session. */
  minSpacingMs: number;
  /** Requests of one session in flight at once. */
  perSessionConcurrency: number;
  /** Headers and each next piece of a body must arrive within this many milliseconds. */
  idleTimeoutMs: number;
  /**
   * Told of every answer that says something about the session (rate limited, risk control, logged out); returns
   * the error the call ends with.
   */
  onVerdict(session: Session, verdict: SessionVerdict, what: string): UpstreamError;
  /** Told of every answer that carried no error code: the session works. */
  onSuccess(session: Session): void;
  /** How plain requests to ImageX and the upload store travel (the configured proxy); absent → undici's default. */
  dispatcher?: Dispatcher;
  /**
   * The limiter every process of a cluster shares (PostgreSQL, with DATABASE_URL): a session's spacing and
   * concurrency then hold across all of them, under the key `doubao:<session id>`. Absent → this process's own
   * bottleneck per session. Its owner closes it.
   */
  sharedLimiter?: UpstreamLimiter;
}

export interface CallSpec {
  kind: CallKind;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** What the call is for, in the error messages. */
  what: string;
  /** Statuses besides 200 the caller reads itself (e.g. 404 from an endpoint a dialect lacks). */
  accept?: number[];
  /** false: return the answer unjudged; the caller looks at it first and then calls `judge`. @defaultValue true */
  judge?: boolean;
  /** Which web client's query string the call carries. @defaultValue '2025' */
  dialect?: Dialect;
}

/**
 * The query string the web client appends to every www.doubao.com API call: protocol §2 for the 2025 dialect;
 * the 2026 client (§8, and a capture of the 3.27 page) sends a newer `pc_version`, `web_platform`, its tab's id,
 * `doubao_device_platform` and the `s_v_web_id` cookie as `fp`.
 */
export function commonQuery(session: Session, dialect: Dialect = '2025', tabId = ''): string {
  const query = new URLSearchParams({
    aid: '497858',
    device_id: session.device_id,
    device_platform: 'web',
    language: 'zh',
    pc_version: dialect === '2026' ? '3.27.0' : '2.23.2',
    pkg_type: 'release_version',
    real_aid: '497858',
    region: 'CN',
    samantha_web: '1',
    sys_region: 'CN',
    tea_uuid: session.tea_uuid,
    'use-olympus-account': '1',
    version_code: '20800',
    web_id: session.web_id,
  });
  if (dialect === '2026') {
    query.set('doubao_pc_version', '3.27.0');
    query.set('web_platform', 'browser');
    query.set('doubao_device_platform', 'web');
    if (tabId) query.set('web_tab_id', tabId);
    const fp = /(?:^|;\s*)s_v_web_id=([^;]+)/.exec(session.cookie)?.[1];
    if (fp) query.set('fp', fp);
  }
  return query.toString();
}

export class WebClient {
  readonly #opts: WebClientOptions;
  /** This process's limiters, one per session, or the cluster's shared limiter. */
  readonly #limiter: Bottleneck.Group | UpstreamLimiter;
  readonly #rules: LimitRules;
  /** Work under the shared limiter (waiting for a slot or running), which `stop` waits for as bottleneck does. */
  readonly #sharedWork = new Set<Promise<unknown>>();
  /** This client's "browser tab", as the 2026 web client names itself in every query. */
  readonly #tabId = randomUUID();
  #stopped = false;

  constructor(options: WebClientOptions) {
    this.#opts = options;
    this.#rules = { maxConcurrent: options.perSessionConcurrency, minSpacingMs: options.minSpacingMs };
    this.#limiter =
      options.sharedLimiter ??
      new Bottleneck.Group({ maxConcurrent: options.perSessionConcurrency, minTime: options.minSpacingMs });
  }

  /** Runs `work` under the session's limiter: every upstream request of a session goes through here. */
  limited<T>(session: Session, work: () => Promise<T>): Promise<T> {
    if (this.#limiter instanceof Bottleneck.Group) return this.#limiter.key(session.id).schedule(work);
    if (this.#stopped) return Promise.reject(new UpstreamError('the Doubao client has stopped', true));
    const running = this.#sharedLimited(this.#limiter, session, work);
    this.#sharedWork.add(running);
    const forget = () => this.#sharedWork.delete(running);
    running.then(forget, forget);
    return running;
  }

  /**
   * `work` holding a slot of the session's key in the cluster's limiter. A slot that cannot be had (the database is
   * unreachable) is a transient failure: the task is tried again later. A slot that cannot be let go does not undo
   * the work (a video Doubao has accepted must not be asked for again); it counts until this process's keeper
   * connection to the database drops, which an outage that broke the release usually does.
   */
  async #sharedLimited<T>(limiter: UpstreamLimiter, session: Session, work: () => Promise<T>): Promise<T> {
    let slot: LimiterSlot;
    try {
      slot = await limiter.acquire(`doubao:${session.id}`, this.#rules);
    } catch (error) {
      throw new UpstreamError(
        `the cluster's request limit of the Doubao session could not be taken (${(error as Error).message})`,
        true,
        { cause: error },
      );
    }
    try {
      return await work();
    } finally {
      await slot.release().catch(() => undefined);
    }
  }

  /**
   * Sends one Doubao web API call through the transport under the session's limiter. An answer with a Doubao
   * error code ends in the error `onVerdict` gives (and updates the session); another status than 200 (or one
   * of `accept`) is a typed error, 5xx transient. A broken body is returned as it arrived: the caller decides.
   */
  async call(session: Session, spec: CallSpec): Promise<DoubaoAnswer> {
    const answer = await this.limited(session, () =>
      this.#opts.transport.send(session, {
        kind: spec.kind,
        method: spec.method,
        path: spec.path,
        query: commonQuery(session, spec.dialect, this.#tabId),
        headers: spec.headers ?? {},
        ...(spec.body !== undefined && { body: spec.body }),
        timeoutMs: this.#opts.idleTimeoutMs,
      }),
    );
    if (spec.judge !== false) this.judge(session, answer, spec.what, spec.accept);
    return answer;
  }

  /**
   * Throws the error an answer means (a Doubao code, updating the session's health; another status than 200 or
   * `accept`, 5xx transient); an answer without a code tells the session's keeper the session works.
   */
  judge(session: Session, answer: DoubaoAnswer, what: string, accept: number[] = []): void {
    const verdict = classifyAnswer(answer);
    if (verdict.kind !== 'ok') throw this.#opts.onVerdict(session, verdict, what);
    if (answer.status === 200) this.#opts.onSuccess(session);
    else if (!accept.includes(answer.status)) {
      throw new UpstreamError(`${what}: Doubao answered HTTP ${answer.status}`, answer.status >= 500);
    }
  }

  /** `call` for a JSON answer; a cut-off or garbled body is a transient failure. */
  async callJson(session: Session, spec: CallSpec): Promise<unknown> {
    const answer = await this.call(session, spec);
    if (answer.broken) throw new UpstreamError(`${spec.what}: the answer was cut off`, true, { cause: answer.broken });
    return parseJson(answer.body, spec.what);
  }

  /** A plain JSON request to ImageX or the upload store (no Doubao cookie), under the session's limiter. */
  sendPlainJson(
    session: Session,
    url: string,
    options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string | Uint8Array; what: string },
  ): Promise<unknown> {
    return this.limited(session, async () => {
      let text: string;
      let status: number;
      try {
        const res = await request(url, {
          method: options.method,
          headers: options.headers,
          body: options.body,
          headersTimeout: this.#opts.idleTimeoutMs,
          bodyTimeout: this.#opts.idleTimeoutMs,
          ...(this.#opts.dispatcher && { dispatcher: this.#opts.dispatcher }),
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (error) {
        throw new UpstreamError(
          `${options.what}: the upload host could not be reached or cut off (${(error as Error).message})`,
          true,
          { cause: error },
        );
      }
      if (status === 429) throw new UpstreamError(`${options.what}: the upload host rate-limited us (HTTP 429)`, true);
      if (status !== 200)
        throw new UpstreamError(`${options.what}: the upload host answered HTTP ${status}`, status >= 500);
      return parseJson(text, options.what);
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#limiter instanceof Bottleneck.Group) {
      const group = this.#limiter;
      await Promise.all(group.limiters().map(({ limiter }) => limiter.stop({ dropWaitingJobs: false })));
    }
    // Work already handed to the shared limiter ends as it would under bottleneck: waited for, not dropped.
    await Promise.allSettled([...this.#sharedWork]);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError(`${what}: Doubao answered with something that is not JSON`, true);
  }
}
