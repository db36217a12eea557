/**
 * The real service (`src/main.ts`, what `npm start` runs) as a child process the chaos suite can start, `kill -9`
 * and start again on the same DATA_DIR. The child leads its own process group, so a kill takes its Chromium down
 * too, as a crashed container would. Every line it prints is kept (to grep for secrets and stack traces), and an
 * exit nobody asked for is counted as a crash.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 60_000;

export class ServiceProcess {
  readonly #env: Record<string, string>;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  #expectingExit = false;
  /** Everything the children printed, stdout and stderr, across restarts. */
  readonly output: string[] = [];
  /** Exits nobody asked for, with their code or signal. */
  readonly crashes: string[] = [];
  starts = 0;
  kills = 0;
  /** The HTTP API's address of the running child, e.g. `http://127.0.0.1:41234`. */
  baseUrl = '';

  constructor(env: Record<string, string>) {
    this.#env = env;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the service and resolves once its HTTP API listens and its Telegram bot polls. */
  async start(): Promise<void> {
    this.#expectingExit = false;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...this.#env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.#child = child;
    this.starts++;
    const lines = { address: '', polling: false, pending: '' };
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the service did not start within 60 s')), START_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        const text = String(chunk);
        this.output.push(text);
        lines.pending += text;
        const complete = lines.pending.split('\n');
        lines.pending = complete.pop() ?? '';
        for (const line of complete) {
          if (line.includes('"HTTP API listening"')) lines.address = /"address":"([^"]+)"/.exec(line)?.[1] ?? '';
          if (line.includes('"Telegram bot polling"')) lines.polling = true;
        }
        if (lines.address && lines.polling) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => this.output.push(String(chunk)));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the service exited during start-up (${signal ?? code})`));
      });
    });
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.#expectingExit) this.crashes.push(`exit ${signal ?? code} at ${new Date().toISOString()}`);
        if (this.#child === child) this.#child = undefined;
        resolve(code);
      }),
    );
    await ready;
    this.baseUrl = lines.address;
  }

  /** `kill -9` of the service and everything it started; resolves once it is gone. */
  async kill9(): Promise<void> {
    if (!this.#child?.pid) return;
    this.#expectingExit = true;
    this.kills++;
    process.kill(-this.#child.pid, 'SIGKILL');
    await this.#exited;
  }

  /** SIGTERM, as an operator stops it; resolves with the exit code (0 for a clean stop). */
  async stop(): Promise<number | null> {
    if (!this.#child?.pid) return null;
    this.#expectingExit = true;
    this.#child.kill('SIGTERM');
    const code = await Promise.race([
      this.#exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000).unref()),
    ]);
    if (code === 'timeout') {
      await this.kill9();
      return null;
    }
    return code ?? null;
  }

  /** Last resort for test clean-up: kills the group without waiting. */
  forceKill(): void {
    if (this.#child?.pid) {
      this.#expectingExit = true;
      try {
        process.kill(-this.#child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
