/**
 * Which way a Doubao web API call travels (`DOUBAO_TRANSPORT`): `http` always plain undici, `page` always from
 * inside the session's logged-in page, `auto` (the default) plain while plain works. In `auto`, a plain call that
 * Doubao refuses (HTTP 403, or an in-body code that is neither a rate limit nor a login problem: `codes.ts` calls
 * it `refused`) is sent once more from the page; when the page's answer is not refused too, the session keeps
 * using the page for that kind of call from then on. That choice is kept in the provider's durable state
 * (`transport:<session id>:<kind>`), so a restart does not pay for the refused call again.
 */
import type { Logger } from 'pino';
import type { ProviderStateStore } from '../provider.js';
import { classifyAnswer } from './codes.js';
import type { Session } from './session-pool.js';
import type { CallKind, DoubaoAnswer, DoubaoCall, Transport } from './transport.js';

export type TransportMode = 'auto' | 'http' | 'page';
type Route = 'http' | 'page';

/** A completion whose stream already acknowledged a video job: sending it again would start a second video. */
const JOB_ACKNOWLEDGED = /"event_type"\s*:\s*2002\b|\bSSE_ACK\b/;

function transportStateKey(sessionId: string, kind: CallKind): string {
  return `transport:${sessionId}:${kind}`;
}

export class TransportSelector implements Transport {
  readonly #mode: TransportMode;
  readonly #http: Transport;
  readonly #page: Transport;
  readonly #log: Logger | undefined;
  /** In memory until the provider is attached to the core's durable state. */
  #state: Pick<ProviderStateStore, 'get' | 'set' | 'entries'> = memoryState();

  constructor(options: { mode: TransportMode; http: Transport; page: Transport; log?: Logger }) {
    this.#mode = options.mode;
    this.#http = options.http;
    this.#page = options.page;
    this.#log = options.log;
  }

  /** Keeps (and reads back) the sessions' choices in the core's durable state from now on. */
  useState(state: ProviderStateStore): void {
    this.#state = state;
  }

  /** The calls each session sends from its page in `auto` mode, for status: `{ <session id>: ['list', …] }`. */
  pageRoutes(): Record<string, CallKind[]> {
    const routes: Record<string, CallKind[]> = {};
    for (const [key, route] of this.#state.entries<Route>('transport:')) {
      const [, sessionId, kind] = key.split(':');
      if (route === 'page' && sessionId && kind) routes[sessionId] = [...(routes[sessionId] ?? []), kind as CallKind];
    }
    return routes;
  }

  async send(session: Session, call: DoubaoCall): Promise<DoubaoAnswer> {
    if (this.#mode !== 'auto') return (this.#mode === 'page' ? this.#page : this.#http).send(session, call);
    const key = transportStateKey(session.id, call.kind);
    if (this.#state.get<Route>(key) === 'page') return this.#page.send(session, call);
    const plain = await this.#http.send(session, call);
    const verdict = classifyAnswer(plain);
    if (verdict.kind !== 'refused' || (call.kind === 'completion' && JOB_ACKNOWLEDGED.test(plain.body))) return plain;
    this.#log?.info(
      { session: session.id, kind: call.kind, code: verdict.code },
      'Doubao refused a plain call; sending it again from a logged-in page',
    );
    const fromPage = await this.#page.send(session, call);
    if (classifyAnswer(fromPage).kind !== 'refused') {
      this.#state.set(key, 'page');
      this.#log?.info({ session: session.id, kind: call.kind }, 'this session now sends these calls from its page');
    }
    return fromPage;
  }
}

function memoryState(): Pick<ProviderStateStore, 'get' | 'set' | 'entries'> {
  const values = new Map<string, unknown>();
  return {
    get: <T>(key: string) => values.get(key) as T | undefined,
    set: (key, value) => void values.set(key, value),
    entries: <T>(prefix: string) => [...values.entries()].filter(([key]) => key.startsWith(prefix)) as [string, T][],
  };
}
