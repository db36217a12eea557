/**
 * `/tasks [status] [user]` (admin): a paged embed of all tasks, newest first, with Previous/Next buttons whose
 * custom ids carry the page: `tasks:<offset>:<status or ->:<user id or ->`.
 */
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type InteractionEditReplyOptions,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
} from 'discord.js';
import { TASK_STATUSES, type TaskStatus } from '../../../src/core/index.js';
import { adminOnly, isAdmin } from '../admin.js';
import { langOf, type Messages, say } from '../messages.js';
import type { ButtonHandler, DiscordDeps, SlashCommand } from '../types.js';
import { taskLine } from '../views.js';

const PAGE_SIZE = 10;

export const data = new SlashCommandBuilder()
  .setName('tasks')
  .setDescription('All video tasks (server managers)')
  .setDescriptionLocalizations({ 'zh-CN': '所有视频任务（管理员）', 'zh-TW': '所有影片任務（管理員）' })
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
  .addStringOption((o) =>
    o
      .setName('status')
      .setDescription('Only tasks with this status')
      .addChoices(...TASK_STATUSES.map((s) => ({ name: s, value: s }))),
  )
  .addUserOption((o) => o.setName('user').setDescription('Only tasks of this Discord user'));

async function page(deps: DiscordDeps, t: Messages, offset: number, status?: TaskStatus, userId?: string) {
  const { total, tasks } = await deps.service.list({
    status,
    ...(userId && { platform: 'discord' as const, userId }),
    limit: PAGE_SIZE,
    offset,
  });
  const embed = new EmbedBuilder()
    .setTitle(t.tasksTitle)
    .setDescription(tasks.length ? tasks.map((task) => taskLine(task, t)).join('\n') : t.noTasks)
    .setFooter({ text: t.page(total ? offset + 1 : 0, offset + tasks.length, total) });
  const key = `${status ?? '-'}:${userId ?? '-'}`;
  const buttons = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(`tasks:${Math.max(0, offset - PAGE_SIZE)}:${key}`)
      .setLabel(t.previous)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(offset === 0),
    new ButtonBuilder()
      .setCustomId(`tasks:${offset + PAGE_SIZE}:${key}`)
      .setLabel(t.next)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(offset + PAGE_SIZE >= total),
  );
  return { embeds: [embed], components: [buttons] } satisfies InteractionEditReplyOptions;
}

export function tasksCommand(deps: DiscordDeps): SlashCommand {
  return {
    data,
    execute: adminOnly(deps.config, async (interaction, t) => {
      const status = (interaction.options.getString('status') ?? undefined) as TaskStatus | undefined;
      await interaction.editReply(await page(deps, t, 0, status, interaction.options.getUser('user')?.id));
    }),
  };
}

/** The Previous/Next buttons: `tasks:<offset>:<status>:<user>`. */
export function tasksPager(deps: DiscordDeps): ButtonHandler {
  return async (interaction, [offset, status, userId]) => {
    const t = say(langOf(interaction.locale, deps.config.DEFAULT_LOCALE));
    if (!isAdmin(interaction, deps.config)) {
      await interaction.reply({ content: t.adminOnly, flags: MessageFlags.Ephemeral });
      return;
    }
    const known = TASK_STATUSES.find((s) => s === status);
    const from = Math.max(0, Number.parseInt(offset ?? '0', 10) || 0);
    await interaction.update(await page(deps, t, from, known, userId && userId !== '-' ? userId : undefined));
  };
}
