/**
 * Who may use the admin commands and buttons. `default_member_permissions` only hides them by default (server
 * admins can change that), so every handler checks again: Manage Server in this guild, or DISCORD_ADMIN_IDS.
 */
import { type BaseInteraction, PermissionFlagsBits } from 'discord.js';
import type { Config } from '../../src/config.js';

export function isAdmin(interaction: BaseInteraction, config: Config): boolean {
  if (config.DISCORD_ADMIN_IDS.has(interaction.user.id)) return true;
  return interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
}
