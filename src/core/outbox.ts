/**
 * The Outbox tells people what the service owes them, exactly once, also across restarts and outages: each task's
 * final outcome to its asker, and each provider incident to every admin.
 *
 * What is owed is a row of the store's `deliveries` table, written in the same transaction as the task's final
 * transition (or as the incident's record), so nothing owed is lost with the process. An adapter registers its
 * platform's send functions; the outbox claims due rows under a lease (as the scheduler claims tasks), sends, and
 * records what happened:
 * - sent → the row is `sent`; the task is marked delivered only if the row still tells its current outcome;
 * - `DeliveryRefused` (bot blocked, chat gone) → the row is `given_up`, with the platform's reason;
 * - any other error → the try is counted, the error kept, and the next try scheduled in the row, the wait doubling
 *   from `retryBaseMs` up to `retryMaxMs` (an hour by default), for as long as it takes.
 * A result is sent only while its task still has that outcome in that generation (a retry supersedes the row).
 * When a platform answers again after a run of failures (an outage ended), its waiting rows are tried at once
 * (not for `separateReceivers`: one callback URL answering says nothing of another).
 * A duplicate is possible only if the process dies during the send itself, before the row is marked.
 */
import type { Logger } from 'pino';
import type { ProviderIncident } from '../providers/provider.js';
import type { Delivery, DeliveryKind, RecordedIncident } from './delivery.js';
import { DeliveryRefused } from './errors.js';
import type { TaskEventBus } from './events.js';
import type { Metrics } from './metrics.js';
import type { TaskStoreAsync } from './store/contract.js';
import type { Platform, Task } from './task.js';

/** Sends a task's final outcome to its asker; throws `DeliveryRefused` for a permanent "no", anything else to retry. */
export type Deliver = (task: Task) => Promise<void>;
/** Sends one incident to one admin; throws like `Deliver`. */
export type DeliverAlert = (alert: AdminAlert) => Promise<void>;

export interface AdminAlert {
  /** The admin's id on the platform (a Telegram chat id, a Discord user id). */
  recipient: string;
  incident: RecordedIncident;
}

export interface DeliveryHandlers {
  result: Deliver;
  alert?: DeliverAlert;
  /**
   * Each delivery goes to a server of its own (API clients' callback URLs), not to one platform: a success says
   * nothing of the others, so it does not hurry their waiting retries as the end of a platform's outage does.
   */
  separateReceivers?: boolean;
}

export interface OutboxOptions {
  /** Wait after the first failed try; each further failure doubles it. @defaultValue 5 s */
  retryBaseMs?: number;
  /** The longest wait between two tries. @defaultValue 1 hour */
  retryMaxMs?: number;
  /** Sends under way at once, per platform. @defaultValue 4 */
  concurrency?: number;
  /**
   * How long a claimed row stays owned by its sender: longer than any send can take (a Bot API call may take 500 s,
   * and auto-retry repeats it), so a slow send is never claimed twice. @defaultValue 30 minutes
   */
  leaseMs?: number;
  /** Admins told of each provider incident, per platform. */
  alertRecipients?: Partial<Record<Platform, readonly string[]>>;
  now?: () => number;
}

const FINAL_EVENTS = ['completed', 'failed', 'cancelled'] as const;
/** Failed sends in a row after which the next success is taken as the end of an outage. */
const OUTAGE_STREAK = 3;
/**
 * Longest sleep between two looks at the table, also when nothing is due: rows written without an event reaching
 * this process (another process, a start-up sweep) are found within a minute.
 */
const SWEEP_MS = 60_000;

interface Lane {
  platform: Platform;
  stop: () => Promise<void>;
  handlers: DeliveryHandlers;
  kinds: DeliveryKind[];
  running: Set<Promise<void>>;
  timer?: NodeJS.Timeout;
  /** The look at the table under way (looks never overlap), and whether another was asked for meanwhile. */
  pass?: Promise<void>;
  passAgain: boolean;
  stopped: boolean;
  failStreak: number;
}

export class Outbox {
  readonly #store: TaskStoreAsync;
  readonly #events: TaskEventBus;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #now: () => number;
  readonly #opts: Required<Omit<OutboxOptions, 'now'>>;
  readonly #lanes = new Map<Platform, Lane>();

  constructor(
    deps: { store: TaskStoreAsync; events: TaskEventBus; log: Logger; metrics?: Metrics },
    options: OutboxOptions = {},
  ) {
    this.#store = deps.store;
    this.#events = deps.events;
    this.#log = deps.log;
    this.#metrics = deps.metrics;
    this.#now = options.now ?? Date.now;
    this.#opts = {
      retryBaseMs: options.retryBaseMs ?? 5_000,
      retryMaxMs: options.retryMaxMs ?? 3_600_000,
      concurrency: options.concurrency ?? 4,
      leaseMs: options.leaseMs ?? 1_800_000,
      alertRecipients: options.alertRecipients ?? {},
    };
    this.#events.on('incident', (incident) => this.#recordIncident(incident));
  }

  /**
   * Frees the delivery leases of processes that are gone — at start-up the previous process's (one process owns a
   * SQLite DATA_DIR), and on a shared store, from time to time, those of a process killed meanwhile — and sends them.
   */
  async recover(): Promise<void> {
    const freed = await this.#store.releaseDeliveryLeases();
    if (freed === 0) return;
    this.#log.info({ freed }, 'freed the deliveries a process that is gone was sending');
    for (const lane of this.#lanes.values()) this.#kick(lane);
  }

  /** The wait before the next try after `tries` failed ones: doubling from the base, capped. */
  backoffMs(tries: number): number {
    const { retryBaseMs, retryMaxMs } = this.#opts;
    return Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(Math.max(tries - 1, 0), 40));
  }

  /**
   * Starts sending what `platform` is owed; returns the function that stops it (waiting for sends under way).
   * Registering a platform again (an adapter that restarts) replaces the earlier registration.
   */
  register(platform: Platform, handlers: Deliver | DeliveryHandlers): () => Promise<void> {
    const previous = this.#lanes.get(platform);
    if (previous) void previous.stop();
    const h = typeof handlers === 'function' ? { result: handlers } : handlers;
    const lane: Lane = {
      platform,
      stop: async () => undefined,
      handlers: h,
      kinds: h.alert ? ['result', 'alert'] : ['result'],
      running: new Set(),
      stopped: false,
      passAgain: false,
      failStreak: 0,
    };
    this.#lanes.set(platform, lane);
    const onFinal = (task: Task) => {
      if (task.origin.platform === platform) this.#kick(lane);
    };
    for (const event of FINAL_EVENTS) this.#events.on(event, onFinal);
    lane.stop = async () => {
      lane.stopped = true;
      for (const event of FINAL_EVENTS) this.#events.off(event, onFinal);
      clearTimeout(lane.timer);
      if (this.#lanes.get(platform) === lane) this.#lanes.delete(platform);
      await lane.pass;
      await Promise.allSettled([...lane.running]);
    };
    this.#kick(lane);
    return lane.stop;
  }

  async #recordIncident(incident: ProviderIncident): Promise<void> {
    const recipients = Object.entries(this.#opts.alertRecipients).flatMap(([platform, ids]) =>
      (ids ?? []).map((recipient) => ({ platform: platform as Platform, recipient })),
    );
    try {
      const recorded = await this.#store.recordIncident(incident, recipients);
      if (!recorded) {
        this.#log.info({ provider: incident.provider, kind: incident.kind }, 'incident already recorded; no new alert');
        return;
      }
      this.#log.info({ incidentId: recorded.id, alerts: recipients.length }, 'incident recorded; alerting the admins');
    } catch (err) {
      this.#log.error({ err, incident }, 'could not record a provider incident');
      return;
    }
    for (const lane of this.#lanes.values()) this.#kick(lane);
  }

  /** Claims what is due (as much as there is room for), sends it, and sets the timer for the next due row. */
  #kick(lane: Lane): void {
    if (lane.stopped) return;
    if (lane.pass) {
      lane.passAgain = true;
      return;
    }
    lane.pass = this.#look(lane).finally(() => {
      lane.pass = undefined;
      if (!lane.passAgain) return;
      lane.passAgain = false;
      this.#kick(lane);
    });
  }

  async #look(lane: Lane): Promise<void> {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    const room = this.#opts.concurrency - lane.running.size;
    let claimed: Delivery[] = [];
    try {
      if (room > 0) claimed = await this.#store.claimDeliveries(lane.platform, lane.kinds, this.#opts.leaseMs, room);
    } catch (err) {
      this.#log.error({ err, platform: lane.platform }, 'could not read the deliveries; trying again shortly');
      this.#setTimer(lane, this.#now() + this.#opts.retryBaseMs);
      return;
    }
    for (const row of claimed) {
      const send: Promise<void> = this.#send(lane, row).finally(() => {
        lane.running.delete(send);
        this.#kick(lane);
      });
      lane.running.add(send);
    }
    if (lane.running.size >= this.#opts.concurrency) return; // the next send to finish looks again
    try {
      const at = await this.#store.nextDeliveryAt(lane.platform, lane.kinds);
      if (lane.stopped) return;
      this.#setTimer(lane, Math.min(at ?? Number.POSITIVE_INFINITY, this.#now() + SWEEP_MS));
    } catch (err) {
      this.#log.error({ err, platform: lane.platform }, 'could not read the deliveries; trying again shortly');
      this.#setTimer(lane, this.#now() + this.#opts.retryBaseMs);
    }
  }

  #setTimer(lane: Lane, at: number): void {
    const delay = Math.max(at - this.#now(), 0); // at most a minute (SWEEP_MS) or a day (retryBaseMs)
    lane.timer = setTimeout(() => this.#kick(lane), delay);
    lane.timer.unref?.();
  }

  async #send(lane: Lane, row: Delivery): Promise<void> {
    try {
      if (row.kind === 'result') {
        const task = await this.#store.get(row.taskId ?? '');
        if (!task || task.status !== row.outcome || task.generation !== row.generation) {
          await this.#store.deliverySuperseded(row.id);
          return;
        }
        await lane.handlers.result(task);
      } else {
        const incident = await this.#store.incident(row.incidentId ?? -1);
        if (!incident || !lane.handlers.alert) {
          await this.#store.deliverySuperseded(row.id);
          return;
        }
        await lane.handlers.alert({ recipient: row.recipient ?? '', incident });
      }
    } catch (error) {
      await this.#unsent(lane, row, error);
      return;
    }
    await this.#sent(lane, row);
  }

  async #sent(lane: Lane, row: Delivery): Promise<void> {
    const outageEnded = lane.failStreak >= OUTAGE_STREAK && !lane.handlers.separateReceivers;
    lane.failStreak = 0;
    this.#metrics?.delivered(lane.platform, row.kind);
    try {
      if (!(await this.#store.deliverySent(row.id))) {
        this.#log.info({ deliveryId: row.id, taskId: row.taskId }, 'sent, but the task was retried meanwhile');
      } else if (row.kind === 'result') {
        const task = await this.#store.get(row.taskId ?? '');
        if (task) this.#events.emit('delivered', task);
      }
      if (outageEnded) {
        const waiting = await this.#store.expediteDeliveries(lane.platform);
        if (waiting > 0)
          this.#log.info({ platform: lane.platform, waiting }, 'the platform answers again; retrying now');
      }
    } catch (err) {
      this.#log.error({ err, deliveryId: row.id }, 'sent, but could not record it');
    }
  }

  async #unsent(lane: Lane, row: Delivery, error: unknown): Promise<void> {
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    const who = { deliveryId: row.id, taskId: row.taskId, recipient: row.recipient, platform: lane.platform };
    try {
      if (error instanceof DeliveryRefused) {
        lane.failStreak = 0; // the platform answered: it is reachable
        this.#metrics?.deliveryFailed(lane.platform, row.kind, 'given_up');
        await this.#store.deliveryGivenUp(row.id, row.claim, reason);
        this.#log.warn({ ...who, reason }, 'the platform refused the delivery for good; giving up');
        return;
      }
      lane.failStreak++;
      this.#metrics?.deliveryFailed(lane.platform, row.kind, 'retry');
      const tries = row.tries + 1;
      const retryInMs = this.backoffMs(tries);
      await this.#store.deliveryFailed(row.id, row.claim, reason, this.#now() + retryInMs);
      // The message only: a platform error object may carry a token in its URL (Discord's webhook routes).
      this.#log.warn({ ...who, reason, tries, retryInMs }, 'delivery failed; will try again');
    } catch (err) {
      this.#log.error({ err, deliveryId: row.id }, 'could not record a failed delivery; its lease will lapse');
    }
  }
}
