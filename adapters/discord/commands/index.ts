/**
 * The static list of commands and buttons: the one place that feeds both dispatch and registration
 * (no directory scanning).
 */

import { taskButtons } from '../buttons.js';
import type { ButtonHandler, DiscordDeps, SlashCommand } from '../types.js';
import * as mytasks from './mytasks.js';
import * as queue from './queue.js';
import * as quota from './quota.js';
import * as stats from './stats.js';
import * as task from './task.js';
import * as tasks from './tasks.js';
import * as video from './video.js';

/** What `npm run discord:register` sends, in this order. */
export const commandData = [video.data, mytasks.data, queue.data, tasks.data, task.data, stats.data, quota.data];

export function buildCommands(deps: DiscordDeps): Map<string, SlashCommand> {
  const list = [
    video.videoCommand(deps),
    mytasks.myTasksCommand(deps),
    queue.queueCommand(deps),
    tasks.tasksCommand(deps),
    task.taskCommand(deps),
    stats.statsCommand(deps),
    quota.quotaCommand(deps),
  ];
  return new Map(list.map((c) => [c.data.name, c]));
}

export function buildButtons(deps: DiscordDeps): Map<string, ButtonHandler> {
  return new Map(Object.entries({ ...taskButtons(deps), tasks: tasks.tasksPager(deps) }));
}
