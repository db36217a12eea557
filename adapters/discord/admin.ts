/**
 * Who may use the admin commands and buttons. `default_member_permissions` only hides them by default (server
 * admins can change that), so every handler checks again: Manage Server in this guild, or DISCORD_ADMIN_IDS.
 */
import { type BaseInteraction, type ChatInputCommandInteraction, MessageFlags, PermissionFlagsBits } from 'discord.js';
import type { Config } from '../../src/config.js';
import { langOf, type Messages, say } from './messages.js';
import type { SlashCommand } from './types.js';

export function isAdmin(interaction: BaseInteraction, config: Config): boolean {
  if (config.DISCORD_ADMIN_IDS.has(interaction.user.id)) return true;
  return interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
}

/** An admin command's `execute`: others get a polite ephemeral refusal; admins an ephemeral deferred reply. */
export function adminOnly(
  config: Config,
  run: (interaction: ChatInputCommandInteraction, t: Messages) => Promise<void>,
): SlashCommand['execute'] {
  return async (interaction) => {
    const t = say(langOf(interaction.locale, config.DEFAULT_LOCALE));
    if (!isAdmin(interaction, config)) {
      await interaction.reply({ content: t.adminOnly, flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    await run(interaction, t);
  };
}
