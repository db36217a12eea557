/**
 * Builds the configured VideoProvider. The one place that knows every concrete provider.
 */

import { join } from 'node:path';
import type { Config } from '../config.js';
import type { VideoCapabilities } from '../core/options.js';
import type { Logger } from '../logger.js';
import { ARK_CAPABILITIES, arkOptionsFromConfig, createArkProvider } from './ark/index.js';
import { DOUBAO_CAPABILITIES } from './doubao/completion.js';
import { createDoubaoProvider, type DoubaoProviderOptions } from './doubao/index.js';
import { chooseFfmpeg } from './local/ffmpeg-choice.js';
import { createLocalProvider, LOCAL_CAPABILITIES, localTiming } from './local/index.js';
import type { VideoProvider } from './provider.js';

export type { VideoProvider } from './provider.js';

export async function createProvider(config: Config, log: Logger): Promise<VideoProvider> {
  switch (config.PROVIDER) {
    case 'local':
      return createLocalProvider({
        workDir: join(config.DATA_DIR, 'local'),
        ffmpegPath: await ffmpegFor(config, log),
        renderDelayS: config.LOCAL_RENDER_S,
        timing: localTiming({
          firstCheckS: config.LOCAL_FIRST_CHECK_S,
          pollIntervalS: config.LOCAL_POLL_INTERVAL_S,
          renderDelayS: config.LOCAL_RENDER_S,
        }),
      });
    case 'doubao':
      return createDoubaoProvider(doubaoOptions(config, log));
    case 'ark':
      return createArkProvider(arkOptionsFromConfig(config));
  }
}

/**
 * The options a provider honours, without building it (each provider declares the same as its `capabilities`):
 * what `npm run discord:register` offers as choices.
 */
export function capabilitiesOf(provider: Config['PROVIDER']): VideoCapabilities {
  return { local: LOCAL_CAPABILITIES, doubao: DOUBAO_CAPABILITIES, ark: ARK_CAPABILITIES }[provider];
}

/** The ffmpeg the local provider runs (see ffmpeg-choice.ts), said in the log. */
async function ffmpegFor(config: Config, log: Logger): Promise<string> {
  const choice = await chooseFfmpeg({ override: config.FFMPEG_PATH, searchPath: config.PATH });
  if (!choice) {
    log.error('no ffmpeg found: install one (`apt-get install -y ffmpeg`) or set FFMPEG_PATH; local renders will fail');
    return 'ffmpeg';
  }
  log.info(
    { path: choice.path, version: choice.version ?? 'unknown' },
    `local renders use the ${choice.source} ffmpeg`,
  );
  return choice.path;
}

/** The Doubao provider's options from the configuration; a retrieval attempt ends well inside a scheduler step. */
export function doubaoOptions(config: Config, log?: Logger): DoubaoProviderOptions {
  return {
    sessionsFile: config.DOUBAO_SESSIONS_FILE,
    baseUrl: config.DOUBAO_BASE_URL,
    imagexUrl: config.DOUBAO_IMAGEX_URL,
    uploadUrl: config.DOUBAO_UPLOAD_URL,
    chromiumPath: config.CHROMIUM_PATH ?? '/usr/bin/chromium',
    minSpacingMs: config.DOUBAO_MIN_SPACING_MS,
    perSessionConcurrency: config.DOUBAO_SESSION_CONCURRENCY,
    cooldownMs: config.DOUBAO_COOLDOWN_S * 1000,
    maxCooldownMs: config.DOUBAO_MAX_COOLDOWN_S * 1000,
    riskPauseMs: config.DOUBAO_RISK_PAUSE_S * 1000,
    firstCheckS: config.DOUBAO_FIRST_CHECK_S,
    pollIntervalS: config.DOUBAO_POLL_INTERVAL_S,
    maxWaitS: config.DOUBAO_MAX_WAIT_S,
    browserConcurrency: config.DOUBAO_BROWSER_CONCURRENCY,
    settleMs: config.DOUBAO_PAGE_WAIT_S * 1000,
    transportMode: config.DOUBAO_TRANSPORT,
    pageIdleMs: config.DOUBAO_PAGE_IDLE_S * 1000,
    retrieveTimeoutMs: Math.min(60_000, config.ATTEMPT_TIMEOUT_S * 750),
    idleTimeoutMs: Math.min(60_000, config.ATTEMPT_TIMEOUT_S * 750),
    ...(log && { log }),
  };
}
