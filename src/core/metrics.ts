/**
 * The service's Prometheus metrics (prom-client), in one registry per running core rather than prom-client's global
 * default, so that tests can run several services in one process. What each figure comes from:
 * - process defaults (CPU, memory, event-loop lag, GC, handles), from prom-client;
 * - `video_tasks{status}` and `video_storage_bytes{kind}`: read from the store and the media folders on scrape;
 * - `video_time_to_video_seconds{provider}`: observed from the core's `completed` event (creation → video ready);
 * - `video_looks_total{provider}` and `video_upstream_errors_total{provider,code}`: counted by the scheduler;
 * - `video_deliveries_total` / `video_delivery_failures_total{platform,kind}`: counted by the outbox;
 * - `video_provider_sessions{provider,state}`: the provider's own account health (`VideoProvider.sessionStates`);
 * - `video_prompts_blocked_total{platform}`: prompts the block-list refused, kept by the service.
 * `docs/grafana-dashboard.json` charts them.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { VideoProvider } from '../providers/provider.js';
import { UpstreamError } from './errors.js';
import type { TaskEventBus } from './events.js';
import type { MediaUsage } from './media.js';
import type { TaskStatus } from './task.js';

/** Seconds from a task's creation to its video: local renders take seconds, Ark a minute or two, Doubao minutes. */
const TIME_TO_VIDEO_BUCKETS = [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1200, 1800, 3600];

/** What the metrics read on each scrape. */
export interface MetricsSources {
  tasksByStatus: () => Promise<Partial<Record<TaskStatus, number>>>;
  storageUsage: () => Promise<MediaUsage>;
  provider: VideoProvider;
  /** Prompts the block-list (PROMPT_BLOCKLIST_FILE) refused since start-up, by platform. */
  promptsBlocked?: () => Partial<Record<string, number>>;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #looks: Counter<'provider'>;
  readonly #upstreamErrors: Counter<'provider' | 'code'>;
  readonly #deliveries: Counter<'platform' | 'kind'>;
  readonly #deliveryFailures: Counter<'platform' | 'kind' | 'outcome'>;
  readonly #timeToVideo: Histogram<'provider'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'video_tasks',
      help: 'Tasks by status.',
      labelNames: ['status'],
      registers,
      async collect() {
        for (const [status, n] of Object.entries(await sources.tasksByStatus())) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'video_storage_bytes',
      help: "Bytes kept under DATA_DIR: re-hosted videos, tasks' images, uploads.",
      labelNames: ['kind'],
      registers,
      async collect() {
        for (const [kind, bytes] of Object.entries(await sources.storageUsage())) this.set({ kind }, bytes);
      },
    });
    const provider = sources.provider;
    new Gauge({
      name: 'video_provider_sessions',
      help: "The provider's upstream sessions by state (Doubao: ok, cooling, paused, expired).",
      labelNames: ['provider', 'state'],
      registers,
      collect() {
        this.reset(); // a session that changed state must leave its old series
        for (const [state, n] of Object.entries(provider.sessionStates?.() ?? {})) {
          this.set({ provider: provider.name, state }, n);
        }
      },
    });
    new Counter({
      name: 'video_prompts_blocked_total',
      help: 'Prompts refused by the block-list since start-up, by platform.',
      labelNames: ['platform'],
      registers,
      collect() {
        this.reset(); // the block-list keeps the running count; the counter mirrors it
        for (const [platform, n] of Object.entries(sources.promptsBlocked?.() ?? {})) this.inc({ platform }, n ?? 0);
      },
    });
    this.#timeToVideo = new Histogram({
      name: 'video_time_to_video_seconds',
      help: "Seconds from a task's creation to its finished video, by provider.",
      labelNames: ['provider'],
      buckets: TIME_TO_VIDEO_BUCKETS,
      registers,
    });
    this.#looks = new Counter({
      name: 'video_looks_total',
      help: 'Looks at upstream jobs (polls), by provider.',
      labelNames: ['provider'],
      registers,
    });
    this.#upstreamErrors = new Counter({
      name: 'video_upstream_errors_total',
      help: "Upstream calls that failed or jobs the upstream failed, by provider and the upstream's code.",
      labelNames: ['provider', 'code'],
      registers,
    });
    this.#deliveries = new Counter({
      name: 'video_deliveries_total',
      help: 'Messages delivered (results to askers, alerts to admins), by platform and kind.',
      labelNames: ['platform', 'kind'],
      registers,
    });
    this.#deliveryFailures = new Counter({
      name: 'video_delivery_failures_total',
      help: 'Failed delivery tries, by platform and kind; outcome: retry (tried again later) or given_up (refused).',
      labelNames: ['platform', 'kind', 'outcome'],
      registers,
    });
    // Series that exist from the start read 0 rather than missing, so rate() and alerts see the first event.
    this.#looks.inc({ provider: provider.name }, 0);
  }

  /** Observes every completed task's time to video. */
  watch(events: TaskEventBus, now: () => number): void {
    events.on('completed', (task) => {
      const seconds = (now() - Date.parse(task.createdAt)) / 1000;
      if (Number.isFinite(seconds)) this.#timeToVideo.observe({ provider: task.provider }, Math.max(0, seconds));
    });
  }

  look(provider: string): void {
    this.#looks.inc({ provider });
  }

  /** An upstream call that threw (a time-out included). */
  upstreamError(provider: string, error: unknown): void {
    this.#upstreamErrors.inc({ provider, code: upstreamCode(error) });
  }

  /** The upstream reported a job failed (code `job_failed`). */
  jobFailed(provider: string): void {
    this.#upstreamErrors.inc({ provider, code: 'job_failed' });
  }

  delivered(platform: string, kind: string): void {
    this.#deliveries.inc({ platform, kind });
  }

  deliveryFailed(platform: string, kind: string, outcome: 'retry' | 'given_up'): void {
    this.#deliveryFailures.inc({ platform, kind, outcome });
  }

  /** The exposition text and its content type, for `GET /metrics`. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/**
 * A short label for an upstream error: the upstream's own code when the provider gave one, else the network
 * error's code (ECONNREFUSED, UND_ERR_…), else whether it was transient or permanent. Never free text, so the label
 * keeps few values.
 */
export function upstreamCode(error: unknown): string {
  if (error instanceof UpstreamError) {
    if (error.upstreamCode) return error.upstreamCode;
    const cause = (error.cause ?? {}) as { code?: unknown };
    if (typeof cause.code === 'string' && /^[A-Z_]+$/.test(cause.code)) return cause.code;
    return error.retryable ? 'transient' : 'permanent';
  }
  return 'unexpected';
}
