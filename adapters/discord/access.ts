/**
 * Who may use the Discord bot. Both lists empty: everyone. Otherwise, in a server: the server is in
 * DISCORD_ALLOWED_GUILDS or the user in DISCORD_ALLOWED_USERS (a listed user may use the bot in any server that
 * has it); in a DM: the user is listed. DISCORD_ADMIN_IDS are always allowed. Manage Server alone does not let
 * anyone in: any server owner could add the bot and would be that.
 * Everyone else gets an ephemeral refusal on each interaction — Discord shows "the application did not respond"
 * for an unanswered one, and an ephemeral reply is seen by that user only — and is logged once per `quietMs`.
 */
import type { BaseInteraction } from 'discord.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';

export function mayUse(interaction: BaseInteraction, config: Config): boolean {
  const guilds = config.DISCORD_ALLOWED_GUILDS;
  const users = config.DISCORD_ALLOWED_USERS;
  if (guilds.size === 0 && users.size === 0) return true;
  const userId = interaction.user.id;
  if (config.DISCORD_ADMIN_IDS.has(userId) || users.has(userId)) return true;
  return interaction.guildId !== null && guilds.has(interaction.guildId);
}

/** Logs a refused user once per `quietMs` (memory bounded: the oldest entry goes first). */
export function refusalLog(log: Logger, quietMs = 60 * 60 * 1000) {
  const loggedUntil = new Map<string, number>();
  return (interaction: BaseInteraction): void => {
    const key = `${interaction.guildId ?? 'dm'}:${interaction.user.id}`;
    if ((loggedUntil.get(key) ?? 0) > Date.now()) return;
    loggedUntil.delete(key);
    loggedUntil.set(key, Date.now() + quietMs);
    if (loggedUntil.size > 10_000) loggedUntil.delete(loggedUntil.keys().next().value as string);
    log.info(
      { userId: interaction.user.id, guildId: interaction.guildId },
      'Discord: refused a user outside DISCORD_ALLOWED_GUILDS / DISCORD_ALLOWED_USERS',
    );
  };
}
