/**
 * Claims one render across processes that share DATA_DIR (issue 16): a lock file next to the video, created with
 * O_EXCL so exactly one process gets it, naming who renders (pid, host, since when). Its holder touches its mtime
 * every `refreshMs` while the render is queued or running; a lock not touched for `staleMs` belongs to a process
 * that died (kill -9, a lost machine) and is taken over. The holder removes it when the render ends, whatever
 * the outcome. Lock times are compared with this machine's clock: the machines sharing the volume need
 * synchronised clocks (NTP). Should two renders of one video still happen (a holder stalled for longer than
 * `staleMs`, clocks apart), each writes its own temporary file and renames it atomically (render.ts): the work is
 * wasted, the task is not harmed.
 */
import type { Stats } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

export interface LockTiming {
  /** How often the holder touches its lock. */
  refreshMs: number;
  /** How long an untouched lock counts as held; several refreshes, so a busy holder is not robbed. */
  staleMs: number;
}

export const DEFAULT_LOCK_TIMING: LockTiming = { refreshMs: 2_000, staleMs: 10_000 };

/** A claimed render: `release` stops the refreshing and removes the lock (only ours, never a successor's). */
export interface RenderLock {
  release(): Promise<void>;
}

/**
 * Claims the render guarded by the lock file at `path`: the lock, or undefined when a live process holds it
 * (that one renders; the caller waits for the video). @throws when the lock cannot be written (a full disk).
 */
export async function claimRender(path: string, timing: LockTiming): Promise<RenderLock | undefined> {
  await mkdir(dirname(path), { recursive: true });
  // A few rounds: the lock may be released or taken over between our attempt and our look at it.
  for (let round = 0; round < 3; round++) {
    const lock = await create(path, timing);
    if (lock) return lock;
    const held = await stat(path).catch(() => undefined);
    if (!held) continue;
    if (!isStale(held, timing.staleMs)) return undefined;
    if (!(await removeStale(path, held, timing.staleMs))) return undefined;
  }
  return undefined;
}

const isStale = (file: Stats, staleMs: number) => Date.now() - file.mtimeMs > staleMs;

/** Creates the lock when nobody holds it (O_EXCL) and keeps it fresh; undefined when it exists. */
async function create(path: string, timing: LockTiming): Promise<RenderLock | undefined> {
  const handle = await open(path, 'wx').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') return undefined;
    throw error;
  });
  if (!handle) return undefined;
  let ino: number;
  try {
    await handle.writeFile(
      `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`,
    );
    ino = (await handle.stat()).ino;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
  // Touched through our own descriptor: should the lock have been taken over, the successor's file is left alone.
  const refresher = setInterval(() => {
    const at = new Date();
    handle.utimes(at, at).catch(() => undefined); // a failed touch only lets the lock go stale sooner
  }, timing.refreshMs);
  refresher.unref();
  return {
    async release() {
      clearInterval(refresher);
      const current = await stat(path).catch(() => undefined);
      if (current?.ino === ino) await rm(path, { force: true });
      await handle.close().catch(() => undefined);
    },
  };
}

/**
 * Removes the stale lock `held`, so that the next O_EXCL creation decides who renders. Only the holder of a
 * second O_EXCL file, `<lock>.takeover`, may remove a lock, and it looks again first: so a lock that another
 * process has just taken over (fresh, another file) is never removed, which a plain look-then-remove would do
 * when two processes find the same stale lock. @returns whether the stale lock is gone.
 */
async function removeStale(path: string, held: Stats, staleMs: number): Promise<boolean> {
  const guardPath = `${path}.takeover`;
  const guard = await open(guardPath, 'wx').catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
    // Another process is taking over (it renders), or one died doing so: its guard goes once stale too.
    const left = await stat(guardPath).catch(() => undefined);
    if (left && isStale(left, staleMs)) await rm(guardPath, { force: true });
    return undefined;
  });
  if (!guard) return false;
  try {
    const current = await stat(path).catch(() => undefined);
    if (!current) return true;
    if (current.ino !== held.ino || !isStale(current, staleMs)) return false;
    await rm(path, { force: true });
    return true;
  } finally {
    await guard.close().catch(() => undefined);
    await rm(guardPath, { force: true });
  }
}
