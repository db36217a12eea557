/**
 * Builds a real core (SQLite, scheduler, service, outbox) in a fresh temporary DATA_DIR for one test, with the
 * given environment on top of short test timings. Logs go to a buffer the test can read (and grep for secrets).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { type Config, loadConfig } from '../../src/config.js';
import { type Core, type CoreOptions, createCore, type Task } from '../../src/core/index.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createLocalProvider } from '../../src/providers/local/index.js';
import type { ProviderHost, ProviderIncident, VideoProvider } from '../../src/providers/provider.js';

export interface TestCore extends Core {
  dataDir: string;
  /** Everything logged so far, one JSON line per entry. */
  logs(): string;
  /** Stops the core and removes its data folder. */
  dispose(): Promise<void>;
}

/** A logger writing JSON lines into memory. */
export function memoryLogger(level = 'debug'): { log: Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { log: createLogger(level, sink), text: () => chunks.join('') };
}

export function testConfig(env: Record<string, string> = {}, dataDir = mkdtempSync(join(tmpdir(), 'dvb-'))): Config {
  return loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    PROVIDER: 'local',
    FIRST_ATTEMPT_DELAY_S: '1',
    RETRY_INTERVAL_S: '1',
    // Renders slow down when the suite runs on two busy cores: enough looks that a slow render is not a failure.
    MAX_ATTEMPTS: '30',
    DOUBAO_SESSIONS_FILE: join(dataDir, 'session.json'),
    LOG_LEVEL: 'debug',
    ...env,
  });
}

/** A local provider rendering into the test's data folder. */
export function testLocalProvider(config: Config): VideoProvider {
  return createLocalProvider({
    workDir: join(config.DATA_DIR, 'local'),
    ffmpegPath: ffmpeg.path,
    renderDelayS: config.LOCAL_RENDER_S,
  });
}

/**
 * The local provider, with its incident channel kept for the test: `report` raises an incident through the host of
 * the latest core the provider was attached to (across restarts).
 */
export function reportingProvider() {
  let host: ProviderHost | undefined;
  const provider = (config: Config) => {
    const p = testLocalProvider(config);
    p.attach = (h) => {
      host = h;
    };
    return p;
  };
  return { provider, report: (incident: ProviderIncident) => host!.reportIncident(incident) };
}

/**
 * Starts a core. `provider` defaults to the local ffmpeg provider; pass `dataDir` to reopen an existing one
 * (a restart), and `keepData` to leave it on disk after `dispose`.
 */
export async function startTestCore(
  options: {
    env?: Record<string, string>;
    dataDir?: string;
    provider?: (config: Config) => VideoProvider;
    keepData?: boolean;
    core?: CoreOptions;
  } = {},
): Promise<TestCore> {
  const config = testConfig(options.env, options.dataDir);
  const { log, text } = memoryLogger();
  const provider = (options.provider ?? testLocalProvider)(config);
  // The packaged binary, the one ffmpeg every machine running the suite has (main.ts prefers a system one).
  const core = await createCore(config, log, provider, { ffmpegPath: ffmpeg.path, ...options.core });
  await core.start();
  let disposed = false;
  return {
    ...core,
    dataDir: config.DATA_DIR,
    logs: text,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await core.stop();
      if (!options.keepData) rmSync(config.DATA_DIR, { recursive: true, force: true });
    },
  };
}

/** Reads `read()` every 50 ms until `done` holds or `timeoutMs` passes; returns the last value for the test to check. */
export async function waitFor<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a task has reached an end state. */
export const finished = (task: Task) => ['completed', 'failed', 'cancelled'].includes(task.status);

/** The default timing of `.env.example`: a look's lease is 120 + 60 + 5 = 185 s. */
export const SEED_TIMING = { FIRST_ATTEMPT_DELAY_S: '180', RETRY_INTERVAL_S: '180', MAX_ATTEMPTS: '5' };

/**
 * Starts a core on `provider` with SEED_TIMING (and `env`), kept on disk for restarts, and adds it to `cores`,
 * which the test disposes.
 */
export async function startSeedCore(
  cores: TestCore[],
  provider: VideoProvider,
  env: Record<string, string> = {},
  dataDir?: string,
): Promise<TestCore> {
  const core = await startTestCore({
    env: { ...SEED_TIMING, ...env },
    provider: () => provider,
    dataDir,
    keepData: true,
  });
  cores.push(core);
  return core;
}
