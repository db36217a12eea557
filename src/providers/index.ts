/**
 * Builds the configured VideoProvider. The one place that knows every concrete provider.
 */

import { join } from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { arkOptionsFromConfig, createArkProvider } from './ark/index.js';
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
      return createArkProvider(arkOptionsFromConfig(config));
    default:
      log.fatal(`PROVIDER=${config.PROVIDER} is not available in this build`);
      throw new Error(`PROVIDER=${config.PROVIDER} is not available in this build`);
  }
}
