/**
 * `/quota` (admin): a Discord user's own limits, kept in the database by the core. Subcommands: `show user`,
 * `set user active daily` (0 pauses the user), `reset user` (forgets the tasks made so far today, so they may
 * submit again) and `default user` (back to USER_MAX_ACTIVE / USER_DAILY_LIMIT). Answered ephemerally.
 */
import { PermissionFlagsBits, SlashCommandBuilder, type SlashCommandUserOption } from 'discord.js';
import { adminOnly } from '../admin.js';
import type { DiscordDeps, SlashCommand } from '../types.js';

const userOption = (o: SlashCommandUserOption) =>
  o
    .setName('user')
    .setDescription('The Discord user')
    .setDescriptionLocalizations({ 'zh-CN': 'Discord 用户', 'zh-TW': 'Discord 使用者' })
    .setRequired(true);

export const data = new SlashCommandBuilder()
  .setName('quota')
  .setDescription("A user's video limits (server managers)")
  .setDescriptionLocalizations({ 'zh-CN': '用户的视频额度（管理员）', 'zh-TW': '使用者的影片額度（管理員）' })
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
  .addSubcommand((s) => s.setName('show').setDescription('Show their limits and use today').addUserOption(userOption))
  .addSubcommand((s) =>
    s
      .setName('set')
      .setDescription('Set their own limits (0 pauses them)')
      .addUserOption(userOption)
      .addIntegerOption((o) =>
        o.setName('active').setDescription('Videos at once').setRequired(true).setMinValue(0).setMaxValue(10_000),
      )
      .addIntegerOption((o) =>
        o.setName('daily').setDescription('Videos in 24 hours').setRequired(true).setMinValue(0).setMaxValue(10_000),
      ),
  )
  .addSubcommand((s) =>
    s.setName('reset').setDescription('Forget the videos they made today').addUserOption(userOption),
  )
  .addSubcommand((s) => s.setName('default').setDescription('Back to the configured limits').addUserOption(userOption));

export function quotaCommand(deps: DiscordDeps): SlashCommand {
  return {
    data,
    execute: adminOnly(deps.config, async (interaction, t) => {
      const userId = interaction.options.getUser('user', true).id;
      const { service } = deps;
      switch (interaction.options.getSubcommand()) {
        case 'set': {
          const maxActive = interaction.options.getInteger('active', true);
          const dailyLimit = interaction.options.getInteger('daily', true);
          const quota = await service.setUserQuota('discord', userId, { maxActive, dailyLimit });
          await interaction.editReply({ content: t.quotaShow(userId, quota) });
          return;
        }
        case 'reset':
          await interaction.editReply({
            content: t.quotaReset(userId, await service.resetUserDaily('discord', userId)),
          });
          return;
        case 'default': {
          const quota = await service.setUserQuota('discord', userId, { maxActive: null, dailyLimit: null });
          await interaction.editReply({ content: t.quotaShow(userId, quota) });
          return;
        }
        default:
          await interaction.editReply({ content: t.quotaShow(userId, await service.userQuota('discord', userId)) });
      }
    }),
  };
}
