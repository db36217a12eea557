/**
 * Runs a helper program (ffmpeg) so that it can always be stopped: it gets its own process group (`detached`),
 * and on timeout, abort or `killAll` the whole group gets SIGTERM, then SIGKILL after a grace period — a program
 * that ignores SIGTERM (ffmpeg spinning on a broken image did) or forked helpers cannot outlive its budget.
 * `execFile`'s own timeout only sends SIGTERM to the direct child, and its promise waits for that child forever.
 * Callers stop their runs at shutdown through `signal`.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Wall-clock budget; then the group is stopped and the run fails. */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL. @defaultValue 2000 */
  graceMs?: number;
  /** Aborting stops the group the same way as the timeout. */
  signal?: AbortSignal;
  /** Bytes of stdout kept (more is an error). @defaultValue 64 MiB */
  maxStdoutBytes?: number;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/** The error of a failed run: `stderr` holds the program's last words; `killed` says it was stopped by us. */
export class RunFailed extends Error {
  override readonly name = 'RunFailed';
  constructor(
    message: string,
    readonly stderr: string,
    readonly killed: boolean,
  ) {
    super(message);
  }
}

const STDERR_KEPT = 8 * 1024;

/** Runs `file args…`; resolves with its output when it exits with 0, else rejects with RunFailed. */
export function runKillable(file: string, args: string[], options: RunOptions): Promise<RunResult> {
  const graceMs = options.graceMs ?? 2000;
  const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new RunFailed(`${file.split('/').pop()} was cancelled`, '', true));
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let stoppedFor: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // The group is gone already.
      }
    };
    const stop = (reason: string) => {
      if (stoppedFor) return;
      stoppedFor = reason;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      killTimer.unref();
    };
    const onAbort = () => stop('it was cancelled');
    const timer = setTimeout(
      () => stop(`it took longer than ${Math.round(options.timeoutMs / 1000)} s`),
      options.timeoutMs,
    );
    timer.unref();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) return stop('its output was too large');
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_KEPT);
    });
    child.on('error', (error) => {
      finish();
      reject(error);
    });
    child.on('close', (code, sig) => {
      // Helpers it forked may still hold the group: make sure none outlives the run.
      if (stoppedFor) signalGroup('SIGKILL');
      finish();
      if (code === 0 && !stoppedFor) return resolve({ stdout: Buffer.concat(stdout), stderr });
      const why = stoppedFor ? `stopped because ${stoppedFor}` : `exited with ${sig ?? `code ${code}`}`;
      reject(new RunFailed(`${file.split('/').pop()} ${why}`, stoppedFor ? `${why}` : stderr, Boolean(stoppedFor)));
    });

    function finish() {
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  });
}
