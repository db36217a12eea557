/**
 * The Discord adapter: a discord.js client (Guilds intent only) answering `/video`, `/mytasks`, `/queue` and the
 * admin commands, editing progress and the place in line into the `/video` reply and delivering results (and admin alerts by DM) through the
 * outbox. `createDiscordAdapter` returns `{ start(signal), stop(), describeFailure() }` for main.ts's supervisor,
 * which retries a failed start; commands are registered separately (`npm run discord:register`, see register.ts).
 */
import { once } from 'node:events';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { type Outbox, QueueWatch, type Task } from '../../src/core/index.js';
import type { Leadership, LeadRole } from '../../src/leadership.js';
import { discordRestAgent } from '../../src/proxy.js';
import { describeStartFailure } from '../../src/start-failure.js';
import { buildButtons, buildCommands } from './commands/index.js';
import { DiscordDelivery } from './delivery.js';
import { safeError } from './error-reply.js';
import { interactionCreate } from './events/interaction-create.js';
import type { DiscordDeps } from './types.js';

export { commandPayload, registerCommands } from './register.js';
export type { DiscordDeps, SlashCommand } from './types.js';

/** discord.js's default REST API. */
const DISCORD_API = 'https://discord.com/api';

export interface DiscordAdapterDeps extends DiscordDeps {
  outbox: Outbox;
  /** Least time between two looks at the line for the live queue positions. @defaultValue QUEUE_REFRESH_MS */
  queueRefreshMs?: number;
  /**
   * Several processes share the work (DATABASE_URL): only the leader of `discord-gateway` holds the gateway (and so
   * takes the commands); every process delivers results and edits replies over REST.
   */
  leadRole?: LeadRole;
}

/** Five seconds: positions stay current while edits stay far below Discord's rate limits. */
export const QUEUE_REFRESH_MS = 5_000;

export function createDiscordAdapter(deps: DiscordAdapterDeps) {
  const { config, log, service, outbox } = deps;
  if (!config.DISCORD_TOKEN || !config.DISCORD_APP_ID) throw new Error('DISCORD_TOKEN and DISCORD_APP_ID are required');
  const token = config.DISCORD_TOKEN;
  // REST through the configured proxy (src/proxy.ts); the gateway's WebSocket cannot be given one (docs/discord.md).
  const agent = discordRestAgent(config, config.DISCORD_API_BASE ?? DISCORD_API);
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { ...(config.DISCORD_API_BASE && { api: config.DISCORD_API_BASE }), ...(agent && { agent }) },
  });
  const delivery = new DiscordDelivery(client.rest, deps);
  const dispatch = interactionCreate(deps, buildCommands(deps), buildButtons(deps));
  client.on(Events.InteractionCreate, (interaction) => void dispatch(interaction));
  client.on(Events.Error, (error) => log.error({ err: safeError(error) }, 'Discord client error'));
  client.on(Events.ShardDisconnect, (event) => log.warn({ code: event.code }, 'Discord gateway disconnected'));
  const onProgress = (task: Task) => delivery.onProgress(task);
  // Live queue: a waiting task's reply is edited when its place in line changes (coalesced), not as time passes.
  const queueWatch = new QueueWatch(service, 'discord', delivery.onQueueMove, {
    intervalMs: deps.queueRefreshMs ?? QUEUE_REFRESH_MS,
    shownOf: (task) => (typeof task.origin.reply?.shownAhead === 'number' ? task.origin.reply.shownAhead : undefined),
  });
  const failureContext = {
    host: new URL(config.DISCORD_API_BASE ?? DISCORD_API).host,
    tokenVariable: 'DISCORD_TOKEN',
    token,
  };
  let stopOutbox: (() => Promise<void>) | undefined;
  let leadership: Leadership | undefined;

  /** Logs in and waits for READY; an abort (time-out, shutdown, leadership lost) destroys the half-open connection. */
  async function connect(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const onAbort = () => void client.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const ready = once(client, Events.ClientReady, { signal });
      // Without a handler, the rejection of `ready` after a failed login would be unhandled.
      ready.catch(() => {});
      await client.login(token);
      await ready;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    signal.throwIfAborted();
  }

  /** Progress edits, the live queue and deliveries: over REST, in every process. */
  function serve(): void {
    service.on('progress', onProgress);
    queueWatch.start();
    // Registered only now that Discord answers: the outbox then sends what was queued while the bot was down.
    stopOutbox = outbox.register('discord', { result: delivery.deliver, alert: delivery.deliverAlert });
  }

  /** Holds the gateway while this process leads `discord-gateway`; REST keeps its token when leading stops. */
  function leadGateway(leadRole: LeadRole): Leadership {
    return leadRole('discord-gateway', async (signal) => {
      signal.addEventListener('abort', () => void client.destroy().finally(() => client.rest.setToken(token)), {
        once: true,
      });
      await connect(signal);
      log.info({ user: client.user?.tag }, 'Discord gateway connected: this process leads the gateway');
    });
  }

  return {
    client,
    /**
     * Logs in and waits for READY, then serves. With several processes (`leadRole`), serves over REST at once and
     * holds the gateway only while this process leads it.
     */
    async start(signal: AbortSignal = new AbortController().signal): Promise<void> {
      if (deps.leadRole) {
        signal.throwIfAborted();
        client.rest.setToken(token);
        serve();
        leadership = leadGateway(deps.leadRole);
        log.info('Discord bot ready; it holds the gateway while this process leads it');
        return;
      }
      await connect(signal);
      serve();
      log.info({ user: client.user?.tag }, 'Discord bot connected');
    },
    async stop(): Promise<void> {
      await leadership?.stop();
      leadership = undefined;
      service.off('progress', onProgress);
      queueWatch.stop();
      await stopOutbox?.();
      stopOutbox = undefined;
      await client.destroy();
    },
    describeFailure: (error: unknown) => describeStartFailure(error, failureContext),
  };
}
