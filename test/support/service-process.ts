/**
 * Runs the service as `npm start` does (src/main.ts in its own Node process, cwd = its DATA_DIR so no `.env` is
 * read) and gives tests its log lines, its HTTP address (from the "HTTP API listening" line), `/readyz`, and a
 * timed SIGTERM. Used by the tests proving that one chat platform cannot take the service down.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';

const MAIN = join(import.meta.dirname, '../../src/main.ts');
const ROOT = join(import.meta.dirname, '../..');

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  /** The JSON log lines so far. */
  lines(): LogLine[];
  /** Resolves with the first log line whose message matches; rejects after `timeoutMs` or when the process exits. */
  waitForLog(match: RegExp, timeoutMs?: number): Promise<LogLine>;
  /** The HTTP API's base URL, once it listens. */
  baseUrl(): Promise<string>;
  readyz(): Promise<{ status: number; body: ReadyzBody }>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Sends SIGTERM; resolves with the exit code and how long the exit took. */
  terminate(): Promise<{ code: number | null; ms: number }>;
}

export interface ReadyzBody {
  ready: boolean;
  parts: Record<string, { ready: boolean; state?: string; lastError?: string; [key: string]: unknown }>;
}

export function spawnService(dataDir: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), MAIN], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: dataDir,
      PORT: '0',
      PROVIDER: 'local',
      DOUBAO_SESSIONS_FILE: join(dataDir, 'session.json'),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    chunks.push(String(chunk));
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => {
    for (const listener of [...listeners]) listener();
  });

  const output = () => chunks.join('');
  const lines = (): LogLine[] =>
    output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);

  const waitForLog = (match: RegExp, timeoutMs = 20_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = lines().find((l) => match.test(l.msg));
        if (found) finish(() => resolve(found));
        else if (child.exitCode !== null || child.signalCode !== null) {
          finish(() => reject(new Error(`the service exited before logging ${match}:\n${output()}`)));
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no log line ${match} within ${timeoutMs} ms:\n${output()}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  const baseUrl = async () => String((await waitForLog(/^HTTP API listening$/)).address);

  return {
    child,
    output,
    lines,
    waitForLog,
    baseUrl,
    async readyz() {
      const res = await request(`${await baseUrl()}/readyz`);
      return { status: res.statusCode, body: (await res.body.json()) as ReadyzBody };
    },
    exited,
    async terminate() {
      const started = performance.now();
      child.kill('SIGTERM');
      const code = await exited;
      return { code, ms: performance.now() - started };
    },
  };
}

/** Polls `check` every 100 ms until it returns true; rejects with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A loopback port nothing listens on (yet). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `npm start` (what it runs) from the project folder on `dataDir` with the offline provider and nothing else in
 * its environment but PATH; its output so far, as it comes.
 */
export function spawnLocalStart(dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PROVIDER: 'local', PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

/** Collects what `child` writes to stdout and stderr, interleaved as it comes; the function reads it so far. */
export function collectOutput(child: ChildProcess): () => string {
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c;
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c;
  });
  return () => output;
}
