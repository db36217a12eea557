/**
 * One task: every field (never the chat reply tokens kept in its origin), the video player, the prompt and the
 * image, the history as a timeline (when, what the upstream said), its deliveries, and Retry / Cancel forms that
 * go through the service as the bots' admin commands do. The client script keeps status, attempts, error, video
 * and buttons live.
 */
import { isFinal, type Task } from '../../../src/core/index.js';
import type { WebDeps } from '../deps.js';
import { type Html, html } from '../html.js';
import { type Translate, word } from '../i18n.js';
import { when } from '../layout.js';

function field(label: string, value: Html | string | number, name?: string): Html {
  return html`<dt>${label}</dt><dd${name ? html` data-field="${name}"` : ''}>${value}</dd>`;
}

function actionForm(task: Task, action: 'retry' | 'cancel', csrf: string, t: Translate, shown: boolean): Html {
  const confirm = action === 'cancel' ? html` data-confirm="${t('task.cancel')}?"` : '';
  return html`<form method="post" action="/admin/tasks/${task.id}/${action}" data-action="${action}"${shown ? '' : html` hidden`}${confirm}>
<input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="${action === 'cancel' ? 'danger' : ''}">${t(`task.${action}`)}</button></form>`;
}

export async function taskPage(deps: WebDeps, t: Translate, task: Task, csrf: string): Promise<Html> {
  const [events, deliveries] = await Promise.all([deps.reads.taskEvents(task.id), deps.service.deliveries(task.id)]);
  const video = task.videoFile ? `/videos/${encodeURIComponent(task.videoFile)}` : '';
  const { platform, userId, chatId, locale } = task.origin;
  const retryable = task.status === 'failed' || task.status === 'cancelled';
  return html`<div data-task="${task.id}">
<h1>${t('task.title', { id: task.id })} <span class="status" data-field="status" data-status="${task.status}">${word(t, 'status', task.status)}</span></h1>
<div class="actions">${actionForm(task, 'cancel', csrf, t, !isFinal(task.status))}${actionForm(task, 'retry', csrf, t, retryable)}</div>
<div class="cards">
<section class="card" aria-labelledby="video"><h2 id="video">${t('task.video')}</h2>
<video controls preload="metadata" playsinline${video ? html` src="${video}"` : html` hidden`}></video>
<p class="no-video"${video ? html` hidden` : ''}>${t('task.noVideo')}</p>
<h2>${t('field.prompt')}</h2><p class="prompt-full">${task.prompt}</p>
${task.imagePath ? html`<h2>${t('task.image')}</h2><img src="/admin/tasks/${task.id}/image" alt="${t('task.image')}" class="task-image">` : ''}
</section>
<section class="card" aria-labelledby="fields"><h2 id="fields">${t('field.id')} · ${t('field.status')}</h2>
<dl class="pairs">
${field(t('field.kind'), task.kind)}
${field(t('field.provider'), task.provider)}
${field(t('field.platform'), `${platform}${chatId ? ` · ${chatId}` : ''}${locale ? ` · ${locale}` : ''}`)}
${field(t('field.user'), html`<a href="/admin/tasks?user=${encodeURIComponent(userId)}">${userId}</a>`)}
${field(t('field.attempts'), `${task.attempts}/${task.maxAttempts}`, 'attempts')}
${field(t('field.progress'), task.progress === null ? '—' : `${Math.round(task.progress * 100)}%`, 'progress')}
${field(t('field.nextLook'), when(task.nextAttemptAt === null ? null : new Date(task.nextAttemptAt).toISOString()))}
${field(t('field.error'), task.error ?? '—', 'error')}
${field(t('field.generation'), task.generation)}
${field(t('field.upstream'), task.upstream ? html`<code>${JSON.stringify(task.upstream)}</code>` : '—')}
${field(t('field.links'), task.videoUrls.length ? html`${task.videoUrls.map((u) => html`<a href="${u}" rel="noreferrer noopener">${u.slice(0, 60)}…</a> `)}` : '—')}
${field(t('field.created'), when(task.createdAt))}
${field(t('field.updated'), when(task.updatedAt), 'updated')}
${field(t('field.delivered'), when(task.deliveredAt))}
</dl>
</section>
<section class="card wide" aria-labelledby="timeline"><h2 id="timeline">${t('task.timeline')}</h2>
${
  events.length
    ? html`<ol class="timeline">${events.map(
        (e) =>
          html`<li data-status="${e.status}">${when(e.at)} <strong>${word(t, 'event', e.event)}</strong> · ${word(t, 'status', e.status)} · ${e.attempts}/${task.maxAttempts}${e.progress === null ? '' : ` · ${Math.round(e.progress * 100)}%`}${e.note ? html`<br><span class="note">${e.note}</span>` : ''}</li>`,
      )}</ol>`
    : html`<p>${t('task.noEvents')}</p>`
}
${
  deliveries.length
    ? html`<h2>${t('task.deliveries')}</h2><ul class="plain">${deliveries.map(
        (d) =>
          html`<li>${d.platform} · ${d.outcome ?? ''} · ${d.state} · ${d.tries}× · ${when(d.sentAt ?? d.createdAt)}${d.lastError ? html`<br><span class="note">${d.lastError}</span>` : ''}</li>`,
      )}</ul>`
    : ''
}
</section>
</div>
</div>`;
}
