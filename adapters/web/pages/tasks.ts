/**
 * The task list: filters by status, platform, provider and user, a search of prompts, pages of 25, newest first.
 * Each row carries its task id, so the client script updates it live from the event stream.
 */
import { type Platform, TASK_STATUSES, type Task, type TaskStatus } from '../../../src/core/index.js';
import type { WebDeps } from '../deps.js';
import { type Html, html, query } from '../html.js';
import { type Translate, word } from '../i18n.js';
import { when } from '../layout.js';

const PAGE_SIZE = 25;
const PLATFORMS: readonly Platform[] = ['discord', 'telegram', 'http', 'cli'];
const PROVIDERS = ['doubao', 'ark', 'local'];

export interface TaskListQuery {
  status?: string;
  platform?: string;
  provider?: string;
  user?: string;
  q?: string;
  page?: string;
}

/** Only known values reach the store; anything else means "any". */
function filters(q: TaskListQuery) {
  const pick = <T extends string>(value: string | undefined, known: readonly T[]) =>
    known.includes(value as T) ? (value as T) : undefined;
  const text = (value: string | undefined) => value?.trim().slice(0, 200) || undefined;
  return {
    status: pick<TaskStatus>(q.status, TASK_STATUSES),
    platform: pick<Platform>(q.platform, PLATFORMS),
    provider: pick(q.provider, PROVIDERS),
    user: text(q.user),
    q: text(q.q),
    page: Math.min(Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1), 1_000_000),
  };
}

export function taskRow(task: Task, t: Translate): Html {
  const prompt = [...task.prompt].length > 80 ? `${[...task.prompt].slice(0, 80).join('')}…` : task.prompt;
  return html`<tr data-task-id="${task.id}">
<td><a href="/admin/tasks/${task.id}">${task.id}</a></td>
<td><span class="status" data-field="status" data-status="${task.status}">${word(t, 'status', task.status)}</span></td>
<td class="prompt">${prompt}</td>
<td>${task.provider}</td>
<td>${task.origin.platform}</td>
<td>${task.origin.userId}</td>
<td data-field="attempts">${task.attempts}/${task.maxAttempts}</td>
<td>${when(task.createdAt)}</td>
</tr>`;
}

function select(name: string, label: string, values: readonly string[], chosen: string | undefined, t: Translate) {
  const text = (v: string) => (name === 'status' ? word(t, 'status', v) : v);
  return html`<label>${label}<select name="${name}"><option value="">${t('tasks.any')}</option>${values.map(
    (v) => html`<option value="${v}"${v === chosen ? html` selected` : ''}>${text(v)}</option>`,
  )}</select></label>`;
}

export async function tasksPage(deps: WebDeps, t: Translate, raw: TaskListQuery): Promise<Html> {
  const f = filters(raw);
  const { total, tasks } = await deps.reads.searchTasks({
    status: f.status,
    platform: f.platform,
    provider: f.provider,
    userId: f.user,
    text: f.q,
    limit: PAGE_SIZE,
    offset: (f.page - 1) * PAGE_SIZE,
  });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  // New tasks join the first page live only when it is unfiltered (the client cannot judge a filter).
  const live = f.page === 1 && !f.status && !f.platform && !f.provider && !f.user && !f.q;
  const keep = { status: f.status, platform: f.platform, provider: f.provider, user: f.user, q: f.q };
  const link = (page: number) => `/admin/tasks${query({ ...keep, page: page === 1 ? undefined : page })}`;
  return html`<h1>${t('tasks.title')}</h1>
<form method="get" action="/admin/tasks" class="filters" role="search">
${select('status', t('field.status'), TASK_STATUSES, f.status, t)}
${select('platform', t('field.platform'), PLATFORMS, f.platform, t)}
${select('provider', t('field.provider'), PROVIDERS, f.provider, t)}
<label>${t('field.user')}<input name="user" value="${f.user ?? ''}" autocomplete="off"></label>
<label>${t('tasks.search')}<input type="search" name="q" value="${f.q ?? ''}"></label>
<button type="submit">${t('tasks.filter')}</button>
</form>
<p>${t('tasks.count', { n: total })}</p>
${
  tasks.length || live
    ? html`<div class="scroll"><table class="tasks"${live ? html` data-live-insert` : ''}>
<thead><tr><th scope="col">${t('field.id')}</th><th scope="col">${t('field.status')}</th><th scope="col">${t('field.prompt')}</th><th scope="col">${t('field.provider')}</th><th scope="col">${t('field.platform')}</th><th scope="col">${t('field.user')}</th><th scope="col">${t('field.attempts')}</th><th scope="col">${t('field.created')}</th></tr></thead>
<tbody>${tasks.map((task) => taskRow(task, t))}</tbody></table></div>`
    : html`<p>${t('tasks.none')}</p>`
}
<nav class="pager" aria-label="${t('tasks.page', { page: f.page, pages })}">
${f.page > 1 ? html`<a href="${link(f.page - 1)}" rel="prev">${t('tasks.prev')}</a>` : ''}
<span>${t('tasks.page', { page: f.page, pages })}</span>
${f.page < pages ? html`<a href="${link(f.page + 1)}" rel="next">${t('tasks.next')}</a>` : ''}
</nav>`;
}
