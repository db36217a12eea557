/**
 * `npm run chaos [-- --tasks 200 --kills 3 --fault-tasks 100 --fault-rate 0.3 --outage-tasks 60 --outage-s 180]`:
 * runs the chaos suite
 * (run-chaos.ts) and prints its summary table; exits 1 when any promise was broken.
 */
import { parseArgs } from 'node:util';
import { formatReport } from './report.js';
import { runChaos } from './run-chaos.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '200' },
    kills: { type: 'string', default: '3' },
    'fault-tasks': { type: 'string', default: '100' },
    'fault-rate': { type: 'string', default: '0.3' },
    'outage-tasks': { type: 'string', default: '60' },
    'outage-s': { type: 'string', default: '180' },
  },
});

function positive(name: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > max) {
    console.error(`Expected --${name} to be a number from 0 to ${max}, got \`${raw}\``);
    process.exit(2);
  }
  return n;
}

const report = await runChaos({
  tasks: Math.round(positive('tasks', values.tasks, 5_000)),
  kills: Math.round(positive('kills', values.kills, 50)),
  faultTasks: Math.round(positive('fault-tasks', values['fault-tasks'], 5_000)),
  faultRate: positive('fault-rate', values['fault-rate'], 1),
  outageTasks: Math.round(positive('outage-tasks', values['outage-tasks'], 5_000)),
  outageS: positive('outage-s', values['outage-s'], 3_600),
  log: (line) => console.log(line),
});
console.log(`\n${formatReport(report)}`);
if (report.dataDir) console.log(`DATA_DIR kept for inspection: ${report.dataDir}`);
process.exit(report.problems.length === 0 ? 0 : 1);
