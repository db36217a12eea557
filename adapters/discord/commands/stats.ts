/** `/stats` (admin): how many tasks are in each status, and which provider runs them. */
import { EmbedBuilder, MessageFlags, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { TASK_STATUSES } from '../../../src/core/index.js';
import { isAdmin } from '../admin.js';
import { langOf, say } from '../messages.js';
import type { DiscordDeps, SlashCommand } from '../types.js';

export const data = new SlashCommandBuilder()
  .setName('stats')
  .setDescription('Task counts by status (server managers)')
  .setDescriptionLocalizations({ 'zh-CN': '任务统计（管理员）', 'zh-TW': '任務統計（管理員）' })
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild);

export function statsCommand(deps: DiscordDeps): SlashCommand {
  return {
    data,
    async execute(interaction) {
      const t = say(langOf(interaction.locale, deps.config.DEFAULT_LOCALE));
      if (!isAdmin(interaction, deps.config)) {
        await interaction.reply({ content: t.adminOnly, flags: MessageFlags.Ephemeral });
        return;
      }
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const { byStatus, provider } = deps.service.stats();
      const embed = new EmbedBuilder()
        .setTitle(t.statsTitle)
        .addFields(...TASK_STATUSES.map((s) => ({ name: t.statuses[s], value: String(byStatus[s]), inline: true })), {
          name: t.provider,
          value: provider,
        });
      await interaction.editReply({ embeds: [embed] });
    },
  };
}
