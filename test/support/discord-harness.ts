/**
 * A Discord test rig: the fake Discord, a real core (local ffmpeg provider, 1-second timings) and the real
 * Discord adapter connected to it. Pass `fake` and `dataDir` to restart the bot against the same world.
 */
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createDiscordAdapter } from '../../adapters/discord/index.js';
import type { Config } from '../../src/config.js';
import type { LeadRole } from '../../src/leadership.js';
import type { VideoProvider } from '../../src/providers/provider.js';
import { type DiscordFake, type LoggedRequest, startDiscordFake } from '../fakes/discord/index.js';
import { startTestCore, type TestCore } from './test-core.js';

export interface DiscordRig {
  fake: DiscordFake;
  core: TestCore;
  bot: ReturnType<typeof createDiscordAdapter>;
  /** Stops the bot and the core (and the fake unless it was passed in). */
  close(): Promise<void>;
}

/** Where the bot finds Discord: the fake's credentials and REST base (the gateway URL comes from the REST API). */
export type DiscordEndpoint = Pick<DiscordFake, 'token' | 'appId' | 'apiBase'>;

export interface DiscordBotOptions {
  env?: Record<string, string>;
  dataDir?: string;
  keepData?: boolean;
  provider?: (config: Config) => VideoProvider;
  /** The live queue's refresh interval (short for tests; benches pass the production default). */
  queueRefreshMs?: number;
  /** As main.ts passes with DATABASE_URL: the gateway is held only while leading `discord-gateway`. */
  leadRole?: LeadRole;
}

/** A real core and the real Discord adapter, started against a Discord fake that may live elsewhere (a worker). */
export async function startDiscordBot(endpoint: DiscordEndpoint, options: DiscordBotOptions = {}) {
  const core = await startTestCore({
    dataDir: options.dataDir,
    keepData: options.keepData,
    provider: options.provider,
    core: { outbox: { retryBaseMs: 200, retryMaxMs: 400 } },
    env: {
      DISCORD_TOKEN: endpoint.token,
      DISCORD_APP_ID: endpoint.appId,
      DISCORD_API_BASE: endpoint.apiBase,
      PUBLIC_BASE_URL: 'https://videos.example.test',
      ...options.env,
    },
  });
  const bot = createDiscordAdapter({
    service: core.service,
    outbox: core.outbox,
    config: core.config,
    log: core.log,
    videosDir: core.media.videosDir,
    queueRefreshMs: options.queueRefreshMs ?? 200,
    ...(options.leadRole && { leadRole: options.leadRole }),
  });
  await bot.start();
  return {
    core,
    bot,
    async close() {
      await bot.stop();
      await core.dispose();
    },
  };
}

export async function startDiscordRig(options: DiscordBotOptions & { fake?: DiscordFake } = {}): Promise<DiscordRig> {
  const fake = options.fake ?? (await startDiscordFake());
  const { core, bot, close } = await startDiscordBot(fake, options);
  return {
    fake,
    core,
    bot,
    async close() {
      await close();
      if (!options.fake) await fake.close();
    },
  };
}

/** The custom id of the first button on a message payload (as sent to the fake). */
export function firstButtonId(components: unknown): string | undefined {
  const rows = (components ?? []) as { components?: { custom_id?: string }[] }[];
  return rows[0]?.components?.[0]?.custom_id;
}

/**
 * The `/video` answer carrying the task (the interaction callback of a direct answer, or the edit of a deferred
 * one) whose content matches `pattern`, with `body` as the message payload (content, components) either way.
 */
export async function taskAnswer(fake: DiscordFake, token: string, pattern = /accepted/, timeoutMs?: number) {
  const payload = (r: LoggedRequest) =>
    r.method === 'POST' && r.path.includes(`/${token}/callback`)
      ? (r.body?.data as Record<string, unknown> | undefined)
      : r.method === 'PATCH' && r.path.includes(token)
        ? r.body
        : undefined;
  const found = await fake.waitFor((r) => pattern.test(String(payload(r)?.content ?? '')), timeoutMs);
  return { ...found, body: payload(found) ?? null };
}

/** Runs `npm run discord:register`'s script against the fake (no guild: global commands) and resolves with its output. */
export async function runRegisterScript(fake: DiscordEndpoint, env: Record<string, string> = {}): Promise<string> {
  const script = join(import.meta.dirname, '../../adapters/discord/deploy-commands.ts');
  const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
  const { stdout } = await promisify(execFile)(tsx, [script], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      DISCORD_TOKEN: fake.token,
      DISCORD_APP_ID: fake.appId,
      DISCORD_API_BASE: fake.apiBase,
      ...env,
    },
  });
  return stdout;
}
