/**
 * The upstream accounts: Doubao's session pool (state, since when, last code, cool-down left, tasks running) with a
 * re-check button per session, or Ark's slots (jobs running of the most allowed). Only the fields the provider's
 * `status()` reports for operators are read, and only the named ones are shown: never a cookie.
 */
import type { WebDeps } from '../deps.js';
import { type Html, html } from '../html.js';
import { type Translate, word } from '../i18n.js';
import { duration, when } from '../layout.js';

export interface SessionView {
  id: string;
  label: string;
  guest: boolean;
  state: string;
  since?: string;
  until?: string;
  lastCode?: string;
}

/** The provider's sessions as the page shows them; anything malformed is left out. */
export function sessionViews(deps: WebDeps): SessionView[] {
  let raw: unknown;
  try {
    raw = deps.provider.status?.().sessions;
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return raw.flatMap((item) => {
    const s = (item ?? {}) as Record<string, unknown>;
    const [id, state] = [text(s.id), text(s.state)];
    if (!id || !state) return [];
    const [since, until, lastCode] = [text(s.since), text(s.until), text(s.lastCode)];
    return [
      {
        id,
        label: text(s.label) ?? id,
        guest: s.guest === true,
        state,
        ...(since && { since }),
        ...(until && { until }),
        ...(lastCode && { lastCode }),
      },
    ];
  });
}

async function doubaoTable(deps: WebDeps, t: Translate, csrf: string, now: number): Promise<Html> {
  const sessions = sessionViews(deps);
  const running = await deps.reads.liveTasksByUpstreamField('doubao', 'sessionId');
  const left = (until?: string) => {
    const ms = until ? Date.parse(until) - now : 0;
    return ms > 0 ? html`<span data-until="${until}">${duration(ms)}</span>` : '—';
  };
  return html`<h2>${t('sessions.doubao')}</h2>
<div class="scroll"><table class="sessions">
<thead><tr><th scope="col">${t('sessions.label')}</th><th scope="col">${t('sessions.kind')}</th><th scope="col">${t('sessions.state')}</th><th scope="col">${t('sessions.since')}</th><th scope="col">${t('sessions.lastCode')}</th><th scope="col">${t('sessions.coolDown')}</th><th scope="col">${t('sessions.running')}</th><th scope="col"><span class="sr-only">${t('sessions.recheck')}</span></th></tr></thead>
<tbody>${sessions.map(
    (s) => html`<tr data-session-id="${s.id}">
<th scope="row">${s.label}</th>
<td>${s.guest ? t('sessions.guest') : t('sessions.login')}</td>
<td><span class="state" data-state="${s.state}">${word(t, 'state', s.state)}</span></td>
<td>${when(s.since)}</td>
<td>${s.lastCode ?? '—'}</td>
<td>${left(s.until)}</td>
<td>${running.get(s.id) ?? 0}</td>
<td>${
      deps.provider.recheck
        ? html`<form method="post" action="/admin/sessions/${s.id}/recheck"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">${t('sessions.recheck')}<span class="sr-only"> ${s.label}</span></button></form>`
        : ''
    }</td>
</tr>`,
  )}</tbody></table></div>`;
}

async function arkSlots(deps: WebDeps, t: Translate, maxRunning: number | undefined): Promise<Html> {
  const running = await deps.reads.countRunning('ark');
  return html`<h2>${t('sessions.ark')}</h2><p class="figure">${
    maxRunning === undefined
      ? t('sessions.arkNoLimit', { running })
      : t('sessions.arkUse', { running, max: maxRunning })
  }</p>`;
}

export async function sessionsPage(deps: WebDeps, t: Translate, csrf: string, now: number): Promise<Html> {
  const { name, maxRunning } = deps.provider;
  const body =
    name === 'doubao'
      ? await doubaoTable(deps, t, csrf, now)
      : name === 'ark'
        ? await arkSlots(deps, t, maxRunning)
        : html`<p>${t('sessions.none', { provider: name })}</p>`;
  return html`<h1>${t('nav.sessions')}</h1><div id="sessions">${body}</div>`;
}
