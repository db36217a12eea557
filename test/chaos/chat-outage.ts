/**
 * The chaos run's third phase, in two parts that overlap: Telegram goes down (the fake Bot API answers 502 to every
 * call, `getUpdates` included) for minutes while results fall due, and two admins storm the bot with `/cancel` and
 * `/retry` for the phase's Telegram tasks, before, during and after the outage. The figures say what the outage
 * refused and how long the backlog took to drain once Telegram was back, and what the storm did.
 */
import { randomInt } from 'node:crypto';
import Database from 'better-sqlite3';
import type { TelegramFake } from '../fakes/telegram/index.js';
import { textMessage } from '../fakes/telegram/updates.js';
import { readDatabase } from './verify.js';

export interface OutageRecord {
  /** Seconds since the run started. */
  atS: number;
  durationS: number;
  /** Bot API calls (other than getUpdates) answered 502, and getUpdates calls refused. */
  refusedCalls: number;
  refusedPolls: number;
  /** Telegram results that fell due during the outage. */
  resultsHeldUp: number;
  /** Failed tries the outbox recorded for them (each after @grammyjs/auto-retry's own three). */
  outboxRetries: number;
  /** Seconds from the end of the outage until the last of those results was delivered (undefined: some never were). */
  drainedS: number | undefined;
}

export interface StormRecord {
  commands: number;
  cancelsDone: number;
  retriesDone: number;
  /** Answered "not possible right now" (a cancel of a finished task, a retry of a running one…). */
  refused: number;
}

export const ADMIN_CHATS = [777_001, 777_002];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes Telegram down for `durationMs`, and longer (up to three times as long) until `heldUp(from)` says a result
 * fell due meanwhile, so the outage tests the outbox on a busy machine too; resolves with when it began and ended.
 */
export async function chatOutage(
  telegram: TelegramFake,
  durationMs: number,
  heldUp: (from: number) => boolean,
): Promise<{ from: number; to: number }> {
  const from = Date.now();
  telegram.setOutage({ code: 502, description: 'Bad Gateway' });
  await sleep(durationMs);
  while (!heldUp(from) && Date.now() - from < 3 * durationMs) await sleep(250);
  telegram.setOutage(undefined);
  return { from, to: Date.now() };
}

interface DueResult {
  taskId: string;
  state: string;
  tries: number;
  dueAt: number;
  sentAt: number | undefined;
}

/**
 * The result deliveries of one phase's tasks that are still owed or were sent, read beside the running service
 * (read-only, WAL). An outcome superseded by an admin's retry is owed to nobody, so it never counts as held up.
 */
function phaseResults(dbPath: string, prefix: string): DueResult[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT d.task_id, d.state, d.tries, d.created_at, d.sent_at FROM deliveries d JOIN tasks t ON t.id = d.task_id
          WHERE d.kind = 'result' AND d.platform = 'telegram' AND d.state <> 'superseded'
            AND substr(t.prompt, 1, length(?)) = ?`,
      )
      .all(`${prefix} `, `${prefix} `) as {
      task_id: string;
      state: string;
      tries: number;
      created_at: string;
      sent_at: string | null;
    }[];
    return rows.map((r) => ({
      taskId: r.task_id,
      state: r.state,
      tries: r.tries,
      dueAt: Date.parse(r.created_at),
      sentAt: r.sent_at === null ? undefined : Date.parse(r.sent_at),
    }));
  } finally {
    db.close();
  }
}

/** True once a result of the phase fell due at or after `since` (so an outage begun then holds it up). */
export function resultDueSince(dbPath: string, prefix: string, since: number): boolean {
  try {
    return phaseResults(dbPath, prefix).some((r) => r.dueAt >= since);
  } catch {
    return false; // busy for a moment
  }
}

/**
 * Waits (up to `timeoutMs`) until no result of the phase is still owed. The phase ends when every task is final and
 * every user has had an answer, but a retried task's newer outcome may still be on its way: a send begun during the
 * outage waits in the Bot API client's own retries, and lands seconds after Telegram is back.
 */
export async function resultsDrained(dbPath: string, prefix: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if (!phaseResults(dbPath, prefix).some((r) => r.state === 'pending')) return;
    } catch {
      // busy for a moment
    }
    await sleep(250);
  }
}

/** The outage's figures, from the database and the fake's record of calls, once the phase is over. */
export function outageFigures(
  telegram: TelegramFake,
  dbPath: string,
  prefix: string,
  window: { from: number; to: number },
  runStart: number,
): OutageRecord {
  const heldUp = phaseResults(dbPath, prefix).filter((r) => r.dueAt >= window.from && r.dueAt <= window.to);
  const sent = heldUp.map((r) => r.sentAt ?? Number.POSITIVE_INFINITY);
  const last = Math.max(window.to, ...sent);
  return {
    atS: (window.from - runStart) / 1000,
    durationS: (window.to - window.from) / 1000,
    refusedCalls: telegram.sent.filter((c) => c.errorCode === 502 && c.at >= window.from && c.at <= window.to + 1_000)
      .length,
    refusedPolls: telegram.refusedPolls(),
    resultsHeldUp: heldUp.length,
    outboxRetries: heldUp.reduce((n, r) => n + r.tries, 0),
    drainedS: Number.isFinite(last) ? (last - window.to) / 1000 : undefined,
  };
}

/**
 * Two admins sending `/cancel <id>` or `/retry <id>` for random Telegram tasks of one phase, every `everyMs` while
 * Telegram is up.
 */
export class AdminStorm {
  readonly #telegram: TelegramFake;
  readonly #dbPath: string;
  readonly #prefix: string;
  readonly #everyMs: number;
  #running: Promise<void> | undefined;
  #stopped = false;
  commands = 0;

  constructor(telegram: TelegramFake, dbPath: string, prefix: string, everyMs: number) {
    this.#telegram = telegram;
    this.#dbPath = dbPath;
    this.#prefix = prefix;
    this.#everyMs = everyMs;
  }

  start(): void {
    this.#running = this.#loop();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      await sleep(this.#everyMs);
      if (this.#telegram.knobs.outage) continue;
      const tasks = (() => {
        try {
          return readDatabase(this.#dbPath, false).tasks.filter(
            (t) => t.platform === 'telegram' && t.prompt.startsWith(`${this.#prefix} `),
          );
        } catch {
          return []; // the database is busy for a moment: skip this beat
        }
      })();
      // Mostly what an admin would do (cancel a running task, retry a failed or cancelled one); one time in five a
      // command for any task, often one that is not possible (a completed task, a retry of a running one).
      const actionable = tasks.filter((t) => t.status !== 'completed');
      const wild = randomInt(5) === 0 || actionable.length === 0;
      const pool = wild ? tasks : actionable;
      if (pool.length === 0) continue;
      const task = pool[randomInt(pool.length)]!;
      const admin = ADMIN_CHATS[randomInt(ADMIN_CHATS.length)]!;
      const ended = task.status === 'failed' || task.status === 'cancelled';
      const command = wild ? (randomInt(2) === 0 ? 'cancel' : 'retry') : ended ? 'retry' : 'cancel';
      const id = task.id;
      this.#telegram.pushUpdate(textMessage({ chatId: admin, userId: admin, languageCode: 'en' }, `/${command} ${id}`));
      this.commands++;
    }
  }

  /** Stops sending, and waits (up to `timeoutMs`) until the bot has answered every command; false if it did not. */
  async stop(timeoutMs = 120_000): Promise<boolean> {
    this.#stopped = true;
    await this.#running;
    const until = Date.now() + timeoutMs;
    while (this.#answers(true).length < this.commands) {
      if (Date.now() > until) return false;
      await sleep(250);
    }
    return true;
  }

  #answers(withFailed: boolean) {
    return this.#telegram.sent.filter(
      (c) =>
        c.method === 'sendMessage' &&
        (withFailed || c.errorCode === undefined) &&
        ADMIN_CHATS.includes(Number(c.payload.chat_id)),
    );
  }

  /** What the storm did, from the bot's answers to the admins. */
  figures(): StormRecord {
    const answers = this.#answers(false);
    const text = (c: (typeof answers)[number]) => String(c.payload.text);
    return {
      commands: this.commands,
      cancelsDone: answers.filter((c) => /^🚫 Task \S+ cancelled\.$/.test(text(c))).length,
      retriesDone: answers.filter((c) => /^🔁 Task \S+ queued again\.$/.test(text(c))).length,
      refused: answers.filter((c) => text(c).startsWith('Not possible right now')).length,
    };
  }
}
