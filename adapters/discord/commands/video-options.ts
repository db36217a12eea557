/**
 * The generation options of `/video` (#15): `ratio` and `duration` as choices, and `resolution` when the provider
 * has it (Ark) — only what the running provider honours, so a user cannot pick what would be refused. They are
 * added to the command's JSON when it is registered (`npm run discord:register` knows the configured provider),
 * and read back from an interaction for the core to check.
 */
import {
  type APIApplicationCommandOption,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  SlashCommandIntegerOption,
  SlashCommandStringOption,
} from 'discord.js';
import type { Ratio, VideoCapabilities, VideoOptionsInput } from '../../../src/core/index.js';

/** How each ratio is named in the choice list, in English and Chinese. */
const RATIO_NAMES: Record<Ratio, [string, string]> = {
  '16:9': ['16:9 landscape', '16:9 横屏'],
  '9:16': ['9:16 portrait (phones)', '9:16 竖屏（手机）'],
  '1:1': ['1:1 square', '1:1 方形'],
  '4:3': ['4:3 classic', '4:3 经典'],
  '3:4': ['3:4 tall', '3:4 竖版'],
  '21:9': ['21:9 cinema', '21:9 宽银幕'],
};

const zh = (text: string) => ({ 'zh-CN': text, 'zh-TW': text });

/** The option definitions for a provider's capabilities (none for a provider without options). */
export function videoOptionFields(caps: VideoCapabilities): APIApplicationCommandOption[] {
  const fields: APIApplicationCommandOption[] = [];
  if (caps.ratios.length) {
    fields.push(
      new SlashCommandStringOption()
        .setName('ratio')
        .setDescription('Aspect ratio of the video (default: the provider’s, usually 16:9)')
        .setDescriptionLocalizations(zh('视频画面比例（默认由服务决定，通常为 16:9）'))
        .addChoices(
          caps.ratios.map((r) => ({ name: RATIO_NAMES[r][0], name_localizations: zh(RATIO_NAMES[r][1]), value: r })),
        )
        .toJSON(),
    );
  }
  if (caps.durationsS.length) {
    fields.push(
      new SlashCommandIntegerOption()
        .setName('duration')
        .setDescription('Length in seconds (default: 5)')
        .setDescriptionLocalizations(zh('视频时长，单位秒（默认 5 秒）'))
        .addChoices(caps.durationsS.map((s) => ({ name: `${s} s`, name_localizations: zh(`${s} 秒`), value: s })))
        .toJSON(),
    );
  }
  if (caps.resolutions.length) {
    fields.push(
      new SlashCommandStringOption()
        .setName('resolution')
        .setDescription('Picture size (default: the configured one)')
        .setDescriptionLocalizations(zh('清晰度（默认使用配置的值）'))
        .addChoices(caps.resolutions.map((r) => ({ name: r, value: r })))
        .toJSON(),
    );
  }
  return fields;
}

/** The `/video` command's JSON with the provider's options after its own (prompt, image). */
export function withVideoOptions(
  command: RESTPostAPIChatInputApplicationCommandsJSONBody,
  caps: VideoCapabilities,
): RESTPostAPIChatInputApplicationCommandsJSONBody {
  return { ...command, options: [...(command.options ?? []), ...videoOptionFields(caps)] };
}

/** What the user picked; absent options stay absent (the provider's defaults). */
export function videoOptionsOf(interaction: ChatInputCommandInteraction): VideoOptionsInput {
  return {
    ratio: interaction.options.getString('ratio') ?? undefined,
    durationS: interaction.options.getInteger('duration') ?? undefined,
    resolution: interaction.options.getString('resolution') ?? undefined,
  };
}
