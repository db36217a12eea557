/**
 * Registers the slash commands: one PUT of every command's JSON, guild-scoped when a guild id is given (instant,
 * for development) or global (cached by Discord for up to an hour). Used by `npm run discord:register`, which
 * passes the configured provider's capabilities: `/video` offers the options that provider honours.
 */
import { type REST, Routes } from 'discord.js';
import { NO_CAPABILITIES, type VideoCapabilities } from '../../src/core/index.js';
import { commandData } from './commands/index.js';
import { data as videoData } from './commands/video.js';
import { withVideoOptions } from './commands/video-options.js';

export function commandPayload(capabilities: VideoCapabilities = NO_CAPABILITIES) {
  return commandData.map((d) => (d === videoData ? withVideoOptions(d.toJSON(), capabilities) : d.toJSON()));
}

/** Resolves with the number of commands Discord now has for this scope. */
export async function registerCommands(
  rest: REST,
  appId: string,
  guildId?: string,
  capabilities: VideoCapabilities = NO_CAPABILITIES,
): Promise<number> {
  const route = guildId ? Routes.applicationGuildCommands(appId, guildId) : Routes.applicationCommands(appId);
  const result = (await rest.put(route, { body: commandPayload(capabilities) })) as unknown[];
  return result.length;
}
