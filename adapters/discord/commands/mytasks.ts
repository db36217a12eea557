/** `/mytasks`: the asker's ten most recent Discord tasks, ephemeral. */
import { EmbedBuilder, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { langOf, say } from '../messages.js';
import type { DiscordDeps, SlashCommand } from '../types.js';
import { taskLine } from '../views.js';

export const data = new SlashCommandBuilder()
  .setName('mytasks')
  .setDescription('Your recent videos and their status')
  .setDescriptionLocalizations({ 'zh-CN': '查看你最近的视频任务', 'zh-TW': '查看你最近的影片任務' });

export function myTasksCommand(deps: DiscordDeps): SlashCommand {
  return {
    data,
    async execute(interaction) {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const t = say(langOf(interaction.locale, deps.config.DEFAULT_LOCALE));
      const { tasks } = await deps.service.list({ platform: 'discord', userId: interaction.user.id, limit: 10 });
      const embed = new EmbedBuilder()
        .setTitle(t.myTasksTitle)
        .setDescription(tasks.length ? tasks.map((task) => taskLine(task, t)).join('\n') : t.noTasks);
      await interaction.editReply({ embeds: [embed] });
    },
  };
}
