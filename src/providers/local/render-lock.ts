/**
 * Claims one render across processes that share DATA_DIR (issue 16): a lock file next to the video, created with
 * O_EXCL so exactly one process gets it, naming who renders (pid, host, since when). Its holder touches its mtime
 * every `refreshMs` while the render is queued or running; a lock not touched for `staleMs` belongs to a process
 * that died (kill -9, a lost machine) and is taken over. The holder removes it when the render ends, whatever
 * the outcome. Lock times are the file system's: the machines sharing the volume need synchronised clocks (NTP).
 * Should two renders of one video still happen (a takeover race, a holder too busy to refresh), each writes its
 * own temporary file and renames it atomically (render.ts): the work is wasted, the task is not harmed.
 */
import { randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import { link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
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
 * Removes the stale lock `held`, so that the next O_EXCL creation decides who renders. It is first moved aside
 * under a name of our own (rename is atomic): when what we moved turns out to be a fresh lock — another process
 * took over between our look and our move — it is put back (`link` fails rather than overwrite a third one's).
 * @returns whether the stale lock is gone.
 */
async function removeStale(path: string, held: Stats, staleMs: number): Promise<boolean> {
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true; // removed meanwhile
    throw error;
  }
  const moved = await stat(aside);
  if (moved.ino === held.ino && isStale(moved, staleMs)) {
    await rm(aside, { force: true });
    return true;
  }
  await link(aside, path).catch(() => undefined);
  await rm(aside, { force: true });
  return false;
}
