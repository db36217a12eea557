/**
 * The chaos run's report: its figures per phase and per kill, the broken promises (`problems`, empty when the run
 * passed), and the summary table `npm run chaos` prints and docs/chaos.md quotes.
 */
import type { OutageRecord, StormRecord } from './chat-outage.js';
import type { DeliveryCheck } from './verify.js';

/** Seconds after a restart by which every task in flight at the kill must have been looked at again. */
export const RECOVERY_GOAL_S = 10;

export interface KillRecord {
  /** Seconds since the run started. */
  atS: number;
  /** Unfinished tasks whose lease the killed process still held: its steps in flight. */
  leasesHeld: number;
  /** Tasks in `processing` at the moment of the kill. */
  processing: number;
  /** Tasks in `pending` at the moment of the kill. */
  pending: number;
  /** `PRAGMA integrity_check` of the database the killed process left. */
  integrity: string;
  /**
   * Seconds from the restart (the new process spawned) until every task whose step was in flight at the kill was
   * looked at again (claimed anew: its fencing token grew) or was final. Goal: under `RECOVERY_GOAL_S`.
   */
  recoveredS: number | undefined;
  /** Seconds from the restart until the new process was serving (HTTP API listening, Telegram bot polling). */
  restartS: number | undefined;
  /** Seconds from the restart until the new process took over the dead one's leases (its scheduler started). */
  takeOverS: number | undefined;
}

export interface PhaseReport {
  name: string;
  submitted: number;
  durationS: number;
  tasks: number;
  completed: number;
  failed: number;
  cancelled: number;
  nonFinal: number;
  httpStatuses: Record<string, number>;
  httpResubmits: number;
  telegramResent: number;
  /** Extra tasks for one request, by platform: an HTTP submission repeated after its connection died, or a
   * Telegram update the killed process handled but had not confirmed, so Telegram sent it again. */
  duplicateTasks: Record<string, number>;
  /** Distinct reasons of failed tasks, with how many tasks failed with each. */
  failureReasons: Record<string, number>;
  delivery: DeliveryCheck;
}

export interface ChaosReport {
  options: {
    tasks: number;
    kills: number;
    faultTasks: number;
    faultRate: number;
    outageTasks: number;
    outageS: number;
  };
  /** The chat-outage phase: what Telegram refused, and how fast the backlog drained after. */
  outage: OutageRecord | undefined;
  /** The admins' /cancel and /retry storm of that phase. */
  storm: StormRecord | undefined;
  durationS: number;
  starts: number;
  kills: KillRecord[];
  crashes: number;
  doubaoRandomFaults: number;
  errorLogLines: number;
  integrity: string;
  phases: PhaseReport[];
  problems: string[];
  /** Kept for inspection when the run found problems. */
  dataDir: string | undefined;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function formatReport(r: ChaosReport): string {
  const phaseRows = [
    [
      'phase',
      'submitted',
      'tasks',
      'final',
      'completed',
      'failed',
      'cancelled',
      'TG exactly once',
      'TG outcomes told',
      'HTTP answers',
      'time',
    ],
    ...r.phases.map((p) => [
      p.name,
      String(p.submitted),
      String(p.tasks),
      `${p.tasks - p.nonFinal}/${p.tasks}`,
      String(p.completed),
      String(p.failed),
      String(p.cancelled),
      `${p.delivery.exactlyOnce}/${p.delivery.exactlyOnce + p.delivery.missing.length + p.delivery.duplicates.length + p.delivery.duplicatesDuringKill.length}`,
      `${p.delivery.outcomes} (${p.delivery.retried} tasks retried)`,
      Object.entries(p.httpStatuses)
        .map(([s, n]) => `${n}×${s}`)
        .join(' '),
      `${p.durationS.toFixed(1)} s`,
    ]),
  ];
  const killRows = [
    [
      'kill',
      'at',
      'in flight (leases held)',
      'pending',
      'processing',
      'integrity_check',
      'in-flight tasks looked at again',
      'leases taken over',
      'serving again',
    ],
    ...r.kills.map((k, i) => [
      `#${i + 1}`,
      `${k.atS.toFixed(1)} s`,
      String(k.leasesHeld),
      String(k.pending),
      String(k.processing),
      k.integrity,
      k.recoveredS === undefined ? 'NO' : `${k.recoveredS.toFixed(1)} s after restart`,
      k.takeOverS === undefined ? '-' : `${k.takeOverS.toFixed(1)} s`,
      k.restartS === undefined ? '-' : `${k.restartS.toFixed(1)} s`,
    ]),
  ];
  const extra = r.phases.map(
    (p) =>
      `${p.name}: ${p.httpResubmits} HTTP resubmits after a dropped connection, ${p.telegramResent} Telegram messages sent again (lost in a kill), ${p.duplicateTasks.http ?? 0} HTTP and ${p.duplicateTasks.telegram ?? 0} Telegram requests that became two tasks, ${p.delivery.duplicatesDuringKill.length} duplicate deliveries from a kill during the send`,
  );
  if (r.outage) {
    const o = r.outage;
    extra.push(
      `chat outage at ${o.atS.toFixed(1)} s for ${o.durationS.toFixed(1)} s: ${o.refusedCalls} Bot API calls and ` +
        `${o.refusedPolls} getUpdates answered 502; ${o.resultsHeldUp} results fell due meanwhile ` +
        `(${o.outboxRetries} outbox retries), all delivered ` +
        `${o.drainedS === undefined ? 'NEVER' : `${o.drainedS.toFixed(1)} s`} after Telegram came back`,
    );
  }
  if (r.storm) {
    const s = r.storm;
    extra.push(
      `admin storm: ${s.commands} commands, ${s.cancelsDone} cancels and ${s.retriesDone} retries done, ` +
        `${s.refused} refused as not possible (finished, or still running)`,
    );
  }
  const reasons = r.phases.flatMap((p) =>
    Object.entries(p.failureReasons).map(([reason, n]) => `  ${p.name}: ${n}× "${reason}"`),
  );
  if (reasons.length) extra.push('failure reasons:', ...reasons);
  const totals = [
    `total: ${r.durationS.toFixed(1)} s, ${r.starts} starts, ${r.kills.length} kill -9, ${r.crashes} crashes, ` +
      `${r.doubaoRandomFaults} injected Doubao faults, ${r.errorLogLines} error log lines, final integrity_check ${r.integrity}`,
  ];
  const verdict = r.problems.length
    ? [`FAILED: ${r.problems.length} problem(s)`, ...r.problems.slice(0, 30).map((p) => `  - ${p}`)]
    : ['PASSED: every task final, each Telegram outcome told exactly once, failures readable, no crash'];
  return [table(phaseRows), '', table(killRows), '', ...extra, ...totals, '', ...verdict].join('\n');
}
