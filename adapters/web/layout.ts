/**
 * The frame of every admin page: language, navigation, sign-out form, flash message, and the words the client
 * script needs to render live updates in the page's language.
 */
import { TASK_STATUSES } from '../../src/core/index.js';
import { type Html, html } from './html.js';
import { type Locale, type Translate, word } from './i18n.js';

export type Section = 'overview' | 'tasks' | 'sessions' | 'signin';

export interface PageFrame {
  t: Translate;
  locale: Locale;
  title: string;
  section: Section;
  /** The session's CSRF token; absent on the sign-in page. */
  csrf?: string;
  /** Whether a sign-out button makes sense (a token is configured). */
  canSignOut?: boolean;
  flash?: string;
  error?: string;
}

const NAV: [Exclude<Section, 'signin'>, string][] = [
  ['overview', '/admin'],
  ['tasks', '/admin/tasks'],
  ['sessions', '/admin/sessions'],
];

export function layout(frame: PageFrame, body: Html): string {
  const { t } = frame;
  const words = Object.fromEntries(TASK_STATUSES.map((s) => [s, word(t, 'status', s)]));
  const nav =
    frame.section === 'signin'
      ? ''
      : html`<nav aria-label="${t('title')}"><ul>${NAV.map(
          ([section, href]) =>
            html`<li><a href="${href}"${frame.section === section ? html` aria-current="page"` : ''}>${t(`nav.${section}`)}</a></li>`,
        )}</ul>
        <span class="live" data-live="off" title="${t('live')}">${t('live')}</span>
        ${
          frame.canSignOut && frame.csrf
            ? html`<form method="post" action="/admin/logout" class="signout"><input type="hidden" name="csrf" value="${frame.csrf}"><button type="submit">${t('signOut')}</button></form>`
            : ''
        }</nav>`;
  return html`<!doctype html>
<html lang="${frame.locale === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · doubao-video-bot ${t('title')}</title>
<link rel="stylesheet" href="/admin/assets/admin.css">
<script src="/admin/assets/admin.js" defer></script>
</head>
<body data-words="${JSON.stringify(words)}">
<a class="skip" href="#main">${t('skip')}</a>
<header><strong>doubao-video-bot</strong> ${nav}</header>
<main id="main" tabindex="-1">
${frame.flash ? html`<p class="flash" role="status">${frame.flash}</p>` : ''}
${frame.error ? html`<p class="error" role="alert">${frame.error}</p>` : ''}
${body}
</main>
</body>
</html>`.text;
}

/** An ISO time as a <time> element the client script shows in the viewer's time zone. */
export function when(iso: string | null | undefined): Html | string {
  if (!iso) return '—';
  return html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 19)} UTC</time>`;
}

/** A duration in ms as "1 h 2 min", "3 min 4 s" or "5 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}
