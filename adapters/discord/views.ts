/**
 * How tasks look on Discord: the status line of a `/video` reply with its Cancel button, the Retry and Again
 * buttons of a failed or cancelled task (Again alone once it is done), the task detail embed of `/task` with admin buttons, and one line per task in lists.
 * Button custom ids are `<action>:<task id>`; the dispatcher routes them by the action.
 */
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder } from 'discord.js';
import { describeOptions, type Task } from '../../src/core/index.js';
import { control } from './control-messages.js';
import type { Lang, Messages } from './messages.js';

export type Row = ActionRowBuilder<ButtonBuilder>;

function row(...buttons: ButtonBuilder[]): Row {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(...buttons);
}

export function cancelRow(task: Task, t: Messages): Row {
  return row(
    new ButtonBuilder().setCustomId(`cancel:${task.id}`).setLabel(t.cancelButton).setStyle(ButtonStyle.Secondary),
  );
}

export function retryRow(task: Task, t: Messages, lang: Lang): Row {
  return row(
    new ButtonBuilder().setCustomId(`retry:${task.id}`).setLabel(t.retryButton).setStyle(ButtonStyle.Primary),
    againButton(task, lang),
  );
}

/** Again: the same prompt (and image) as a new task, for the owner (issue 15). */
function againButton(task: Task, lang: Lang): ButtonBuilder {
  return new ButtonBuilder()
    .setCustomId(`again:${task.id}`)
    .setLabel(control(lang).againButton)
    .setStyle(ButtonStyle.Secondary);
}

/** The buttons a finished task's status message keeps: Again after a video; Retry and Again otherwise. */
export function finalRow(task: Task, t: Messages, lang: Lang): Row {
  return task.status === 'completed' ? row(againButton(task, lang)) : retryRow(task, t, lang);
}

export function adminRow(task: Task, t: Messages): Row {
  return row(
    new ButtonBuilder()
      .setCustomId(`admin-retry:${task.id}`)
      .setLabel(t.retryButton)
      .setStyle(ButtonStyle.Primary)
      .setDisabled(task.status !== 'failed' && task.status !== 'cancelled'),
    new ButtonBuilder()
      .setCustomId(`admin-cancel:${task.id}`)
      .setLabel(t.cancelButton)
      .setStyle(ButtonStyle.Danger)
      .setDisabled(task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled'),
  );
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** One line of a task list: id, status, its options (when asked), age and the start of the prompt. */
export function taskLine(task: Task, t: Messages): string {
  const when = `<t:${Math.floor(Date.parse(task.createdAt) / 1000)}:R>`;
  const options = task.options ? ` · ${describeOptions(task.options)}` : '';
  return `\`${task.id}\` · ${t.statuses[task.status]}${options} · ${when} · ${clip(task.prompt.replace(/\s+/g, ' '), 60)}`;
}

export function taskEmbed(task: Task, t: Messages, videoUrl: string | null): EmbedBuilder {
  const embed = new EmbedBuilder()
    .setTitle(`Task ${task.id}`)
    .addFields(
      { name: t.status, value: t.statuses[task.status], inline: true },
      { name: t.attempts, value: `${task.attempts}/${task.maxAttempts}`, inline: true },
      { name: t.owner, value: `${task.origin.platform}:${task.origin.userId}`, inline: true },
      { name: t.prompt, value: clip(task.prompt, 1000) },
      { name: t.created, value: `<t:${Math.floor(Date.parse(task.createdAt) / 1000)}:f>`, inline: true },
    );
  if (task.error) embed.addFields({ name: t.error, value: clip(task.error, 1000) });
  if (videoUrl) embed.addFields({ name: t.video, value: videoUrl });
  return embed;
}
