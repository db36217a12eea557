/**
 * `npm run bench`: runs every benchmark in turn against servers on loopback and prints one table, the one copied
 * into the README. Benchmarks, not tests: they measure and print, and fail only when they cannot run.
 * `npm run bench -- <words>` runs only the benchmarks whose name contains one of the words.
 */
import type { Bench, BenchRow } from './bench-row.js';

const benches: Record<string, () => Promise<{ default: Bench }>> = {
  // First, so that its memory figure starts from a process no other bench has grown.
  'in-flight tasks': () => import('./in-flight.js'),
  'status endpoint': () => import('./http-status.js'),
  'retrieval attempt': () => import('./retrieval.js'),
  'look by transport': () => import('./look-transport.js'),
  'notification delay': () => import('./notification-delay.js'),
  'discord /video defer': () => import('./discord-defer.js'),
  'cluster processes': () => import('./cluster.js'),
};

const only = process.argv.slice(2);

const rows: BenchRow[] = [];
for (const [name, load] of Object.entries(benches)) {
  if (only.length > 0 && !only.some((word) => name.includes(word))) continue;
  process.stderr.write(`running ${name}…\n`);
  rows.push(...(await (await load()).default()));
}
const width = Math.max(...rows.map((r) => r.name.length), 10);
const valueWidth = Math.max(...rows.map((r) => r.value.length), 8);
console.log(`| ${'measure'.padEnd(width)} | ${'result'.padEnd(valueWidth)} | reference |`);
console.log(`| ${'-'.repeat(width)} | ${'-'.repeat(valueWidth)} | --- |`);
for (const r of rows) console.log(`| ${r.name.padEnd(width)} | ${r.value.padEnd(valueWidth)} | ${r.reference ?? ''} |`);
process.exit(0);
