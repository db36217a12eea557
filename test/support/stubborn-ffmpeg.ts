/**
 * A stand-in for an ffmpeg that hangs and ignores SIGTERM (as the real one did on a PNG without pixel data): a
 * shell script that forks a helper, appends both process ids to a file (one line per run), then sleeps for ever
 * with SIGTERM ignored. Tests check that the whole process group is gone once a run is stopped.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function stubbornFfmpeg(dir: string): { path: string; pids: () => number[]; runs: () => number } {
  const path = join(dir, 'stubborn-ffmpeg.sh');
  const pidFile = join(dir, 'stubborn.pids');
  writeFileSync(
    path,
    `#!/bin/sh\ntrap '' TERM\nsleep 1000 &\necho "$$ $!" >> ${pidFile}\nwhile true; do sleep 1; done\n`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    pids: () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number) : []),
    runs: () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split('\n').length : 0),
  };
}

/** True while a process with this id exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
