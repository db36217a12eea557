/**
 * The one interaction dispatcher and failure path: routes slash commands by name and buttons by the prefix of
 * their custom id, and answers any error ephemerally in the user's language through `toDiscordReply`
 * (editing an ephemeral deferral, else replacing a public one by an ephemeral follow-up).
 */
import { type Interaction, MessageFlags, type RepliableInteraction } from 'discord.js';
import { mayUse, refusalLog } from '../access.js';
import { apiCode, safeError, toDiscordReply } from '../error-reply.js';
import { langOf, say } from '../messages.js';
import type { ButtonHandler, DiscordDeps, SlashCommand } from '../types.js';

export function interactionCreate(
  deps: DiscordDeps,
  commands: ReadonlyMap<string, SlashCommand>,
  buttons: ReadonlyMap<string, ButtonHandler>,
) {
  const logRefusal = refusalLog(deps.log);
  return async (interaction: Interaction): Promise<void> => {
    try {
      if (!mayUse(interaction, deps.config)) {
        logRefusal(interaction);
        if (interaction.isRepliable()) {
          const t = say(langOf(interaction.locale, deps.config.DEFAULT_LOCALE));
          await interaction.reply({ content: t.notAllowed, flags: MessageFlags.Ephemeral });
        }
        return;
      }
      if (interaction.isChatInputCommand()) {
        const command = commands.get(interaction.commandName);
        if (!command) throw new Error(`unknown command /${interaction.commandName}`);
        await command.execute(interaction);
      } else if (interaction.isButton()) {
        const [prefix = '', ...args] = interaction.customId.split(':');
        const handler = buttons.get(prefix);
        if (!handler) throw new Error(`unknown button ${prefix}`);
        await handler(interaction, args);
      }
    } catch (error) {
      if (interaction.isRepliable()) await answerFailure(deps, interaction, error);
    }
  };
}

async function answerFailure(deps: DiscordDeps, interaction: RepliableInteraction, error: unknown): Promise<void> {
  const t = say(langOf(interaction.locale, deps.config.DEFAULT_LOCALE));
  const { content, internal } = toDiscordReply(error, t);
  const where = interaction.isChatInputCommand() ? `/${interaction.commandName}` : 'button';
  if (internal) deps.log.error({ err: safeError(error), where }, 'a Discord interaction failed');
  else deps.log.debug({ where, code: (error as { code?: string }).code }, 'a Discord interaction was refused');
  try {
    if (!interaction.deferred && !interaction.replied) {
      await interaction.reply({ content, flags: MessageFlags.Ephemeral });
    } else if (interaction.ephemeral) {
      await interaction.editReply({ content, embeds: [], components: [] });
    } else {
      await interaction.deleteReply().catch(() => undefined);
      await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
    }
  } catch (replyError) {
    deps.log.warn({ err: safeError(replyError), code: apiCode(replyError), where }, 'could not tell the user');
  }
}
