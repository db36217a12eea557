/**
 * The Discord adapter: a discord.js client (Guilds intent only) answering `/video`, `/mytasks` and the admin
 * commands, editing progress into the `/video` reply and delivering results (and admin alerts by DM) through the
 * outbox.
 * `createDiscordAdapter` returns `{ start(), stop() }` for main.ts; commands are registered separately
 * (`npm run discord:register`, see register.ts).
 */
import { once } from 'node:events';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { Outbox, Task } from '../../src/core/index.js';
import { buildButtons, buildCommands } from './commands/index.js';
import { DiscordDelivery } from './delivery.js';
import { safeError } from './error-reply.js';
import { interactionCreate } from './events/interaction-create.js';
import type { DiscordDeps } from './types.js';

export { commandPayload, registerCommands } from './register.js';
export type { DiscordDeps, SlashCommand } from './types.js';

export interface DiscordAdapterDeps extends DiscordDeps {
  outbox: Outbox;
}

export function createDiscordAdapter(deps: DiscordAdapterDeps) {
  const { config, log, service, outbox } = deps;
  if (!config.DISCORD_TOKEN || !config.DISCORD_APP_ID) throw new Error('DISCORD_TOKEN and DISCORD_APP_ID are required');
  const token = config.DISCORD_TOKEN;
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    ...(config.DISCORD_API_BASE && { rest: { api: config.DISCORD_API_BASE } }),
  });
  const delivery = new DiscordDelivery(client.rest, deps);
  const dispatch = interactionCreate(deps, buildCommands(deps), buildButtons(deps));
  client.on(Events.InteractionCreate, (interaction) => void dispatch(interaction));
  client.on(Events.Error, (error) => log.error({ err: safeError(error) }, 'Discord client error'));
  client.on(Events.ShardDisconnect, (event) => log.warn({ code: event.code }, 'Discord gateway disconnected'));
  const onProgress = (task: Task) => delivery.onProgress(task);
  let stopOutbox: (() => Promise<void>) | undefined;

  return {
    client,
    async start(): Promise<void> {
      const ready = once(client, Events.ClientReady);
      await client.login(token);
      await ready;
      service.on('progress', onProgress);
      stopOutbox = outbox.register('discord', { result: delivery.deliver, alert: delivery.deliverAlert });
      log.info({ user: client.user?.tag }, 'Discord bot connected');
    },
    async stop(): Promise<void> {
      service.off('progress', onProgress);
      await stopOutbox?.();
      await client.destroy();
    },
  };
}
