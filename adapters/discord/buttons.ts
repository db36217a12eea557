/**
 * The task buttons: `cancel:<id>` on the progress message, `retry:<id>` and `again:<id>` on a failure or cancel
 * (`again:<id>` alone after a video), for the task's owner only; `admin-cancel:<id>` and `admin-retry:<id>` on `/task`, for admins only. Each answers ephemerally.
 * Ownership and admin rights are checked before anything else, so others get a clear refusal.
 */
import { type ButtonInteraction, MessageFlags } from 'discord.js';
import { type Actor, isFinal, type Task } from '../../src/core/index.js';
import { isAdmin } from './admin.js';
import { control } from './control-messages.js';
import { langOf, type Messages, say } from './messages.js';
import { DEFAULT_SIZE_LIMIT, type ReplyRef, TOKEN_LIFETIME_MS } from './reply-ref.js';
import type { ButtonHandler, DiscordDeps } from './types.js';
import { cancelRow } from './views.js';

type Action = (id: string, actor: Actor) => Promise<Task>;

function taskButton(deps: DiscordDeps, admin: boolean, act: Action, done: (t: Messages, id: string) => string) {
  const handler: ButtonHandler = async (interaction: ButtonInteraction, [id]) => {
    const t = say(langOf(interaction.locale, deps.config.DEFAULT_LOCALE));
    const taskId = id ?? '';
    const allowed = admin ? isAdmin(interaction, deps.config) : await isOwner(deps, taskId, interaction.user.id);
    if (!allowed) {
      await interaction.reply({ content: admin ? t.adminOnly : t.notOwner, flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const actor: Actor = admin ? { admin: true } : { platform: 'discord', userId: interaction.user.id };
    const task = await act(taskId, actor);
    await interaction.editReply({ content: done(t, task.id) });
  };
  return handler;
}

async function isOwner(deps: DiscordDeps, id: string, userId: string): Promise<boolean> {
  try {
    const task = await deps.service.get(id);
    return task.origin.platform === 'discord' && task.origin.userId === userId;
  } catch {
    return false;
  }
}

/**
 * Again (issue 15), for the owner only: a new task with the same prompt and image, answered publicly like a
 * `/video` (this button interaction's reply becomes the new task's status message).
 */
function againButton(deps: DiscordDeps): ButtonHandler {
  return async (interaction, [id]) => {
    const lang = langOf(interaction.locale, deps.config.DEFAULT_LOCALE);
    const t = say(lang);
    const taskId = id ?? '';
    if (!(await isOwner(deps, taskId, interaction.user.id))) {
      await interaction.reply({ content: t.notOwner, flags: MessageFlags.Ephemeral });
      return;
    }
    // The image is copied and the task started before answering: acknowledge first, as `/video` with an image.
    await interaction.deferReply();
    const replyMessage = await interaction.fetchReply();
    const reply: ReplyRef = {
      appId: interaction.applicationId,
      token: interaction.token,
      tokenExpiresAt: interaction.createdTimestamp + TOKEN_LIFETIME_MS,
      channelId: interaction.channelId,
      messageId: replyMessage.id,
      sizeLimit: interaction.attachmentSizeLimit || DEFAULT_SIZE_LIMIT,
      lang,
    };
    const actor: Actor = { platform: 'discord', userId: interaction.user.id };
    const task = await deps.service.again(taskId, actor, {
      origin: { ...actor, chatId: interaction.channelId, locale: lang, reply: { ...reply } },
      requestKey: `discord:${interaction.id}`,
    });
    if (isFinal(task.status)) return; // refused upstream at once: the delivery edits this reply
    const wait = await deps.service.waitInfo(task);
    await interaction.editReply({
      content: `${control(lang).againOk(task.id)}\n${control(lang).accepted(task.id, wait)}`,
      components: [cancelRow(task, t)],
    });
    await deps.service.updateOrigin(task.id, { shownAhead: wait.ahead });
  };
}

export function taskButtons(deps: DiscordDeps): Record<string, ButtonHandler> {
  const cancel: Action = (id, actor) => deps.service.cancel(id, actor);
  const retry: Action = (id, actor) => deps.service.retry(id, actor);
  return {
    cancel: taskButton(deps, false, cancel, (t, id) => t.cancelledOk(id)),
    retry: taskButton(deps, false, retry, (t, id) => t.retriedOk(id)),
    again: againButton(deps),
    'admin-cancel': taskButton(deps, true, cancel, (t, id) => t.cancelledOk(id)),
    'admin-retry': taskButton(deps, true, retry, (t, id) => t.retriedOk(id)),
  };
}
