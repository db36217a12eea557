/**
 * Test wiring for the Doubao provider: a fake Doubao with a sessions file, the environment that points a test
 * core at it (short page waits, no request spacing), and the provider built from that configuration exactly as
 * `main.ts` builds it. The provider starts asynchronously (it reads its sessions file); the harnesses want it at
 * once, so calls wait for it, `attach` reaches it before any call does, and its timing is known at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import { createDoubaoProvider, type DoubaoProviderOptions, doubaoTiming } from '../../src/providers/doubao/index.js';
import { doubaoOptions } from '../../src/providers/index.js';
import type { VideoProvider } from '../../src/providers/provider.js';
import { type DoubaoFake, type DoubaoFakeKnobs, startDoubaoFake } from '../fakes/doubao/index.js';
import { writeSessions } from '../fakes/doubao/sessions.js';

export interface DoubaoUpstream {
  fake: DoubaoFake;
  env: Record<string, string>;
  provider: (config: Config) => VideoProvider;
  close(): Promise<void>;
}

/** The Chromium the page transport launches; CHROMIUM_PATH names another one. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Provider options pointing at `fake`, with the sessions file `session.json` in `dir` and no spacing of calls. */
export function fakeProviderOptions(fake: DoubaoFake, dir: string) {
  return {
    sessionsFile: join(dir, 'session.json'),
    baseUrl: fake.baseUrl,
    imagexUrl: fake.imagexUrl,
    uploadUrl: fake.uploadUrl,
    chromiumPath: CHROMIUM,
    minSpacingMs: 0,
  } satisfies Partial<DoubaoProviderOptions>;
}

/** The environment of a core with PROVIDER=doubao pointed at `fake`, with short page waits and polls. */
export function doubaoFakeEnv(fake: DoubaoFake): Record<string, string> {
  return {
    PROVIDER: 'doubao',
    DOUBAO_BASE_URL: fake.baseUrl,
    DOUBAO_IMAGEX_URL: fake.imagexUrl,
    DOUBAO_UPLOAD_URL: fake.uploadUrl,
    DOUBAO_PAGE_WAIT_S: '1',
    DOUBAO_MIN_SPACING_MS: '0',
    DOUBAO_FIRST_CHECK_S: '1',
    DOUBAO_POLL_INTERVAL_S: '1',
  };
}

/** The provider of `doubaoOptions(config)`, usable before its asynchronous start has finished. */
export function doubaoProvider(config: Config): VideoProvider {
  const ready = createDoubaoProvider(doubaoOptions(config));
  let started: VideoProvider | undefined;
  void ready.then((p) => {
    started = p;
  });
  return {
    name: 'doubao',
    timing: doubaoTiming(config.DOUBAO_FIRST_CHECK_S, config.DOUBAO_POLL_INTERVAL_S, config.DOUBAO_MAX_WAIT_S),
    attach: (host) => void ready.then((p) => p.attach?.(host)),
    uploadImage: async (image) => (await ready).uploadImage(image),
    start: async (req) => (await ready).start(req),
    poll: async (ref) => (await ready).poll(ref),
    sessionStates: () => started?.sessionStates?.() ?? {},
    close: async () => (await ready).close?.(),
  };
}

export async function startDoubaoUpstream(
  knobs: Partial<DoubaoFakeKnobs> = {},
  env: Record<string, string> = {},
): Promise<DoubaoUpstream> {
  const fake = await startDoubaoFake(knobs);
  const dir = mkdtempSync(join(tmpdir(), 'dvb-doubao-'));
  const sessionsFile = join(dir, 'session.json');
  writeSessions(sessionsFile, { users: 1 });
  return {
    fake,
    env: { ...doubaoFakeEnv(fake), DOUBAO_SESSIONS_FILE: sessionsFile, DOUBAO_MAX_WAIT_S: '60', ...env },
    provider: doubaoProvider,
    async close() {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
