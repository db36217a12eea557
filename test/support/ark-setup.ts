/**
 * Test wiring for the Ark provider: the environment that points a test core at a fake Ark, and the provider
 * built from that configuration exactly as `main.ts` builds it, with short poll timings.
 */
import type { Config } from '../../src/config.js';
import { arkOptionsFromConfig, createArkProvider } from '../../src/providers/ark/index.js';
import type { VideoProvider } from '../../src/providers/provider.js';
import type { ArkFake } from '../fakes/ark/index.js';

export function arkEnv(fake: ArkFake, env: Record<string, string> = {}): Record<string, string> {
  return {
    PROVIDER: 'ark',
    ARK_API_KEY: fake.knobs.apiKey,
    ARK_BASE_URL: fake.apiUrl,
    ARK_MODEL: 'seedance-t2v-test',
    ARK_MODEL_I2V: 'seedance-i2v-test',
    ARK_FIRST_CHECK_S: '0.2',
    ARK_POLL_INTERVAL_S: '0.2',
    ...env,
  };
}

export const arkProvider = (config: Config): VideoProvider => createArkProvider(arkOptionsFromConfig(config));
