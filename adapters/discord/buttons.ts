/**
 * The task buttons: `cancel:<id>` on the progress message and `retry:<id>` on a failure, for the task's owner
 * only; `admin-cancel:<id>` and `admin-retry:<id>` on `/task`, for admins only. Each answers ephemerally.
 * Ownership and admin rights are checked before anything else, so others get a clear refusal.
 */
import { type ButtonInteraction, MessageFlags } from 'discord.js';
import type { Actor, Task } from '../../src/core/index.js';
import { isAdmin } from './admin.js';
import { langOf, type Messages, say } from './messages.js';
import type { ButtonHandler, DiscordDeps } from './types.js';

type Action = (id: string, actor: Actor) => Promise<Task>;

function taskButton(deps: DiscordDeps, admin: boolean, act: Action, done: (t: Messages, id: string) => string) {
  const handler: ButtonHandler = async (interaction: ButtonInteraction, [id]) => {
    const t = say(langOf(interaction.locale, deps.config.DEFAULT_LOCALE));
    const taskId = id ?? '';
    const allowed = admin ? isAdmin(interaction, deps.config) : isOwner(deps, taskId, interaction.user.id);
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

function isOwner(deps: DiscordDeps, id: string, userId: string): boolean {
  try {
    const task = deps.service.get(id);
    return task.origin.platform === 'discord' && task.origin.userId === userId;
  } catch {
    return false;
  }
}

export function taskButtons(deps: DiscordDeps): Record<string, ButtonHandler> {
  const cancel: Action = (id, actor) => deps.service.cancel(id, actor);
  const retry: Action = (id, actor) => deps.service.retry(id, actor);
  return {
    cancel: taskButton(deps, false, cancel, (t, id) => t.cancelledOk(id)),
    retry: taskButton(deps, false, retry, (t, id) => t.retriedOk(id)),
    'admin-cancel': taskButton(deps, true, cancel, (t, id) => t.cancelledOk(id)),
    'admin-retry': taskButton(deps, true, retry, (t, id) => t.retriedOk(id)),
  };
}
