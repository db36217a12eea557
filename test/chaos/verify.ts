/**
 * What the chaos suite checks, read from the service's own database (opened while the service is down, as an
 * operator would) and from the fake Telegram's record of what the bot sent: every task final, every Telegram task
 * told each of its outcomes exactly once (a task retried by an admin may have several; an outcome superseded by a
 * retry before it went out is not owed), every failure reason a readable sentence, SQLite's integrity check `ok`.
 */
import Database from 'better-sqlite3';
import type { ApiCall } from '../fakes/telegram/index.js';

export interface DbTask {
  id: string;
  status: string;
  error: string | null;
  prompt: string;
  platform: string;
  chatId: number | undefined;
  deliveredAt: string | null;
  leaseUntil: number | null;
  /** The fencing token, bumped on every claim: a task whose token grew was looked at again. */
  leaseToken: number;
  /** How many times the task ran (retries + 1). */
  generation: number;
  /** Outcomes the outbox records as sent (0 before the deliveries table existed). */
  told: number;
  /** True when the task's current outcome is recorded as sent. */
  currentTold: boolean;
}

/**
 * Every task and (unless `withIntegrity` is false) `PRAGMA integrity_check`, read-only: this works on the WAL file a
 * killed process left behind, and beside a running service.
 */
export function readDatabase(path: string, withIntegrity = true): { tasks: DbTask[]; integrity: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        'SELECT id, status, error, prompt, platform, origin, delivered_at, lease_until, lease_token, generation FROM tasks',
      )
      .all() as Array<Record<string, string | number | null>>;
    const deliveries = db
      .prepare("SELECT task_id, generation, state, sent_at FROM deliveries WHERE kind = 'result'")
      .all() as Array<{ task_id: string; generation: number; state: string; sent_at: string | null }>;
    const told = new Map<string, number>();
    const currentSent = new Set<string>();
    for (const d of deliveries) {
      if (d.sent_at !== null) told.set(d.task_id, (told.get(d.task_id) ?? 0) + 1);
      if (d.state === 'sent') currentSent.add(`${d.task_id}/${d.generation}`);
    }
    const tasks = rows.map((r) => ({
      id: String(r.id),
      status: String(r.status),
      error: r.error === null ? null : String(r.error),
      prompt: String(r.prompt),
      platform: String(r.platform),
      chatId: Number(JSON.parse(String(r.origin)).chatId) || undefined,
      deliveredAt: r.delivered_at === null ? null : String(r.delivered_at),
      leaseUntil: r.lease_until === null ? null : Number(r.lease_until),
      leaseToken: Number(r.lease_token),
      generation: Number(r.generation),
      told: told.get(String(r.id)) ?? 0,
      currentTold: currentSent.has(`${r.id}/${r.generation}`),
    }));
    return { tasks, integrity: withIntegrity ? String(db.pragma('integrity_check', { simple: true })) : 'unchecked' };
  } finally {
    db.close();
  }
}

/** When the newest owner (process instance) of the database took over its leases (epoch ms), or undefined. */
export function ownerSince(path: string): number | undefined {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT max(started_at) AS at FROM owners').get() as { at: number | null };
    return row.at ?? undefined;
  } finally {
    db.close();
  }
}

/**
 * Why a failure reason is not something to show a user, or undefined when it is fine: it must be a non-empty
 * sentence, without a stack trace, `[object Object]`, `undefined`, a raw JSON/HTML body, or the promise of a retry.
 */
export function unreadableReason(reason: string | null | undefined): string | undefined {
  const text = (reason ?? '').trim();
  if (text.length < 8) return 'empty or too short';
  if (text.length > 500) return 'longer than 500 characters';
  if (/\[object \w+\]/.test(text)) return 'contains [object …]';
  if (/\bundefined\b|\bNaN\b/.test(text)) return 'contains undefined/NaN';
  if (/\n\s+at |\bat .+:\d+:\d+\)?/.test(text)) return 'contains a stack trace';
  if (/^\s*[{[<]/.test(text)) return 'is a raw JSON or HTML body';
  if (/trying again later/i.test(text)) return 'promises a retry that will not come';
  if (!/\p{L}{2,}.*\s.*\p{L}{2,}/u.test(text)) return 'is not a sentence';
  return undefined;
}

/** The final result messages the bot sent for one task: its video, or its failure or cancellation. */
export function finalDeliveries(sent: readonly ApiCall[], taskId: string): ApiCall[] {
  return sent.filter((call) => {
    if (call.errorCode !== undefined) return false;
    if (call.method === 'sendVideo') return call.files.video?.filename === `${taskId}.mp4`;
    if (call.method !== 'sendMessage') return false;
    const text = String(call.payload.text ?? '');
    return text.startsWith(`❌ Task ${taskId} failed:`) || text.startsWith(`🚫 Task ${taskId} was cancelled.`);
  });
}

export interface DeliveryCheck {
  /** Telegram tasks told each of their outcomes exactly once, the current one included. */
  exactlyOnce: number;
  /** Outcomes told, over all Telegram tasks (more than the tasks when admins retried some). */
  outcomes: number;
  /** Telegram tasks that ran more than once (an admin retried them). */
  retried: number;
  /** Told twice or more, the first time within `killWindowMs` before a kill: the documented at-least-once case. */
  duplicatesDuringKill: string[];
  /** Told twice or more with no kill near: a real bug. */
  duplicates: string[];
  /** Never told. */
  missing: string[];
}

/**
 * Counts final deliveries per Telegram task against the outcomes the outbox recorded as sent; `kills` are the epoch
 * ms of each `kill -9`. A task is missing when its current outcome was never told (or fewer messages arrived than
 * outcomes were recorded sent), duplicated when more arrived.
 */
export function checkDeliveries(
  tasks: readonly DbTask[],
  sent: readonly ApiCall[],
  kills: readonly number[],
  killWindowMs = 3_000,
): DeliveryCheck {
  const result: DeliveryCheck = {
    exactlyOnce: 0,
    outcomes: 0,
    retried: 0,
    duplicatesDuringKill: [],
    duplicates: [],
    missing: [],
  };
  for (const task of tasks.filter((t) => t.platform === 'telegram')) {
    const calls = finalDeliveries(sent, task.id);
    const owed = Math.max(task.told, 1);
    result.outcomes += task.told;
    if (task.generation > 0) result.retried++;
    if (calls.length === owed && task.currentTold) result.exactlyOnce++;
    else if (calls.length < owed || !task.currentTold) result.missing.push(task.id);
    else if (calls.some((c) => kills.some((k) => k >= c.at && k - c.at <= killWindowMs)))
      result.duplicatesDuringKill.push(task.id);
    else result.duplicates.push(task.id);
  }
  return result;
}

/** Secrets that must never be printed, and the ones the output contains. */
export function leakedSecrets(output: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, value]) => value.length >= 8 && output.includes(value))
    .map(([name]) => name);
}
