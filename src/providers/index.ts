/**
 * Builds the configured VideoProvider. The one place that knows every concrete provider.
 */

import { join } from 'node:path';
import type { Config } from '../config.js';
import type { VideoCapabilities } from '../core/options.js';
import type { UpstreamLimiter } from '../core/upstream-limiter.js';
import type { Logger } from '../logger.js';
import { browserProxy, proxyAgent } from '../proxy.js';
import { ARK_CAPABILITIES, arkOptionsFromConfig, createArkProvider } from './ark/index.js';
import { DOUBAO_CAPABILITIES } from './doubao/completion.js';
import { createDoubaoProvider, type DoubaoProviderOptions } from './doubao/index.js';
import { createLocalProvider, LOCAL_CAPABILITIES, localTiming } from './local/index.js';
import type { VideoProvider } from './provider.js';

export type { VideoProvider } from './provider.js';

/**
 * `ffmpegPath`: the ffmpeg chosen at start-up (src/ffmpeg-choice.ts); the local provider renders with it.
 * `sharedLimiter`: the limiter the processes of a cluster share (DATABASE_URL); Doubao's per-session limits then
 * hold for the whole cluster. The caller closes it.
 */
export async function createProvider(
  config: Config,
  log: Logger,
  ffmpegPath?: string,
  sharedLimiter?: UpstreamLimiter,
): Promise<VideoProvider> {
  switch (config.PROVIDER) {
    case 'local':
      return createLocalProvider({
        workDir: join(config.DATA_DIR, 'local'),
        // Without one, every render fails with ffmpeg's absence as its reason (said at start-up too).
        ffmpegPath: ffmpegPath ?? 'ffmpeg',
        renderDelayS: config.LOCAL_RENDER_S,
        timing: localTiming({
          firstCheckS: config.LOCAL_FIRST_CHECK_S,
          pollIntervalS: config.LOCAL_POLL_INTERVAL_S,
          renderDelayS: config.LOCAL_RENDER_S,
        }),
      });
    case 'doubao':
      return createDoubaoProvider({ ...doubaoOptions(config, log), ...(sharedLimiter && { sharedLimiter }) });
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
    ...proxied(config),
  };
}

/** The Doubao provider's ways through the configured proxy: its undici calls and its Chromium. */
function proxied(config: Config): Pick<DoubaoProviderOptions, 'dispatcher' | 'browserProxy'> {
  const dispatcher = proxyAgent(config);
  const browser = browserProxy(config);
  return { ...(dispatcher && { dispatcher }), ...(browser && { browserProxy: browser }) };
}
