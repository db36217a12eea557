/**
 * Start-up reconciliation for Ark: a create that succeeded upstream while the process died before storing the
 * task id leaves an Ark task nobody polls, and our task would be started a second time (and billed twice).
 * Ark keeps no field of ours on a task and does not echo the prompt, so a lost task is recognised by what we do
 * know: its model and a creation time inside the window in which our start was under way. Only an unambiguous
 * match is adopted: the start has exactly one such Ark task, and that Ark task fits no other interrupted start.
 * Anything else (two starts in one window) is started again: an extra Ark task costs money, another user's video
 * in someone's chat costs trust. An Ark task another task already owns is never a candidate.
 */
import type { InterruptedStart, UpstreamRef } from '../provider.js';
import type { ArkClient, ArkTask } from './client.js';

const PAGE_SIZE = 50;
const MAX_PAGES = 10;
// Ark's created_at has whole seconds; allow for that and for clock skew between us and Ark.
const SLACK_MS = 2_000;

export async function recoverLostTasks(
  client: ArkClient,
  modelOf: (kind: InterruptedStart['kind']) => string,
  interrupted: InterruptedStart[],
  isKnown: (upstreamId: string) => Promise<boolean>,
): Promise<Map<string, UpstreamRef>> {
  const found = new Map<string, UpstreamRef>();
  if (interrupted.length === 0) return found;
  const earliest = Math.min(...interrupted.map((s) => s.from)) - SLACK_MS;
  const candidates: ArkTask[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { items } = await client.list(page, PAGE_SIZE);
    for (const t of items) if (!(await isKnown(t.id))) candidates.push(t);
    const oldest = Math.min(...items.map((t) => (t.created_at ?? 0) * 1000));
    if (items.length < PAGE_SIZE || oldest < earliest) break;
  }
  const fits = (start: InterruptedStart, t: ArkTask) => {
    const at = (t.created_at ?? 0) * 1000;
    return t.model === modelOf(start.kind) && at >= start.from - SLACK_MS && at <= start.until + SLACK_MS;
  };
  for (const start of interrupted) {
    const mine = candidates.filter((t) => fits(start, t));
    if (mine.length !== 1) continue;
    const [only] = mine as [ArkTask];
    if (interrupted.some((other) => other !== start && fits(other, only))) continue;
    found.set(start.taskId, { id: only.id });
  }
  return found;
}
