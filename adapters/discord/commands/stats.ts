/** `/stats` (admin): how many tasks are in each status, which provider runs them, and its sessions' health. */
import { EmbedBuilder, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { TASK_STATUSES } from '../../../src/core/index.js';
import { adminOnly } from '../admin.js';
import type { DiscordDeps, SlashCommand } from '../types.js';

export const data = new SlashCommandBuilder()
  .setName('stats')
  .setDescription('Task counts by status (server managers)')
  .setDescriptionLocalizations({ 'zh-CN': '任务统计（管理员）', 'zh-TW': '任務統計（管理員）' })
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild);

export function statsCommand(deps: DiscordDeps): SlashCommand {
  return {
    data,
    execute: adminOnly(deps.config, async (interaction, t) => {
      const { byStatus, provider, accounts } = await deps.service.stats();
      const embed = new EmbedBuilder()
        .setTitle(t.statsTitle)
        .addFields(...TASK_STATUSES.map((s) => ({ name: t.statuses[s], value: String(byStatus[s]), inline: true })), {
          name: t.provider,
          value: provider,
        });
      if (accounts.length > 0) {
        // An embed field holds 1024 characters: a long pool is cut, never the reply refused.
        embed.addFields({ name: t.sessions, value: accounts.map(t.accountLine).join('\n').slice(0, 1024) });
      }
      await interaction.editReply({ embeds: [embed] });
    }),
  };
}
