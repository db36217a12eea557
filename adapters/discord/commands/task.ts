/** `/task id:<id>` (admin): one task in detail, with Retry and Cancel buttons (`admin-retry:` / `admin-cancel:`). */
import { PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { adminOnly } from '../admin.js';
import type { DiscordDeps, SlashCommand } from '../types.js';
import { adminRow, taskEmbed } from '../views.js';

export const data = new SlashCommandBuilder()
  .setName('task')
  .setDescription('One video task in detail, with retry and cancel (server managers)')
  .setDescriptionLocalizations({ 'zh-CN': '查看单个任务详情（管理员）', 'zh-TW': '查看單個任務詳情（管理員）' })
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
  .addStringOption((o) => o.setName('id').setDescription('The task id').setRequired(true).setMaxLength(64));

export function taskCommand(deps: DiscordDeps): SlashCommand {
  return {
    data,
    execute: adminOnly(deps.config, async (interaction, t) => {
      const task = await deps.service.get(interaction.options.getString('id', true).trim());
      const link = task.videoFile ? `${deps.config.PUBLIC_BASE_URL}/videos/${task.videoFile}` : null;
      await interaction.editReply({ embeds: [taskEmbed(task, t, link)], components: [adminRow(task, t)] });
    }),
  };
}
