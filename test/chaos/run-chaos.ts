/**
 * The chaos run behind `npm run chaos` and its CI short form: the real service as a child process (PROVIDER=doubao
 * against the fake Doubao, the Telegram adapter against the fake Bot API, 1-second timings), N tasks submitted half
 * through the HTTP API and half as Telegram messages while the process is `kill -9`ed at random moments and
 * restarted on the same DATA_DIR; then a phase where the fake Doubao fails a share of its calls at random; then a
 * phase where Telegram is down for minutes while results fall due and admins storm the bot with /cancel and /retry
 * (chat-outage.ts). It returns a report (figures and the list of broken promises, empty when everything held); it asserts nothing
 * itself, so the CLI prints it and the vitest test checks it.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DoubaoFake, startDoubaoFake } from '../fakes/doubao/index.js';
import { sessionIdCookie, writeSessions } from '../fakes/doubao/sessions.js';
import { startTelegramFake, type TelegramFake } from '../fakes/telegram/index.js';
import {
  ADMIN_CHATS,
  AdminStorm,
  chatOutage,
  type OutageRecord,
  outageFigures,
  resultDueSince,
  resultsDrained,
  type StormRecord,
} from './chat-outage.js';
import { type ChaosReport, type KillRecord, type PhaseReport, RECOVERY_GOAL_S } from './report.js';
import { ServiceProcess } from './service-process.js';
import { checkDeliveries, leakedSecrets, ownerSince, readDatabase, unreadableReason } from './verify.js';
import { type HttpOutcome, type ServiceHandle, submitHttp, TelegramUser, taskCounts } from './workload.js';

export interface ChaosOptions {
  /** Tasks of the kill phase, half HTTP and half Telegram. @defaultValue 200 */
  tasks: number;
  /** `kill -9`s during the kill phase. @defaultValue 3 */
  kills: number;
  /** Tasks of the fault phase. @defaultValue 100 */
  faultTasks: number;
  /** Share of the fake Doubao's calls failing at random in the fault phase. @defaultValue 0.3 */
  faultRate: number;
  /** Tasks of the chat-outage phase. @defaultValue 60 */
  outageTasks: number;
  /** How long Telegram is down (502 to every call) in that phase, in seconds. @defaultValue 180 */
  outageS: number;
  /** An admin command (/cancel or /retry of a random task of that phase) every this many ms. @defaultValue 300 */
  stormEveryMs: number;
  /** Progress lines go here. */
  log: (line: string) => void;
}

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  tasks: 200,
  kills: 3,
  faultTasks: 100,
  faultRate: 0.3,
  outageTasks: 60,
  outageS: 180,
  stormEveryMs: 300,
  log: () => undefined,
};

const FINAL = ['completed', 'failed', 'cancelled'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The fake's video is ready this long after it was asked for, so most tasks need more than one look. */
const READY_DELAY_MS = 1_500;
const OUTAGE_READY_DELAY_MS = 8_000;

export async function runChaos(partial: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const o = { ...DEFAULT_CHAOS_OPTIONS, ...partial };
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'dvb-chaos-'));
  const doubao = await startDoubaoFake({ readyDelayMs: READY_DELAY_MS });
  const telegram = await startTelegramFake();
  const sessions = writeSessions(join(dataDir, 'session.json'), { users: 4 });
  const apiToken = randomBytes(16).toString('hex');
  const proc = new ServiceProcess(serviceEnv(dataDir, doubao, telegram, apiToken));
  const kills: Array<KillRecord & { at: number }> = [];
  const problems: string[] = [];
  const phases: PhaseReport[] = [];
  let release: () => void = () => {};
  let up: Promise<void> = Promise.resolve();
  const recoveries: Promise<void>[] = [];
  const dbPath = join(dataDir, 'tasks.db');
  const handle: ServiceHandle = { baseUrl: () => proc.baseUrl, whenUp: () => up, apiToken };

  const killLoop = async (count: number, spreadMs: number) => {
    for (let k = 0; k < count; k++) {
      await sleep(1_500 + randomInt(Math.max(1, spreadMs)));
      const at = Date.now();
      up = new Promise<void>((resolve) => {
        release = resolve;
      });
      await proc.kill9();
      const record: KillRecord & { at: number } = {
        at,
        atS: (at - started) / 1000,
        leasesHeld: 0,
        processing: 0,
        pending: 0,
        integrity: 'unread',
        recoveredS: undefined,
        restartS: undefined,
        takeOverS: undefined,
      };
      const leased = new Map<string, number>();
      try {
        const { tasks, integrity } = readDatabase(dbPath);
        const open = tasks.filter((t) => !FINAL.includes(t.status));
        for (const t of open) if (t.leaseUntil !== null && t.leaseUntil > at) leased.set(t.id, t.leaseToken);
        record.leasesHeld = leased.size;
        record.processing = open.filter((t) => t.status === 'processing').length;
        record.pending = open.filter((t) => t.status === 'pending').length;
        record.integrity = integrity;
      } catch (error) {
        record.integrity = `unreadable: ${(error as Error).message}`;
      }
      kills.push(record);
      o.log(`kill -9 #${k + 1} at ${record.atS.toFixed(1)} s: ${record.leasesHeld} leases held, restarting`);
      const restartedAt = Date.now();
      recoveries.push(watchRecovery(record, leased, restartedAt));
      await proc.start();
      record.restartS = (Date.now() - restartedAt) / 1000;
      try {
        const since = ownerSince(dbPath); // the new process took over before it served
        record.takeOverS = since === undefined ? undefined : (since - restartedAt) / 1000;
      } catch {
        // busy for a moment: the figure is left out
      }
      release();
    }
  };

  /**
   * Reads the database (WAL lets a reader in beside the service) from the restart on, until every task whose step
   * was in flight at the kill was claimed again (its fencing token grew) or is final.
   */
  const watchRecovery = async (record: KillRecord, leased: Map<string, number>, restartedAt: number) => {
    const deadline = restartedAt + 120_000;
    while (Date.now() < deadline) {
      const tasks = (() => {
        try {
          return readDatabase(dbPath, false).tasks;
        } catch {
          return undefined; // busy for a moment: look again
        }
      })();
      const held = tasks?.filter(
        (t) => leased.has(t.id) && leased.get(t.id)! >= t.leaseToken && !FINAL.includes(t.status),
      );
      if (held?.length === 0) {
        record.recoveredS = (Date.now() - restartedAt) / 1000;
        if (record.recoveredS > RECOVERY_GOAL_S) {
          problems.push(
            `the tasks in flight at the kill at ${record.atS} s were looked at again only ${record.recoveredS} s after the restart (goal: ${RECOVERY_GOAL_S} s)`,
          );
        }
        return;
      }
      await sleep(100);
    }
    problems.push(`tasks still held by the lease of the process killed at ${record.atS} s, 120 s after the restart`);
  };

  /** `during` runs after the submissions (and kills), before waiting for every task to end. */
  const runPhase = async (
    name: string,
    count: number,
    killCount: number,
    prefix: string,
    during?: () => Promise<void>,
  ) => {
    const phaseStart = Date.now();
    const httpCount = Math.ceil(count / 2);
    const users = Array.from(
      { length: count - httpCount },
      (_, i) => new TelegramUser(telegram, 100_000 + phases.length * 10_000 + i, `${prefix} tg #${i}`, i % 2 === 0),
    );
    const outcomes: HttpOutcome[] = [];
    const spreadMs = Math.min(20_000, Math.max(2_000, (count * 150) / Math.max(1, killCount)));
    // Submissions are spread over the time the kills happen in, so kills also land on requests in flight.
    const paceMs = killCount > 0 ? Math.max(20, (killCount * (1_500 + spreadMs / 2)) / count) : 50;
    const submissions = Array.from({ length: count }, async (_, i) => {
      await sleep(i * paceMs);
      const k = Math.floor(i / 2);
      if (i % 2 === 1) return users[k]!.send();
      outcomes.push(await submitHttp(handle, `${prefix} http #${k}`, k % 2 === 1));
    });
    await Promise.all([...submissions, killLoop(killCount, spreadMs)]);
    await during?.();
    const resent = await waitIdle(handle, users, Math.max(120_000, count * 1_500), o.log);
    await Promise.all(recoveries);
    phases.push({
      name,
      submitted: count,
      durationS: (Date.now() - phaseStart) / 1000,
      httpStatuses: countBy(outcomes.map((r) => String(r.status))),
      httpResubmits: outcomes.reduce((n, r) => n + r.resubmits, 0),
      telegramResent: resent,
      failureReasons: {},
      duplicateTasks: {},
      ...emptyCounts(),
    });
    return { outcomes, users, prefix };
  };

  const results: Array<Awaited<ReturnType<typeof runPhase>>> = [];
  let outage: OutageRecord | undefined;
  let stormRecord: StormRecord | undefined;
  try {
    o.log(`starting the service (DATA_DIR ${dataDir})`);
    await proc.start();
    o.log(`phase 1: ${o.tasks} tasks, ${o.kills} kill -9`);
    results.push(await runPhase('kill -9 × restart', o.tasks, o.kills, 'chaos-kill'));
    o.log(`phase 2: ${o.faultTasks} tasks, ${Math.round(o.faultRate * 100)} % of Doubao calls failing`);
    doubao.knobs.randomFaultRate = o.faultRate;
    results.push(await runPhase(`${Math.round(o.faultRate * 100)} % upstream faults`, o.faultTasks, 0, 'chaos-fault'));
    doubao.knobs.randomFaultRate = 0;
    if (o.outageTasks > 0) {
      o.log(`phase 3: ${o.outageTasks} tasks, Telegram down for ${o.outageS} s, admins storming /cancel and /retry`);
      const storm = new AdminStorm(telegram, dbPath, 'chaos-outage', o.stormEveryMs);
      // A look is one list call, so with the phases' 1.5 s videos every result would be sent before Telegram goes
      // down: these videos take longer, so their results fall due during the outage.
      doubao.knobs.readyDelayMs = OUTAGE_READY_DELAY_MS;
      let window = { from: 0, to: 0 };
      results.push(
        await runPhase('chat outage + admin storm', o.outageTasks, 0, 'chaos-outage', async () => {
          storm.start(); // the admins cancel running tasks and retry ended ones, so tasks keep running
          await sleep(OUTAGE_READY_DELAY_MS / 4);
          o.log(`  Telegram down (502 to every call) for ${o.outageS} s`);
          window = await chatOutage(telegram, o.outageS * 1000, (from) => resultDueSince(dbPath, 'chaos-outage', from));
          o.log('  Telegram back');
          await sleep(Math.min(10_000, o.outageS * 1000)); // the storm goes on a while after
          if (!(await storm.stop())) problems.push('the bot did not answer every admin command of the storm');
          stormRecord = storm.figures();
        }),
      );
      await resultsDrained(dbPath, 'chaos-outage', 60_000);
      outage = outageFigures(telegram, dbPath, 'chaos-outage', window, started);
    }
    const code = await proc.stop();
    if (code !== 0) problems.push(`the service did not stop cleanly on SIGTERM (exit ${code})`);
  } catch (error) {
    problems.push(`the run was cut short: ${(error as Error).message}`);
    proc.forceKill();
  }

  const { tasks, integrity } = readDatabase(dbPath);
  if (integrity !== 'ok') problems.push(`PRAGMA integrity_check after the run: ${integrity}`);
  for (const kill of kills) {
    if (kill.integrity !== 'ok')
      problems.push(`PRAGMA integrity_check after the kill at ${kill.atS} s: ${kill.integrity}`);
  }
  results.forEach(({ outcomes, users, prefix }, i) => {
    const phase = phases[i]!;
    const own = tasks.filter((t) => t.prompt.startsWith(`${prefix} `));
    Object.assign(phase, tallyTasks(own));
    for (const platform of ['http', 'telegram']) {
      const mine = own.filter((t) => t.platform === platform);
      phase.duplicateTasks[platform] = mine.length - new Set(mine.map((t) => t.prompt)).size;
    }
    if (phase.duplicateTasks.http) {
      problems.push(
        `${phase.name}: ${phase.duplicateTasks.http} HTTP requests re-sent with their Idempotency-Key became two tasks`,
      );
    }
    phase.failureReasons = countBy(own.filter((t) => t.status === 'failed').map((t) => t.error ?? ''));
    for (const p of [...outcomes.map((r) => r.prompt), ...users.map((u) => u.prompt)]) {
      if (!own.some((t) => t.prompt === p)) problems.push(`${phase.name}: no task was stored for "${p}"`);
    }
    for (const t of own.filter((t) => !FINAL.includes(t.status)))
      problems.push(`${phase.name}: task ${t.id} ended the run ${t.status}`);
    for (const t of own.filter((t) => t.status === 'failed')) {
      const why = unreadableReason(t.error);
      if (why) problems.push(`${phase.name}: task ${t.id} failed with an unreadable reason (${why}): ${t.error}`);
    }
    for (const r of outcomes.filter((r) => r.status !== 200)) {
      const allowed = phase.name.includes('faults') && (r.status === 502 || r.status === 503);
      const why = unreadableReason(r.detail);
      if (!allowed || why) problems.push(`${phase.name}: HTTP ${r.status} for "${r.prompt}": ${r.detail}`);
    }
    phase.delivery = checkDeliveries(
      own,
      telegram.sent,
      kills.map((k) => k.at),
    );
    for (const id of phase.delivery.missing)
      problems.push(`${phase.name}: Telegram task ${id} was never told its result`);
    for (const id of phase.delivery.duplicates)
      problems.push(`${phase.name}: Telegram task ${id} was told its result twice`);
    const undelivered = own.filter((t) => t.platform === 'telegram' && !t.deliveredAt);
    for (const t of undelivered) problems.push(`${phase.name}: Telegram task ${t.id} has no delivered_at`);
  });
  const output = proc.output.join('');
  const secrets = {
    TELEGRAM_TOKEN: telegram.token,
    API_TOKEN: apiToken,
    ...Object.fromEntries(sessions.map((s, i) => [`session ${i} sessionid`, sessionIdCookie(s)])),
    ...Object.fromEntries(sessions.map((s, i) => [`session ${i} x_flow_trace`, s.x_flow_trace])),
  };
  const leaks = leakedSecrets(output, secrets);
  for (const name of leaks) problems.push(`the service printed a secret: ${name}`);
  for (const crash of proc.crashes) problems.push(`the service crashed: ${crash}`);
  const unhandled = (output.match(/unhandled rejection|uncaughtException/g) ?? []).length;
  if (unhandled) problems.push(`the service logged ${unhandled} unhandled rejection(s)`);
  if (outage && outage.resultsHeldUp > 0 && outage.drainedS === undefined)
    problems.push('results Telegram refused during the outage were never delivered after it ended');
  if (outage && outage.refusedCalls === 0) problems.push('the chat outage refused no Bot API call: it tested nothing');
  if (stormRecord && stormRecord.cancelsDone + stormRecord.retriesDone === 0)
    problems.push('the admin storm changed no task: it tested nothing');

  await Promise.all([doubao.close(), telegram.close()]);
  if (problems.length === 0) rmSync(dataDir, { recursive: true, force: true });
  return {
    options: {
      tasks: o.tasks,
      kills: o.kills,
      faultTasks: o.faultTasks,
      faultRate: o.faultRate,
      outageTasks: o.outageTasks,
      outageS: o.outageS,
    },
    outage,
    storm: stormRecord,
    durationS: (Date.now() - started) / 1000,
    starts: proc.starts,
    kills: kills.map(({ at: _at, ...k }) => k),
    crashes: proc.crashes.length,
    doubaoRandomFaults: doubao.randomFaults(),
    errorLogLines: (output.match(/"level":50/g) ?? []).length,
    integrity,
    phases,
    problems,
    dataDir: problems.length === 0 ? undefined : dataDir,
  };
}

/**
 * Waits until no task is pending or processing and every Telegram user has their result; users the bot never
 * answered once things are quiet for 5 s lost their message in a kill, and send it again. Returns how many did.
 */
async function waitIdle(
  handle: ServiceHandle,
  users: TelegramUser[],
  timeoutMs: number,
  log: (line: string) => void,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let quietSince: number | undefined;
  let resent = 0;
  let lastLog = 0;
  while (Date.now() < deadline) {
    await handle.whenUp();
    const counts = await taskCounts(handle).catch(() => undefined);
    if (counts) {
      const active = (counts.pending ?? 0) + (counts.processing ?? 0);
      const waiting = users.filter((u) => !u.finished());
      if (active === 0 && waiting.length === 0) return resent;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`  ${active} tasks active, ${waiting.length} Telegram users waiting, ${JSON.stringify(counts)}`);
      }
      if (active === 0) {
        quietSince ??= Date.now();
        if (Date.now() - quietSince > 5_000) {
          for (const user of waiting.filter((u) => !u.answered())) {
            user.send();
            resent++;
          }
          quietSince = undefined;
        }
      } else quietSince = undefined;
    }
    await sleep(500);
  }
  throw new Error(`tasks still active after ${timeoutMs / 1000} s`);
}

function serviceEnv(dataDir: string, doubao: DoubaoFake, telegram: TelegramFake, apiToken: string) {
  return {
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    API_TOKEN: apiToken,
    PROVIDER: 'doubao',
    DOUBAO_SESSIONS_FILE: join(dataDir, 'session.json'),
    DOUBAO_BASE_URL: doubao.baseUrl,
    DOUBAO_IMAGEX_URL: doubao.imagexUrl,
    DOUBAO_UPLOAD_URL: doubao.uploadUrl,
    DOUBAO_PAGE_WAIT_S: '1',
    DOUBAO_MIN_SPACING_MS: '0',
    DOUBAO_COOLDOWN_S: '1',
    DOUBAO_MAX_COOLDOWN_S: '4',
    DOUBAO_FIRST_CHECK_S: '1',
    DOUBAO_POLL_INTERVAL_S: '1',
    DOUBAO_MAX_WAIT_S: '20',
    FIRST_ATTEMPT_DELAY_S: '1',
    RETRY_INTERVAL_S: '1',
    MAX_ATTEMPTS: '5',
    ATTEMPT_TIMEOUT_S: '4',
    DOWNLOAD_TIMEOUT_S: '3',
    TELEGRAM_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_ADMIN_IDS: ADMIN_CHATS.join(','),
    // Failed sends are tried again after 1 s, doubling to 30 s (the default cap is an hour).
    OUTBOX_RETRY_BASE_S: '1',
    OUTBOX_RETRY_MAX_S: '30',
    LOG_LEVEL: 'info',
  };
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function emptyCounts() {
  return {
    tasks: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    nonFinal: 0,
    delivery: { exactlyOnce: 0, outcomes: 0, retried: 0, duplicatesDuringKill: [], duplicates: [], missing: [] },
  };
}

function tallyTasks(tasks: ReturnType<typeof readDatabase>['tasks']) {
  const by = countBy(tasks.map((t) => t.status));
  const final = (by.completed ?? 0) + (by.failed ?? 0) + (by.cancelled ?? 0);
  return {
    tasks: tasks.length,
    completed: by.completed ?? 0,
    failed: by.failed ?? 0,
    cancelled: by.cancelled ?? 0,
    nonFinal: tasks.length - final,
  };
}
