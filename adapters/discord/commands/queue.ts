/**
 * `/queue` (issue 15): how many videos are in the line, and each of the asker's own unfinished videos with its
 * place (tasks ahead) and estimated wait, ephemeral. Read-only, so it answers at once without a defer.
 */
import { EmbedBuilder, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { control } from '../control-messages.js';
import { langOf } from '../messages.js';
import type { DiscordDeps, SlashCommand } from '../types.js';

/** An embed description holds 4096 characters; this many lines stay well inside. */
const MAX_LINES = 20;

export const data = new SlashCommandBuilder()
  .setName('queue')
  .setDescription('Your place in the queue and the estimated wait')
  .setDescriptionLocalizations({
    'zh-CN': '查看你在队列中的位置和预计等待时间',
    'zh-TW': '查看你在佇列中的位置和預計等待時間',
  });

export function queueCommand(deps: DiscordDeps): SlashCommand {
  return {
    data,
    async execute(interaction) {
      const c = control(langOf(interaction.locale, deps.config.DEFAULT_LOCALE));
      const { total, mine } = await deps.service.queueOf('discord', interaction.user.id);
      const lines = mine.slice(0, MAX_LINES).map(({ task, wait }) => c.queueMine(task, wait));
      const embed = new EmbedBuilder()
        .setTitle(c.queueTitle)
        .setDescription([c.queueTotal(total), '', ...(lines.length ? lines : [c.queueNone])].join('\n'));
      await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral });
    },
  };
}
