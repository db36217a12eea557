/**
 * Start-up reconciliation for Ark: a create that succeeded upstream while the process died before storing the
 * task id leaves an Ark task nobody polls, and our task would be started a second time (and billed twice).
 * Ark keeps no field of ours on a task and does not echo the prompt, so a lost task is recognised by what we do
 * know: its model and a creation time inside the window in which our start was under way. Each Ark task is
 * adopted at most once, never one another task already owns, and the earliest start takes the earliest match.
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
  isKnown: (upstreamId: string) => boolean,
): Promise<Map<string, UpstreamRef>> {
  const found = new Map<string, UpstreamRef>();
  if (interrupted.length === 0) return found;
  const earliest = Math.min(...interrupted.map((s) => s.from)) - SLACK_MS;
  const candidates: ArkTask[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { items } = await client.list(page, PAGE_SIZE);
    candidates.push(...items.filter((t) => !isKnown(t.id)));
    const oldest = Math.min(...items.map((t) => (t.created_at ?? 0) * 1000));
    if (items.length < PAGE_SIZE || oldest < earliest) break;
  }
  const taken = new Set<string>();
  for (const start of [...interrupted].sort((a, b) => a.from - b.from)) {
    const match = candidates
      .filter((t) => !taken.has(t.id) && t.model === modelOf(start.kind))
      .filter((t) => {
        const at = (t.created_at ?? 0) * 1000;
        return at >= start.from - SLACK_MS && at <= start.until + SLACK_MS;
      })
      .sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0))[0];
    if (!match) continue;
    taken.add(match.id);
    found.set(start.taskId, { id: match.id });
  }
  return found;
}
