/** The shapes shared by the Discord adapter's modules: its dependencies, a slash command, a button handler. */
import type {
  ButtonInteraction,
  ChatInputCommandInteraction,
  SlashCommandBuilder,
  SlashCommandOptionsOnlyBuilder,
  SlashCommandSubcommandsOnlyBuilder,
} from 'discord.js';
import type { Config } from '../../src/config.js';
import type { GenerationService } from '../../src/core/index.js';
import type { Logger } from '../../src/logger.js';

export interface DiscordDeps {
  service: GenerationService;
  config: Config;
  log: Logger;
  /** Where the core keeps re-hosted videos (`media.videosDir`). */
  videosDir: string;
}

export interface SlashCommand {
  data: SlashCommandBuilder | SlashCommandOptionsOnlyBuilder | SlashCommandSubcommandsOnlyBuilder;
  execute(interaction: ChatInputCommandInteraction): Promise<void>;
}

/** Handles buttons whose custom id is `<prefix>:<arg>…`; receives the args after the prefix. */
export type ButtonHandler = (interaction: ButtonInteraction, args: string[]) => Promise<void>;
