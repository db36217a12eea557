/**
 * The outbox's promises (issue 12, items 1 and 2): a result is sent only while it is still the task's outcome, a
 * retry supersedes what was owed, the delivered mark names exactly what was sent, an outage of hours is waited out
 * on a schedule kept in the database (also across a restart), and only a permanent refusal ends a delivery.
 * Also the alerts of provider incidents (issue 11 item 4): recorded once, one delivery per admin.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeliveryRefused } from '../src/core/errors.js';
import { MIGRATIONS } from '../src/core/migrations.js';
import type { AdminAlert } from '../src/core/outbox.js';
import { TaskStore } from '../src/core/store.js';
import type { Task } from '../src/core/task.js';
import type { ProviderHost, ProviderIncident } from '../src/providers/provider.js';
import { settle, useFakeClock } from './support/fake-clock.js';
import { scriptedProvider } from './support/scripted-provider.js';
import { startTestCore, type TestCore } from './support/test-core.js';

const alice = { platform: 'telegram', userId: '1001', chatId: '1001' } as const;
const admin = { admin: true } as const;
let cores: TestCore[] = [];

afterEach(async () => {
  let stopped = false;
  const stopping = Promise.all(cores.map((c) => c.dispose())).finally(() => {
    stopped = true;
  });
  if (vi.isFakeTimers()) await settle(() => stopped, 5000, 1);
  await stopping;
  vi.useRealTimers();
  cores = [];
});

/** A core whose tasks never start on their own (first look in an hour): tests end them with cancel. */
async function quietCore(
  options: { dataDir?: string; retryBaseMs?: number; retryMaxMs?: number; env?: Record<string, string> } = {},
) {
  const provider = scriptedProvider();
  let host: ProviderHost | undefined;
  provider.attach = (h) => {
    host = h;
  };
  const core = await startTestCore({
    env: { FIRST_ATTEMPT_DELAY_S: '3600', RETRY_INTERVAL_S: '3600', ...options.env },
    provider: () => provider,
    dataDir: options.dataDir,
    keepData: true,
    core: { outbox: { retryBaseMs: options.retryBaseMs ?? 20, retryMaxMs: options.retryMaxMs ?? 80 } },
  });
  cores.push(core);
  return { core, host: () => host! };
}

/** Records every task the delivery function is given (as given), and fails while `failing` says so. */
function recorder(failing: () => Error | undefined = () => undefined) {
  const seen: Pick<Task, 'id' | 'status' | 'generation'>[] = [];
  const deliver = async (task: Task) => {
    seen.push({ id: task.id, status: task.status, generation: task.generation });
    const error = failing();
    if (error) throw error;
  };
  return { seen, deliver };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Awaits work that needs timers or I/O while the clock is fake. */
async function inFakeTime<T>(work: Promise<T>): Promise<T> {
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  await settle(() => done, 500, 1);
  return result;
}

describe('outbox: what is sent', () => {
  it('#12.1 a stale re-send never delivers a retried task', async () => {
    useFakeClock();
    const { core } = await quietCore();
    let fail = true;
    const { seen, deliver } = recorder(() => (fail ? new Error('chat unreachable') : undefined));
    const stop = core.outbox.register('telegram', deliver);
    const task = await inFakeTime(core.service.submit({ prompt: 'a kite', origin: alice }));
    await inFakeTime(core.service.cancel(task.id, admin));
    await settle(() => seen.length === 1); // the first send failed; a re-send is scheduled
    await inFakeTime(core.service.retry(task.id, admin));
    fail = false;
    await vi.advanceTimersByTimeAsync(10 * 60_000); // every re-send period there is
    expect(seen.every((s) => s.status === 'cancelled')).toBe(true);
    expect((await core.service.get(task.id)).deliveredAt).toBeNull();
    expect(seen).toHaveLength(1);
    expect(['pending', 'processing']).toContain((await core.service.get(task.id)).status);
    expect((await core.service.get(task.id)).generation).toBe(1);
    expect((await core.service.deliveries(task.id)).map((d) => d.state)).toEqual(['superseded']);

    // The retried task's own outcome is told when it comes.
    await inFakeTime(core.service.cancel(task.id, admin));
    await settle(async () => (await core.service.get(task.id)).deliveredAt !== null);
    expect(seen).toEqual([
      { id: task.id, status: 'cancelled', generation: 0 },
      { id: task.id, status: 'cancelled', generation: 1 },
    ]);
    void stop();
  });

  it('#12.1 a send in flight when the task is retried does not mark the retried task delivered', async () => {
    const { core } = await quietCore();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const seen: Task['status'][] = [];
    const stop = core.outbox.register('telegram', async (task) => {
      seen.push(task.status);
      if (seen.length === 1) await held;
    });
    const task = await core.service.submit({ prompt: 'a kite', origin: alice });
    await core.service.cancel(task.id, admin);
    await vi.waitFor(() => expect(seen).toEqual(['cancelled']));
    await core.service.retry(task.id, admin); // while the first send is under way
    release();
    await sleep(100);
    expect((await core.service.get(task.id)).deliveredAt).toBeNull();
    const [first] = await core.service.deliveries(task.id);
    expect(first).toMatchObject({ state: 'superseded', generation: 0 });
    expect(first!.sentAt).not.toBeNull(); // it did go out, and says so

    await core.service.cancel(task.id, admin);
    await vi.waitFor(() => expect(seen).toEqual(['cancelled', 'cancelled']));
    await vi.waitFor(async () => expect((await core.service.get(task.id)).deliveredAt).not.toBeNull());
    expect((await core.service.deliveries(task.id)).map((d) => [d.generation, d.state])).toEqual([
      [0, 'superseded'],
      [1, 'sent'],
    ]);
    await stop();
  });

  it('a result owed while no adapter listens is superseded by a retry, never sent as pending', async () => {
    const { core } = await quietCore();
    const task = await core.service.submit({ prompt: 'a kite', origin: alice });
    await core.service.cancel(task.id, admin);
    expect((await core.service.undelivered('telegram')).map((t) => t.id)).toEqual([task.id]);
    await core.service.retry(task.id, admin);
    expect(await core.service.undelivered('telegram')).toEqual([]);
    const { seen, deliver } = recorder();
    const stop = core.outbox.register('telegram', deliver);
    await sleep(100);
    expect(seen).toEqual([]);
    await stop();
  });
});

describe('outbox: when it is sent', () => {
  it('#12.2 a chat outage of hours still delivers once it ends', async () => {
    useFakeClock();
    const { core } = await quietCore({ retryBaseMs: 5_000, retryMaxMs: 3_600_000 });
    let outage = true;
    const { seen, deliver } = recorder(() => (outage ? new Error('502 Bad Gateway') : undefined));
    const stop = core.outbox.register('telegram', deliver);
    const task = await inFakeTime(core.service.submit({ prompt: 'a kite', origin: alice }));
    await inFakeTime(core.service.cancel(task.id, admin));
    await settle(() => seen.length === 1);

    for (let minutes = 0; minutes < 5 * 60; minutes += 10) await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect((await core.service.get(task.id)).deliveredAt).toBeNull();
    expect(seen.length).toBeGreaterThanOrEqual(8);
    const [row] = await core.service.deliveries(task.id);
    expect(row).toMatchObject({ state: 'pending', lastError: '502 Bad Gateway' });
    // 5 s, 10 s, 20 s … doubling to the one-hour cap: a dozen tries in five hours, not thousands, and no giving up.
    expect(row!.tries).toBeGreaterThanOrEqual(8);
    expect(row!.tries).toBeLessThanOrEqual(16);
    expect(row!.nextTryAt - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect((await core.service.get(task.id)).deliveredAt).toBeNull();

    outage = false;
    await vi.advanceTimersByTimeAsync(3_600_000);
    await settle(async () => (await core.service.get(task.id)).deliveredAt !== null);
    expect((await core.service.get(task.id)).deliveredAt).not.toBeNull();
    expect(seen.length).toBe(row!.tries + 1);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(seen.length).toBe(row!.tries + 1); // sent once, then never again
    void stop();
  });

  it('#12.2 the retry schedule is kept in the database and survives a restart', async () => {
    const first = await quietCore({ retryBaseMs: 40, retryMaxMs: 60_000 });
    const failing = recorder(() => new Error('proxy down'));
    const stop = first.core.outbox.register('telegram', failing.deliver);
    const task = await first.core.service.submit({ prompt: 'a kite', origin: alice });
    await first.core.service.cancel(task.id, admin);
    await vi.waitFor(() => expect(failing.seen.length).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    await stop();
    const before = (await first.core.store.deliveries({ taskId: task.id }))[0]!;
    await first.core.dispose();
    expect(before).toMatchObject({ state: 'pending', lastError: 'proxy down', leaseUntil: null });

    const second = await quietCore({ dataDir: first.core.dataDir, retryBaseMs: 40, retryMaxMs: 60_000 });
    const after = (await second.core.service.deliveries(task.id))[0]!;
    expect(after).toMatchObject({ tries: before.tries, nextTryAt: before.nextTryAt, lastError: 'proxy down' });
    const working = recorder();
    const stopAgain = second.core.outbox.register('telegram', working.deliver);
    await vi.waitFor(async () => expect((await second.core.service.get(task.id)).deliveredAt).not.toBeNull(), {
      timeout: 5_000,
    });
    expect(working.seen).toHaveLength(1);
    expect((await second.core.service.deliveries(task.id))[0]).toMatchObject({ state: 'sent', tries: before.tries });
    await stopAgain();
  });

  it('#12.2 only a permanent refusal ends a delivery, and it records why', async () => {
    const { core } = await quietCore();
    const { seen, deliver } = recorder(() => new DeliveryRefused('Telegram answered 403: bot was blocked by the user'));
    const stop = core.outbox.register('telegram', deliver);
    const task = await core.service.submit({ prompt: 'a kite', origin: alice });
    await core.service.cancel(task.id, admin);
    await vi.waitFor(async () => expect((await core.service.deliveries(task.id))[0]?.state).toBe('given_up'));
    await sleep(200);
    expect(seen).toHaveLength(1);
    expect((await core.service.deliveries(task.id))[0]).toMatchObject({
      tries: 1,
      givenUpReason: 'Telegram answered 403: bot was blocked by the user',
    });
    expect((await core.service.get(task.id)).deliveredAt).toBeNull();
    expect(core.logs()).toContain('refused the delivery for good');
    await stop();
  });

  it('#12.2 when a platform answers again after an outage, every waiting delivery is tried at once', async () => {
    const { core } = await quietCore({ retryBaseMs: 50, retryMaxMs: 60_000, env: { USER_MAX_ACTIVE: '10' } });
    let outage = true;
    const { seen, deliver } = recorder(() => (outage ? new Error('502') : undefined));
    const stop = core.outbox.register('telegram', deliver);
    const early = await core.service.submit({ prompt: 'early', origin: alice });
    await core.service.cancel(early.id, admin);
    const row = async () => (await core.store.deliveries({ taskId: early.id }))[0]!;
    // The early result has failed long enough for its next try to be seconds away.
    await vi.waitFor(async () => expect((await row()).nextTryAt - Date.now()).toBeGreaterThan(2_000), {
      timeout: 15_000,
    });
    const late = await core.service.submit({ prompt: 'late', origin: alice });
    await core.service.cancel(late.id, admin);
    await vi.waitFor(async () =>
      expect((await core.store.deliveries({ taskId: late.id }))[0]!.tries).toBeGreaterThanOrEqual(3),
    );
    const earlyWasDueAt = (await row()).nextTryAt;
    outage = false;
    await vi.waitFor(async () => expect((await core.service.get(early.id)).deliveredAt).not.toBeNull(), {
      timeout: 10_000,
    });
    // The late result's first success woke the early one well before its own next try.
    expect(Date.parse((await core.service.get(early.id)).deliveredAt!)).toBeLessThan(earlyWasDueAt - 1_000);
    expect(core.logs()).toContain('the platform answers again');
    expect(seen.filter((s) => s.id === early.id).length).toBe((await row()).tries + 1);
    await stop();
  });
});

describe('outbox: finding what is owed', () => {
  it('a result owed without an event reaching this process is found within a minute', async () => {
    useFakeClock();
    const { core } = await quietCore();
    const { seen, deliver } = recorder();
    const stop = core.outbox.register('telegram', deliver);
    const task = await inFakeTime(core.service.submit({ prompt: 'a kite', origin: alice }));
    // Ended by another writer of the database (no event here): only the row tells.
    await core.store.update(task.id, {
      status: 'failed',
      error: 'ended elsewhere',
      nextAttemptAt: null,
      leaseUntil: null,
    });
    await vi.advanceTimersByTimeAsync(61_000);
    await settle(() => seen.length === 1);
    expect(seen).toEqual([{ id: task.id, status: 'failed', generation: 0 }]);
    void stop();
  });

  it('tasks that ended before the deliveries table existed, never told, are owed after the upgrade', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dvb-upgrade-')), 'tasks.db');
    const before = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE deliveries'));
    const db = new Database(file);
    for (const sql of MIGRATIONS.slice(0, before)) db.exec(sql);
    db.pragma(`user_version = ${before}`);
    const insert = db.prepare(
      `INSERT INTO tasks (id, provider, kind, prompt, conversation_id, message_id, status, max_attempts, platform,
         user_id, origin, delivered_at, created_at, updated_at)
       VALUES (?, 'local', 't2v', 'p', '1', '2', ?, 5, ?, 'u', ?, ?, '2026-01-01', '2026-01-01')`,
    );
    insert.run('told', 'completed', 'telegram', JSON.stringify(alice), '2026-01-01');
    insert.run('untold', 'failed', 'telegram', JSON.stringify(alice), null);
    insert.run('running', 'processing', 'telegram', JSON.stringify(alice), null);
    insert.run('api', 'completed', 'http', JSON.stringify({ platform: 'http', userId: 'a' }), null);
    db.close();
    const store = new TaskStore(file);
    try {
      expect(store.undelivered('telegram').map((t) => t.id)).toEqual(['untold']);
      expect(store.deliveries({ taskId: 'untold' })).toMatchObject([{ outcome: 'failed', generation: 0 }]);
    } finally {
      store.close();
    }
  });

  it('registering a platform again replaces the earlier registration', async () => {
    const { core } = await quietCore();
    const first = recorder();
    const second = recorder();
    core.outbox.register('telegram', first.deliver);
    const stop = core.outbox.register('telegram', second.deliver);
    const task = await core.service.submit({ prompt: 'a kite', origin: alice });
    await core.service.cancel(task.id, admin);
    await vi.waitFor(() => expect(second.seen).toHaveLength(1));
    expect(first.seen).toEqual([]);
    await stop();
  });
});

describe('outbox: admin alerts of provider incidents', () => {
  const expired: ProviderIncident = {
    provider: 'doubao',
    subject: 'main account',
    kind: 'expired',
    code: '710022004',
    message: 'the session is no longer logged in',
    action: 'run `npm run session`',
  };

  it('#11.4 an incident queues one alert per admin, a repeat of it none, and each admin is told once', async () => {
    const { core, host } = await quietCore({
      env: { TELEGRAM_TOKEN: '1:x', TELEGRAM_ADMIN_IDS: '11,12', DISCORD_ADMIN_IDS: '99' },
    });
    host().reportIncident(expired);
    host().reportIncident(expired); // the same state reported again: not a new incident
    const alerts: AdminAlert[] = [];
    let failOnce = true;
    const stop = core.outbox.register('telegram', {
      result: async () => undefined,
      alert: async (alert) => {
        if (alert.recipient === '12' && failOnce) {
          failOnce = false;
          throw new Error('Telegram unreachable');
        }
        alerts.push(alert);
      },
    });
    await vi.waitFor(() => expect(alerts.map((a) => a.recipient).sort()).toEqual(['11', '12']));
    await sleep(200);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]!.incident).toMatchObject({ ...expired, id: 1 });
    // Discord is not configured (no DISCORD_TOKEN): its admins are not owed anything.
    expect((await core.store.deliveries({ incidentId: 1 })).map((d) => [d.platform, d.recipient, d.state])).toEqual([
      ['telegram', '11', 'sent'],
      ['telegram', '12', 'sent'],
    ]);
    host().reportIncident({ ...expired, kind: 'recovered', code: undefined, message: 'the session works again' });
    await vi.waitFor(() => expect(alerts).toHaveLength(4));
    expect(alerts[3]!.incident.kind).toBe('recovered');
    await stop();
  });
});
