/**
 * The VideoProvider contract: the only thing the core knows about an upstream. A provider turns a prompt (and
 * optionally an image) into an upstream job and reports on it when polled; it knows nothing of users or tasks.
 * Every provider runs the shared conformance suite in `test/provider-contract.ts` against its fake.
 */
import type { VideoCapabilities, VideoOptions } from '../core/options.js';

/** What a provider returns for an uploaded image and accepts back in `start`. JSON-serialisable. */
export type ImageRef = Record<string, unknown>;

/**
 * The provider's reference to a started job, stored with the task and handed back to `poll`/`cancel` (also after
 * a restart). JSON-serialisable. `conversationId`/`messageId`/`sectionId` are shown to seed-API clients when set.
 */
export interface UpstreamRef {
  id: string;
  conversationId?: string;
  messageId?: string;
  sectionId?: string;
  [key: string]: unknown;
}

export interface ImageInput {
  bytes: Uint8Array;
  fileName: string;
  mime: string;
}

export interface StartRequest {
  prompt: string;
  image?: ImageRef;
  guest: boolean;
  /** What the task asked for (already checked against `capabilities`); absent → the provider's own defaults. */
  options?: VideoOptions;
}

export type PollResult =
  | { state: 'running'; progress?: number }
  | { state: 'succeeded'; videoUrls: string[] }
  | {
      state: 'failed';
      reason: string;
      retryable: boolean;
      /** The upstream job itself ended for good (failed or cancelled there): a retry must start a new one. */
      ended?: boolean;
      /** Why, as a code users are shown in their language (core/reasons.ts), when the provider knows more than "refused". */
      reasonCode?: 'SESSION_EXPIRED';
    };

/** When the scheduler looks at a provider's jobs; a provider may override the configured seed timing. */
export interface PollTiming {
  firstAttemptDelayS: number;
  retryIntervalS: number;
  /** Looks before giving up; a provider polled often needs more of them. Absent → the configured MAX_ATTEMPTS. */
  maxAttempts?: number;
}

/**
 * A start that was under way when the previous process stopped: the upstream job may exist though its id was
 * never stored. The start began between `from` and `until` (epoch ms).
 */
export interface InterruptedStart {
  taskId: string;
  kind: 't2v' | 'i2v';
  from: number;
  until: number;
}

/**
 * Something about the upstream account an operator must hear of (a Doubao session expired, was paused by risk
 * control, or is rate-limited). A provider reports each incident once, when the state it describes begins; the
 * core records it and alerts the admins.
 */
export interface ProviderIncident {
  provider: string;
  /** What the incident is about, as operators name it (a session's label); never a secret. */
  subject: string;
  kind: 'expired' | 'risk_control' | 'rate_limited' | 'recovered';
  /** The upstream's own code, when it gave one (e.g. Doubao's 710022004). */
  code?: string;
  /** What happened, in one sentence. */
  message: string;
  /** What the operator should do, in one sentence (e.g. "run `npm run session`"). */
  action?: string;
}

/** Small JSON values a provider keeps across restarts (a session's state, which dialect worked), by key. */
export interface ProviderStateStore {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  /** Every key that starts with `prefix`, with its value. */
  entries<T = unknown>(prefix: string): [string, T][];
}

/** What the core lends a provider when it is attached (see `VideoProvider.attach`). */
export interface ProviderHost {
  state: ProviderStateStore;
  reportIncident(incident: ProviderIncident): void;
}

export interface VideoProvider {
  readonly name: string;
  /**
   * Called once by the core before any other call, with the provider's durable state and its incident channel.
   * A provider that is never attached (a unit test) keeps its state in memory.
   */
  attach?(host: ProviderHost): void;
  /** Timing this provider's jobs need (Ark: ~15 s); absent → the configured seed timing (180 s). */
  readonly timing?: PollTiming;
  /**
   * The generation options this provider can honour (aspect ratios, durations, resolutions). A request for any
   * other is refused at submit with what is supported; absent → no option at all.
   */
  readonly capabilities?: VideoCapabilities;
  /** At most this many started, unfinished jobs at once; further tasks wait in `pending`. Absent → no limit. */
  readonly maxRunning?: number;
  uploadImage(image: ImageInput): Promise<ImageRef>;
  /** Asks the upstream for a video. Throws UpstreamError (retryable or not) when nothing was created. */
  start(req: StartRequest): Promise<UpstreamRef>;
  /**
   * Looks once at a started job. Throws UpstreamError when the upstream could not tell. A `file:` URL among a
   * result's `videoUrls` hands that file over: the core moves it into its media store.
   */
  poll(ref: UpstreamRef): Promise<PollResult>;
  /** Cancels upstream when the upstream supports it; throws UpstreamError when it refuses. */
  cancel?(ref: UpstreamRef): Promise<void>;
  /**
   * The core stopped waiting for this job (its task failed for good, e.g. not ready after the last attempt): free
   * what it holds locally (the local provider stops its render). The job stays lookable, for a `retry`.
   */
  abandon?(ref: UpstreamRef): Promise<void>;
  /** Health worth showing operators (e.g. Doubao's session pool); never secrets. */
  status?(): Record<string, unknown>;
  /** How many upstream sessions (accounts) are in each state, e.g. `{ ok: 2, expired: 1 }`, for `/metrics`. */
  sessionStates?(): Record<string, number>;
  /**
   * Checks one upstream account now with one cheap call (a Doubao session, by the `id` its `status()` shows), so an
   * operator need not wait for a task to find out; its health is updated as by any call. Throws UpstreamError when
   * no such account exists.
   */
  recheck?(accountId: string): Promise<void>;
  /** Whether the provider can take work now, for `GET /readyz`, with the reason when not. Absent → ready. */
  ready?(): { ready: boolean; reason?: string };
  /**
   * Finds the upstream jobs of interrupted starts (called once at start-up, before any new start), so they are
   * adopted rather than started twice. Resolves with task id → ref; `isKnown` tells ids other tasks already own.
   */
  recover?(
    interrupted: InterruptedStart[],
    isKnown: (upstreamId: string) => Promise<boolean>,
  ): Promise<Map<string, UpstreamRef>>;
  /** Releases browsers, sockets and timers. */
  close?(): Promise<void>;
}
