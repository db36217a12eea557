/**
 * The CI short form of `npm run chaos`: the same run and the same promises with 20 tasks, 2 `kill -9`s, a 10-task
 * phase with 30 % of the fake Doubao's calls failing, and a 10-task phase with Telegram down (502) for 60 s (longer than grammY's own retries) while
 * admins storm /cancel and /retry. The report's `problems` lists every broken promise
 * (a task left unfinished, a Telegram result sent twice or never, an unreadable failure reason, a crash, a leaked
 * secret, a failed integrity check, tasks in flight at a kill not looked at again within 10 s of the restart), so
 * the test shows them all at once when it fails.
 */
import { expect, it } from 'vitest';
import { formatReport, RECOVERY_GOAL_S } from './report.js';
import { runChaos } from './run-chaos.js';

it('survives kill -9, upstream faults, a chat outage and an admin storm: every task final, each outcome told once', async () => {
  const report = await runChaos({
    tasks: 20,
    kills: 2,
    faultTasks: 10,
    faultRate: 0.3,
    outageTasks: 10,
    outageS: 60,
    stormEveryMs: 300,
  });
  expect(report.problems, formatReport(report)).toEqual([]);
  expect(report.kills).toHaveLength(2);
  expect(report.kills.every((k) => k.integrity === 'ok')).toBe(true);
  expect(report.kills.every((k) => k.recoveredS !== undefined && k.recoveredS < RECOVERY_GOAL_S)).toBe(true);
  expect(report.crashes).toBe(0);
  expect(report.doubaoRandomFaults).toBeGreaterThan(0);
  const [killPhase, faultPhase, outagePhase] = report.phases;
  expect(killPhase).toMatchObject({ submitted: 20, nonFinal: 0 });
  expect(killPhase!.tasks).toBeGreaterThanOrEqual(20);
  expect(killPhase!.delivery.exactlyOnce).toBeGreaterThanOrEqual(10);
  expect(faultPhase).toMatchObject({ submitted: 10, nonFinal: 0 });
  expect(outagePhase).toMatchObject({ submitted: 10, nonFinal: 0 });
  const table = formatReport(report);
  expect(report.outage!.refusedCalls, table).toBeGreaterThan(0);
  expect(report.outage!.resultsHeldUp, table).toBeGreaterThan(0);
  expect(report.outage!.drainedS, table).toBeDefined();
  expect(report.storm!.cancelsDone + report.storm!.retriesDone, table).toBeGreaterThan(0);
}, 300_000);
