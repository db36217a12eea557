/**
 * Builds the configured VideoProvider. The one place that knows every concrete provider.
 */

import { join } from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createArkProvider } from './ark/index.js';
import { createLocalProvider } from './local/index.js';
import type { VideoProvider } from './provider.js';

export type { VideoProvider } from './provider.js';

export async function createProvider(config: Config, log: Logger): Promise<VideoProvider> {
  switch (config.PROVIDER) {
    case 'local':
      return createLocalProvider({
        workDir: join(config.DATA_DIR, 'local'),
        ffmpegPath: config.FFMPEG_PATH ?? ffmpeg.path,
        renderDelayS: config.LOCAL_RENDER_S,
      });
    case 'ark':
      return createArkProvider({
        apiKey: config.ARK_API_KEY!, // loadConfig refuses PROVIDER=ark without a key
        baseUrl: config.ARK_BASE_URL,
        model: config.ARK_MODEL,
        modelI2v: config.ARK_MODEL_I2V,
        ratio: config.ARK_RATIO,
        durationS: config.ARK_DURATION_S,
        resolution: config.ARK_RESOLUTION,
        callbackUrl: config.ARK_CALLBACK ? `${config.PUBLIC_BASE_URL}/api/ark/callback` : undefined,
        maxConcurrent: config.ARK_MAX_CONCURRENT,
        firstCheckS: config.ARK_FIRST_CHECK_S,
        pollIntervalS: config.ARK_POLL_INTERVAL_S,
        maxAttempts: config.ARK_MAX_ATTEMPTS,
        workDir: join(config.DATA_DIR, 'ark'),
      });
    default:
      log.fatal(`PROVIDER=${config.PROVIDER} is not available in this build`);
      throw new Error(`PROVIDER=${config.PROVIDER} is not available in this build`);
  }
}
