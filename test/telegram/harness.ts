/**
 * One Telegram test setup: the fake Bot API, a real core (local ffmpeg provider, 1-second timings) and the adapter
 * polling the fake through grammY over real HTTP. `restart()` stops adapter and core and reopens the same data.
 */
import { rmSync } from 'node:fs';
import { createTelegramAdapter } from '../../adapters/telegram/index.js';
import type { Config } from '../../src/config.js';
import type { VideoProvider } from '../../src/providers/provider.js';
import { startTelegramFake, type TelegramFake } from '../fakes/telegram/index.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

export interface BotHarness {
  fake: TelegramFake;
  core: TestCore;
  adapter: ReturnType<typeof createTelegramAdapter>;
  /** Stops the adapter and the core, and starts both again on the same data folder (with the same provider). */
  restart(options?: { startAdapter?: boolean }): Promise<void>;
  stopAdapter(): Promise<void>;
  /** Polls the core until the task reaches `status`. */
  waitForStatus(id: string, status: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startBotHarness(
  env: Record<string, string> = {},
  startOptions: { provider?: (config: Config) => VideoProvider } = {},
): Promise<BotHarness> {
  const fake = await startTelegramFake();
  const fullEnv = { TELEGRAM_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, ...env };
  const build = (core: TestCore) =>
    createTelegramAdapter({
      service: core.service,
      outbox: core.outbox,
      config: core.config,
      log: core.log,
      videosDir: core.media.videosDir,
      timing: { editIntervalMs: 200, albumWaitMs: 300, pollTimeoutS: 5, queueRefreshMs: 200 },
    });
  let core = await startTestCore({ env: fullEnv, keepData: true, ...startOptions });
  let adapter = build(core);
  let adapterRunning = true;
  await adapter.start();

  const harness: BotHarness = {
    fake,
    get core() {
      return core;
    },
    get adapter() {
      return adapter;
    },
    async stopAdapter() {
      if (adapterRunning) await adapter.stop();
      adapterRunning = false;
    },
    async restart(options = {}) {
      await harness.stopAdapter();
      await core.dispose();
      core = await startTestCore({ env: fullEnv, dataDir: core.dataDir, keepData: true, ...startOptions, ...options });
      adapter = build(core);
      if (options.startAdapter ?? true) {
        await adapter.start();
        adapterRunning = true;
      }
    },
    async waitForStatus(id, status, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const now = (await core.service.get(id)).status;
        if (now === status) return;
        if (Date.now() > until) throw new Error(`task ${id} is ${now}, not ${status}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await harness.stopAdapter();
      await core.dispose();
      rmSync(core.dataDir, { recursive: true, force: true });
      await fake.close();
    },
  };
  return harness;
}
