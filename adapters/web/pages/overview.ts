/**
 * The overview: tasks per day and the success rate (last 14 days), time from request to video per provider
 * (median and p95, computed by the store), deliveries failing, tasks by status and the disk kept by videos. The
 * history figures are read at most every 30 s; counts by status and the disk are read on every visit.
 */

import type { DayCount, VideoTiming } from '../../../src/core/index.js';
import { formatBytes, TASK_STATUSES } from '../../../src/core/index.js';
import { horizontalBars, type Stack, stackedBars } from '../charts.js';
import type { AdminReads, WebDeps } from '../deps.js';
import { type Html, html } from '../html.js';
import { type Translate, word } from '../i18n.js';
import { duration, when } from '../layout.js';

const DAYS = 14;
const DAY_MS = 86_400_000;

/** The history figures: a few hundred ms of SQL on a long history, so one reading serves every page this long. */
const HISTORY_TTL_MS = 30_000;

export interface History {
  counts: DayCount[];
  timing: VideoTiming[];
  failing: Awaited<ReturnType<AdminReads['failingDeliveries']>>;
}

/**
 * Reads the figures of the days since `since` (YYYY-MM-DD), again only once the last reading is 30 s old. The
 * reading itself is kept, so visits while it is under way share it; a reading that fails is dropped at once.
 */
export function historyReader(reads: AdminReads): (since: string) => Promise<History> {
  let cached: { at: number; since: string; value: Promise<History> } | undefined;
  return (since) => {
    const at = Date.now();
    if (cached && cached.since === since && at - cached.at < HISTORY_TTL_MS) return cached.value;
    const from = `${since}T00:00:00.000Z`;
    const value = Promise.all([
      reads.tasksPerDay(from),
      reads.timeToVideo(from),
      reads.failingDeliveries(from, 5),
    ]).then(([counts, timing, failing]) => ({ counts, timing, failing }));
    const entry = { at, since, value };
    cached = entry;
    value.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return value;
  };
}

export async function overviewPage(
  deps: WebDeps,
  t: Translate,
  now: number,
  history: (since: string) => Promise<History>,
): Promise<Html> {
  const since = new Date(now - (DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  const days = Array.from({ length: DAYS }, (_, i) =>
    new Date(now - (DAYS - 1 - i) * DAY_MS).toISOString().slice(0, 10),
  );
  const { counts, timing, failing } = await history(since);
  const perDay = days.map((day) => {
    const rows = counts.filter((c) => c.day === day);
    const sum = (k: 'total' | 'completed' | 'failed' | 'cancelled') => rows.reduce((n, r) => n + r[k], 0);
    return {
      day,
      total: sum('total'),
      completed: sum('completed'),
      failed: sum('failed'),
      cancelled: sum('cancelled'),
    };
  });
  const stacks: Stack[] = perDay.map((d) => ({
    label: d.day,
    parts: [
      { value: d.completed, className: 'ok', name: word(t, 'status', 'completed') },
      { value: d.failed, className: 'bad', name: word(t, 'status', 'failed') },
      { value: d.cancelled, className: 'muted', name: word(t, 'status', 'cancelled') },
      {
        value: d.total - d.completed - d.failed - d.cancelled,
        className: 'run',
        name: word(t, 'status', 'processing'),
      },
    ],
  }));
  const rates: Stack[] = perDay.map((d) => {
    const ended = d.completed + d.failed;
    const rate = ended ? Math.round((100 * d.completed) / ended) : 0;
    return { label: d.day, parts: [{ value: rate, className: 'ok', name: `${rate}%` }] };
  });
  const { byStatus } = await deps.service.stats();
  const disk = await deps.service.storageUsage();
  const totals = perDay.reduce((n, d) => ({ ended: n.ended + d.completed + d.failed, ok: n.ok + d.completed }), {
    ended: 0,
    ok: 0,
  });

  return html`<h1>${t('nav.overview')}</h1>
<div class="cards">
<section class="card" aria-labelledby="per-day"><h2 id="per-day">${t('overview.perDay', { days: DAYS })}</h2>
${stackedBars(t('overview.perDay', { days: DAYS }), stacks)}
<p class="legend"><span class="key ok"></span>${word(t, 'status', 'completed')} <span class="key bad"></span>${word(t, 'status', 'failed')} <span class="key muted"></span>${word(t, 'status', 'cancelled')} <span class="key run"></span>${word(t, 'status', 'processing')}</p>
</section>
<section class="card" aria-labelledby="success"><h2 id="success">${t('overview.success')}</h2>
${stackedBars(t('overview.success'), rates, { max: 100, unit: '%' })}
<p class="figure">${totals.ended ? `${Math.round((100 * totals.ok) / totals.ended)}%` : '—'} <small>(${totals.ok}/${totals.ended})</small></p>
</section>
<section class="card" aria-labelledby="timing"><h2 id="timing">${t('overview.timing', { days: DAYS })}</h2>
${
  timing.length
    ? html`${horizontalBars(
        t('overview.timing', { days: DAYS }),
        timing.map((p) => ({
          label: p.provider,
          bars: [
            { value: p.medianMs, className: 'ok', text: `${t('overview.median')} ${duration(p.medianMs)}` },
            { value: p.p95Ms, className: 'run', text: `${t('overview.p95')} ${duration(p.p95Ms)}` },
          ],
        })),
      )}
<table><thead><tr><th scope="col">${t('field.provider')}</th><th scope="col">${t('overview.median')}</th><th scope="col">${t('overview.p95')}</th><th scope="col">n</th></tr></thead>
<tbody>${timing.map((p) => html`<tr><td>${p.provider}</td><td>${duration(p.medianMs)}</td><td>${duration(p.p95Ms)}</td><td>${p.videos}</td></tr>`)}</tbody></table>`
    : html`<p>${t('overview.noData')}</p>`
}
</section>
<section class="card" aria-labelledby="deliveries"><h2 id="deliveries">${t('overview.deliveries')}</h2>
<p class="figure${failing.retrying + failing.givenUp ? ' bad' : ''}">${failing.retrying} <small>${t('overview.retrying')}</small> · ${failing.givenUp} <small>${t('overview.givenUp', { days: DAYS })}</small></p>
<ul class="plain">${failing.recent.map(
    (d) =>
      html`<li>${d.taskId ? html`<a href="/admin/tasks/${d.taskId}">${d.taskId}</a>` : `#${d.incidentId}`} · ${d.platform} · ${when(d.createdAt)}: ${d.givenUpReason ?? d.lastError ?? ''}</li>`,
  )}</ul>
</section>
<section class="card" aria-labelledby="statuses"><h2 id="statuses">${t('overview.byStatus')}</h2>
<dl class="pairs">${TASK_STATUSES.map(
    (s) =>
      html`<dt><a href="/admin/tasks?status=${s}"><span class="status" data-status="${s}">${word(t, 'status', s)}</span></a></dt><dd>${byStatus[s] ?? 0}</dd>`,
  )}</dl>
</section>
<section class="card" aria-labelledby="disk"><h2 id="disk">${t('overview.disk')}</h2>
<p class="figure">${formatBytes(disk.videos)} <small>${t('disk.videos')}</small></p>
<p>${formatBytes(disk.images)} ${t('disk.images')} · ${formatBytes(disk.uploads)} ${t('disk.uploads')}</p>
</section>
</div>`;
}
