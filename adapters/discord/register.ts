/**
 * Registers the slash commands: one PUT of every command's JSON, guild-scoped when a guild id is given (instant,
 * for development) or global (cached by Discord for up to an hour). Used by `npm run discord:register`.
 */
import { type REST, Routes } from 'discord.js';
import { commandData } from './commands/index.js';

export function commandPayload() {
  return commandData.map((d) => d.toJSON());
}

/** Resolves with the number of commands Discord now has for this scope. */
export async function registerCommands(rest: REST, appId: string, guildId?: string): Promise<number> {
  const route = guildId ? Routes.applicationGuildCommands(appId, guildId) : Routes.applicationCommands(appId);
  const result = (await rest.put(route, { body: commandPayload() })) as unknown[];
  return result.length;
}
