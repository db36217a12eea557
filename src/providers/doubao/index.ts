/**
 * The `doubao` provider: the Doubao web chat as a video generator, in the 2026 dialect of its web protocol with
 * the 2025 one as fallback (`shared/doubao-protocol.md`). Every web API call goes through a `Transport` under a
 * per-session limiter (`DOUBAO_TRANSPORT`: plain undici, or the session's logged-in page when Doubao wants calls
 * signed; the limiter is the cluster's shared one when given, so a session's limits hold across processes); a
 * look at a job is one message-list call, the chat page in headless Chromium only when the list cannot tell. Both browser users share one Chromium. Each ref records the owning session's id (never its cookie), so
 * looks after a restart use the session that created the conversation. Session health, dialect and transport
 * choices live in the provider's durable state.
 */
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { UpstreamError } from '../../core/errors.js';
import { withReason } from '../../core/reasons.js';
import type { UpstreamLimiter } from '../../core/upstream-limiter.js';
import type {
  ImageInput,
  ImageRef,
  PollResult,
  PollTiming,
  ProviderHost,
  StartRequest,
  UpstreamRef,
  VideoProvider,
} from '../provider.js';
import { type BrowserProxy, SharedChromium } from './chromium.js';
import { DOUBAO_CAPABILITIES, requestVideo } from './completion.js';
import { lookInConversation } from './conversation-look.js';
import { DialectMemory } from './dialect.js';
import { PageTransport } from './page-transport.js';
import { VideoRetriever } from './retriever.js';
import type { SessionState } from './session-health.js';
import { SESSION_EXPIRED, type Session, SessionPool } from './session-pool.js';
import { HttpTransport, type Transport } from './transport.js';
import { type TransportMode, TransportSelector } from './transport-selector.js';
import { type Attachment, uploadImage } from './upload.js';
import { type SessionVerdict, WebClient } from './web-client.js';

export interface DoubaoProviderOptions {
  sessionsFile: string;
  baseUrl: string;
  imagexUrl: string;
  uploadUrl: string;
  chromiumPath: string;
  /** Minimum spacing of one session's requests, ms. @defaultValue 500 */
  minSpacingMs?: number;
  /** One session's requests in flight at once. @defaultValue 2 */
  perSessionConcurrency?: number;
  /** How long a rate-limited session first rests, ms; doubled each time again. @defaultValue 600 000 */
  cooldownMs?: number;
  /** The longest rest of a rate-limited session, ms. @defaultValue 6 h */
  maxCooldownMs?: number;
  /** How long risk control pauses a session, ms. @defaultValue 1 h */
  riskPauseMs?: number;
  /** First look this long after the start, s. @defaultValue 150 */
  firstCheckS?: number;
  /** Then a look every this many seconds, s. @defaultValue 15 */
  pollIntervalS?: number;
  /** Looks go on this long after the start before the task gives up, s. @defaultValue 1200 */
  maxWaitS?: number;
  /** A request whose headers or next body chunk take longer fails, ms. @defaultValue 60 000 */
  idleTimeoutMs?: number;
  /** Hard limit of one chat-page look, ms. @defaultValue 60 000 */
  retrieveTimeoutMs?: number;
  /** How long a loaded chat page is watched for a video, ms. @defaultValue 8 000 */
  settleMs?: number;
  /** Chat-page looks (browser contexts) at once. @defaultValue 2 */
  browserConcurrency?: number;
  /** How Doubao web API calls travel: plain HTTP, the session's page, or plain until refused. @defaultValue 'auto' */
  transportMode?: TransportMode;
  /** A session's page (page transport) is closed after this long without a call, ms. @defaultValue 300 000 */
  pageIdleMs?: number;
  /** How plain HTTP calls travel: the configured proxy (src/proxy.ts); absent → direct. */
  dispatcher?: Dispatcher;
  /** The proxy the headless Chromium uses (page transport, chat-page looks); absent → direct. */
  browserProxy?: BrowserProxy;
  /**
   * The limiter all processes of a cluster share (PostgreSQL, with DATABASE_URL): each session's spacing and
   * concurrency then hold for the whole cluster. Absent → limits per process. The provider does not close it.
   */
  sharedLimiter?: UpstreamLimiter;
  /** Replaces the transport `transportMode` would build (tests that script the wire). */
  transport?: Transport;
  log?: Logger;
}

/** The job reference stored with each task. `sessionId` is the owning session's hash, safe to store. */
interface DoubaoRef extends UpstreamRef {
  conversationId: string;
  messageId: string;
  sectionId: string;
  sessionId: string;
}

/** What `uploadImage` returns: the chat attachment and the session it was uploaded with. */
interface DoubaoImage extends ImageRef {
  attachment: Attachment;
  sessionId: string;
}

/** An error about the session rather than the request: another session may do. */
class SessionTrouble extends UpstreamError {}

/** The doubao timing: first look after `firstCheckS`, then every `pollIntervalS`, looks enough for `maxWaitS`. */
export function doubaoTiming(firstCheckS = 150, pollIntervalS = 15, maxWaitS = 1200): PollTiming {
  const interval = Math.max(0.1, pollIntervalS); // DOUBAO_POLL_INTERVAL_S=0 must not mean a million looks
  return {
    firstAttemptDelayS: firstCheckS,
    retryIntervalS: pollIntervalS,
    maxAttempts: Math.max(1, Math.ceil(Math.max(0, maxWaitS - firstCheckS) / interval) + 1),
  };
}

export interface DoubaoProvider extends VideoProvider {
  /** Chromium browsers launched so far (a look through the list API launches none, nor does a plain call). */
  readonly browserLaunches: number;
}

export async function createDoubaoProvider(options: DoubaoProviderOptions): Promise<DoubaoProvider> {
  const pool = await SessionPool.load(options.sessionsFile, {
    cooldownMs: options.cooldownMs ?? 600_000,
    maxCooldownMs: options.maxCooldownMs ?? 6 * 3_600_000,
    riskPauseMs: options.riskPauseMs ?? 3_600_000,
  });
  const dialects = new DialectMemory();
  const log = options.log?.child({ provider: 'doubao' });

  /** What an answer's Doubao code means for the session, and the error the call ends with. */
  const onVerdict = (session: Session, verdict: SessionVerdict, what: string): UpstreamError => {
    log?.warn({ session: session.id, kind: verdict.kind, code: verdict.code }, `Doubao: ${what} refused`);
    const tag = { upstreamCode: verdict.code };
    if (verdict.kind === 'login' || (verdict.kind === 'refused' && verdict.code === 'HTTP 403')) {
      pool.book.expired(session, verdict.code, verdict.message);
      return withReason(new SessionTrouble(SESSION_EXPIRED, false, tag), 'SESSION_EXPIRED');
    }
    if (verdict.kind === 'rate_limited') {
      pool.book.rateLimited(session, verdict.code, verdict.message);
      return new SessionTrouble(`${what}: Doubao rate-limited this session (code ${verdict.code})`, true, tag);
    }
    if (verdict.kind === 'risk_control') {
      pool.book.riskControlled(session, verdict.code, verdict.message);
      return new SessionTrouble(
        `${what}: Doubao's risk control paused this session (code ${verdict.code}); an operator has been told`,
        true,
        tag,
      );
    }
    return new UpstreamError(
      `Doubao refused the request: ${verdict.message || 'no reason given'} (code ${verdict.code})`,
      false,
      tag,
    );
  };
  const chromium = new SharedChromium(options.chromiumPath, options.browserProxy);
  const pages = new PageTransport({
    chromium,
    baseUrl: options.baseUrl,
    ...(options.pageIdleMs !== undefined && { idleMs: options.pageIdleMs }),
    ...(log && { log }),
  });
  const selector = new TransportSelector({
    mode: options.transportMode ?? 'auto',
    http: new HttpTransport({
      baseUrl: options.baseUrl,
      ...(options.dispatcher && { dispatcher: options.dispatcher }),
    }),
    page: pages,
    ...(log && { log }),
  });
  const client = new WebClient({
    transport: options.transport ?? selector,
    onVerdict,
    onSuccess: (session) => pool.book.succeeded(session),
    minSpacingMs: options.minSpacingMs ?? 500,
    perSessionConcurrency: options.perSessionConcurrency ?? 2,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    ...(options.dispatcher && { dispatcher: options.dispatcher }),
    ...(options.sharedLimiter && { sharedLimiter: options.sharedLimiter }),
  });
  const retriever = new VideoRetriever({
    chromium,
    baseUrl: options.baseUrl,
    attemptTimeoutMs: options.retrieveTimeoutMs ?? 60_000,
    settleMs: options.settleMs ?? 8_000,
    concurrency: options.browserConcurrency ?? 2,
  });
  log?.info({ sessions: pool.health() }, 'Doubao session pool loaded');

  /** Asks for the video with `session`, or with each usable session in turn while the trouble is the session's. */
  async function startWith(first: Session | undefined, req: StartRequest, attachments: Attachment[]) {
    const tried = new Set<string>();
    let trouble: SessionTrouble | undefined;
    for (;;) {
      let session = first;
      if (!session) {
        try {
          session = pool.pick(req.guest, tried);
        } catch (error) {
          // No other session to try: what the last one hit is the clearer reason (a permanent pick error wins).
          throw trouble && !(error instanceof UpstreamError && !error.retryable) ? trouble : error;
        }
      }
      try {
        return {
          session,
          ids: await requestVideo({
            client,
            pool,
            dialects,
            session,
            prompt: req.prompt,
            attachments,
            ...(req.options && { options: req.options }),
          }),
        };
      } catch (error) {
        // An uploaded image belongs to its session: no other session can use it.
        if (first || !(error instanceof SessionTrouble)) throw error;
        trouble = error;
        tried.add(session.id);
      }
    }
  }

  /**
   * The chat page in Chromium: the last resort when the list cannot tell. The page calls Doubao as the session, so
   * the look holds one of the session's slots (cluster-wide with a shared limiter); the retriever's own bound on
   * browser contexts stays per process, as it spares this machine's memory, not Doubao.
   */
  async function lookOnPage(session: Session, conversationId: string): Promise<PollResult> {
    const found = await client.limited(session, () => retriever.find(session, conversationId));
    if (found.state === 'logged-out') {
      pool.book.expired(session, 'login page', 'the chat page asked to log in');
      return { state: 'failed', reason: SESSION_EXPIRED, retryable: false, reasonCode: 'SESSION_EXPIRED' };
    }
    return found.state === 'found' ? { state: 'succeeded', videoUrls: found.urls } : { state: 'running' };
  }

  return {
    name: 'doubao',
    timing: doubaoTiming(options.firstCheckS, options.pollIntervalS, options.maxWaitS),
    capabilities: DOUBAO_CAPABILITIES,

    attach(host: ProviderHost): void {
      pool.attach(host.state, (incident) => host.reportIncident(incident));
      dialects.attach(host.state);
      selector.useState(host.state);
      log?.info({ sessions: pool.health() }, 'Doubao session health read from the database');
    },

    async uploadImage(image: ImageInput): Promise<ImageRef> {
      const session = pool.pick(false);
      const attachment = await uploadImage(client, options, session, image);
      return { attachment, sessionId: session.id } satisfies DoubaoImage;
    },

    async start(req: StartRequest): Promise<UpstreamRef> {
      const image = req.image as DoubaoImage | undefined;
      const owner = image ? pool.owner(image.sessionId) : undefined;
      const { session, ids } = await startWith(owner, req, image ? [image.attachment] : []);
      log?.info({ session: session.id, conversationId: ids.conversationId }, 'Doubao video requested');
      return { id: `${ids.conversationId}_${ids.messageId}`, ...ids, sessionId: session.id } satisfies DoubaoRef;
    },

    async poll(upstream: UpstreamRef): Promise<PollResult> {
      const ref = upstream as DoubaoRef;
      const session = pool.owner(ref.sessionId);
      const startedAt = Date.now();
      const look = await lookInConversation(client, session, ref.conversationId);
      log?.debug(
        { session: session.id, conversationId: ref.conversationId, look, ms: Date.now() - startedAt },
        'Doubao look',
      );
      switch (look.state) {
        case 'found':
          return { state: 'succeeded', videoUrls: look.urls };
        case 'running':
          return look.progress === undefined ? { state: 'running' } : { state: 'running', progress: look.progress };
        case 'refused':
          return { state: 'failed', reason: look.reason, retryable: false };
        case 'unknown':
          return lookOnPage(session, ref.conversationId);
      }
    },

    status: () => ({ sessions: pool.health(), pages: pages.pages, pageRoutes: selector.pageRoutes() }),

    sessionStates(): Record<string, number> {
      // Every state is reported, 0 included, so a dashboard shows a state's series before the first session has it.
      const counts: Record<SessionState, number> = { ok: 0, cooling: 0, paused: 0, expired: 0 };
      for (const s of pool.health()) counts[s.state]++;
      return counts;
    },

    // One message-list call, judged like every call: a login refusal marks the session expired, an answer marks a
    // resting session ok. What the call itself says about the (absent) conversation does not matter.
    async recheck(accountId: string): Promise<void> {
      const session = pool.all().find((s) => s.id === accountId);
      if (!session) throw new UpstreamError(`no Doubao session "${accountId}" in ${options.sessionsFile}`, false);
      try {
        await lookInConversation(client, session, '0');
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        log?.info({ session: session.id, error: error.message }, 'Doubao session re-check refused');
      }
    },

    get browserLaunches(): number {
      return chromium.launches;
    },

    // Cooling sessions still count: tasks wait for them. Without one live session every task would fail.
    ready: () =>
      pool.health().some((s) => s.state !== 'expired')
        ? { ready: true }
        : { ready: false, reason: 'no live Doubao session: run `npm run session`' },

    async close(): Promise<void> {
      await retriever.close();
      await client.stop();
      await pages.close();
      await chromium.close();
    },
  };
}
