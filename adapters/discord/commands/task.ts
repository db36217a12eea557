/** `/task id:<id>` (admin): one task in detail, with Retry and Cancel buttons (`admin-retry:` / `admin-cancel:`). */
import { MessageFlags, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { isAdmin } from '../admin.js';
import { langOf, say } from '../messages.js';
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
    async execute(interaction) {
      const t = say(langOf(interaction.locale, deps.config.DEFAULT_LOCALE));
      if (!isAdmin(interaction, deps.config)) {
        await interaction.reply({ content: t.adminOnly, flags: MessageFlags.Ephemeral });
        return;
      }
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const task = deps.service.get(interaction.options.getString('id', true).trim());
      const link = task.videoFile ? `${deps.config.PUBLIC_BASE_URL}/videos/${task.videoFile}` : null;
      await interaction.editReply({ embeds: [taskEmbed(task, t, link)], components: [adminRow(task, t)] });
    },
  };
}
