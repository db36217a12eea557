/**
 * The `doubao` provider: the Doubao web chat as a video generator (protocol in `shared/doubao-protocol.md`).
 * Uploads and video requests go through per-session limiters and a transport (`DOUBAO_TRANSPORT`: plain undici,
 * or the session's logged-in page when Doubao wants signed calls); finished videos are found in the
 * conversation's chat page. Both browser users share one headless Chromium. Each ref records the owning session's id (never its cookie),
 * so polls after a restart use the session that created the conversation.
 */
import type { Logger } from 'pino';
import { UpstreamError } from '../../core/errors.js';
import type {
  ImageInput,
  ImageRef,
  PollResult,
  ProviderHost,
  StartRequest,
  UpstreamRef,
  VideoProvider,
} from '../provider.js';
import { SharedChromium } from './chromium.js';
import { requestVideo } from './completion.js';
import { PageTransport } from './page-transport.js';
import { VideoRetriever } from './retriever.js';
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
  /** How long a rate-limited session rests, ms. @defaultValue 600 000 */
  cooldownMs?: number;
  /** A request whose headers or next body chunk take longer fails, ms. @defaultValue 60 000 */
  idleTimeoutMs?: number;
  /** Hard limit of one retrieval attempt, ms. @defaultValue 60 000 */
  retrieveTimeoutMs?: number;
  /** How long a loaded chat page is watched for a video, ms. @defaultValue 8 000 */
  settleMs?: number;
  /** Retrieval attempts (browser contexts) at once. @defaultValue 2 */
  browserConcurrency?: number;
  /** How Doubao web API calls travel: plain HTTP, the session's page, or plain until refused. @defaultValue 'auto' */
  transportMode?: TransportMode;
  /** A session's page (page transport) is closed after this long without a call, ms. @defaultValue 300 000 */
  pageIdleMs?: number;
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

export async function createDoubaoProvider(options: DoubaoProviderOptions): Promise<VideoProvider> {
  const pool = await SessionPool.load(options.sessionsFile, { cooldownMs: options.cooldownMs ?? 600_000 });
  /** What an answer's Doubao code means for the session, and the error the call ends with. */
  const onVerdict = (session: Session, verdict: SessionVerdict, what: string): UpstreamError => {
    if (verdict.kind === 'login' || (verdict.kind === 'refused' && verdict.code === 'HTTP 403')) {
      pool.markExpired(session);
      return new UpstreamError(SESSION_EXPIRED, false);
    }
    if (verdict.kind === 'rate_limited' || verdict.kind === 'risk_control') {
      pool.coolDown(session);
      return new UpstreamError(`${what}: Doubao rate-limited this session (${verdict.code})`, true);
    }
    return new UpstreamError(`Doubao refused the request: ${verdict.message} (code ${verdict.code})`, false);
  };
  const log = options.log?.child({ provider: 'doubao' });
  const chromium = new SharedChromium(options.chromiumPath);
  const pages = new PageTransport({
    chromium,
    baseUrl: options.baseUrl,
    ...(options.pageIdleMs !== undefined && { idleMs: options.pageIdleMs }),
    ...(log && { log }),
  });
  const selector = new TransportSelector({
    mode: options.transportMode ?? 'auto',
    http: new HttpTransport({ baseUrl: options.baseUrl }),
    page: pages,
    ...(log && { log }),
  });
  const client = new WebClient({
    transport: options.transport ?? selector,
    onVerdict,
    minSpacingMs: options.minSpacingMs ?? 500,
    perSessionConcurrency: options.perSessionConcurrency ?? 2,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
  });
  const retriever = new VideoRetriever({
    chromium,
    baseUrl: options.baseUrl,
    attemptTimeoutMs: options.retrieveTimeoutMs ?? 60_000,
    settleMs: options.settleMs ?? 8_000,
    concurrency: options.browserConcurrency ?? 2,
  });
  log?.info({ sessions: pool.health() }, 'Doubao session pool loaded');

  /** Logs a session's health change by id (never its cookie) and passes the error on. */
  const noted = (session: Session, error: unknown): never => {
    if (error instanceof UpstreamError) log?.warn({ session: session.id, reason: error.message }, 'Doubao call failed');
    throw error;
  };

  return {
    name: 'doubao',

    attach(host: ProviderHost): void {
      selector.useState(host.state);
    },

    async uploadImage(image: ImageInput): Promise<ImageRef> {
      const session = pool.pick(false);
      const attachment = await uploadImage(client, options, session, image).catch((e) => noted(session, e));
      return { attachment, sessionId: session.id } satisfies DoubaoImage;
    },

    async start(req: StartRequest): Promise<UpstreamRef> {
      const image = req.image as DoubaoImage | undefined;
      // An uploaded image belongs to the session that uploaded it: ask for the video with that one.
      const session = image ? pool.ownerForRequest(image.sessionId) : pool.pick(req.guest);
      const ids = await requestVideo(client, pool, session, req.prompt, image ? [image.attachment] : []).catch((e) =>
        noted(session, e),
      );
      log?.info({ session: session.id, conversationId: ids.conversationId }, 'Doubao video requested');
      return { id: `${ids.conversationId}_${ids.messageId}`, ...ids, sessionId: session.id } satisfies DoubaoRef;
    },

    async poll(upstream: UpstreamRef): Promise<PollResult> {
      const ref = upstream as DoubaoRef;
      const session = pool.owner(ref.sessionId);
      const startedAt = Date.now();
      // A page load is upstream traffic of that account too: it waits its turn with the session's API calls.
      const found = await client.limited(session, () => retriever.find(session, ref.conversationId));
      const ms = Date.now() - startedAt;
      log?.debug({ session: session.id, conversationId: ref.conversationId, state: found.state, ms }, 'Doubao look');
      if (found.state === 'logged-out') {
        pool.markExpired(session);
        log?.warn({ session: session.id }, 'Doubao session expired');
        return { state: 'failed', reason: SESSION_EXPIRED, retryable: false };
      }
      return found.state === 'found' ? { state: 'succeeded', videoUrls: found.urls } : { state: 'running' };
    },

    status: () => ({ sessions: pool.health(), pages: pages.pages, pageRoutes: selector.pageRoutes() }),

    async close(): Promise<void> {
      await retriever.close();
      await client.stop();
      await pages.close();
      await chromium.close();
    },
  };
}
