/**
 * The admin page's client script, served at /admin/assets/admin.js (kept in a module so the production build
 * carries it; plain ES2020, no build step). Progressive: every page works without it. It follows the server-sent
 * events of /admin/events and updates task rows and the task page in place (status, attempts, error, video,
 * buttons), refreshes the sessions table on an incident, shows times in the viewer's zone, counts cool-downs down
 * and asks before a cancel.
 */
export const ADMIN_SCRIPT = `'use strict';
(() => {
  const words = JSON.parse(document.body.dataset.words || '{}');
  const FINAL = ['completed', 'failed', 'cancelled'];

  const localTimes = (root) => {
    for (const el of root.querySelectorAll('time[datetime]')) {
      const d = new Date(el.getAttribute('datetime'));
      if (!Number.isNaN(d.getTime())) el.textContent = d.toLocaleString();
    }
  };

  const setStatus = (el, status) => {
    el.dataset.status = status;
    el.textContent = words[status] || status;
  };

  // A new task on the unfiltered first page of the list: a row like the server's, built from text only.
  const addRow = (task) => {
    const body = document.querySelector('table[data-live-insert] tbody');
    if (!body || task.event !== 'queued' || document.querySelector('tr[data-task-id="' + task.id + '"]')) return;
    const row = document.createElement('tr');
    row.dataset.taskId = task.id;
    const cell = (text, field) => {
      const td = document.createElement('td');
      if (field) td.dataset.field = field;
      td.textContent = text;
      row.append(td);
      return td;
    };
    const link = document.createElement('a');
    link.href = '/admin/tasks/' + encodeURIComponent(task.id);
    link.textContent = task.id;
    cell('').append(link);
    const status = document.createElement('span');
    status.className = 'status';
    status.dataset.field = 'status';
    setStatus(status, task.status);
    cell('').append(status);
    cell(task.prompt).className = 'prompt';
    cell(task.provider);
    cell(task.platform);
    cell(task.userId);
    cell(task.attempts + '/' + task.maxAttempts, 'attempts');
    cell(new Date(task.createdAt).toLocaleString());
    body.prepend(row);
  };

  const onTask = (task) => {
    addRow(task);
    for (const row of document.querySelectorAll('tr[data-task-id]')) {
      if (row.dataset.taskId !== task.id) continue;
      const status = row.querySelector('[data-field="status"]');
      if (status) setStatus(status, task.status);
      const attempts = row.querySelector('[data-field="attempts"]');
      if (attempts) attempts.textContent = task.attempts + '/' + task.maxAttempts;
    }
    const page = document.querySelector('[data-task]');
    if (!page || page.dataset.task !== task.id) return;
    setStatus(page.querySelector('h1 [data-field="status"]'), task.status);
    const set = (name, text) => {
      const el = page.querySelector('dd[data-field="' + name + '"]');
      if (el) el.textContent = text;
    };
    set('attempts', task.attempts + '/' + task.maxAttempts);
    set('progress', task.progress === null ? '—' : Math.round(task.progress * 100) + '%');
    set('error', task.error || '—');
    set('updated', new Date(task.updatedAt).toLocaleString());
    const video = page.querySelector('video');
    if (video && task.videoUrl && !video.getAttribute('src')) {
      video.src = task.videoUrl;
      video.hidden = false;
      const none = page.querySelector('.no-video');
      if (none) none.hidden = true;
    }
    const cancel = page.querySelector('form[data-action="cancel"]');
    const retry = page.querySelector('form[data-action="retry"]');
    if (cancel) cancel.hidden = FINAL.includes(task.status);
    if (retry) retry.hidden = !(task.status === 'failed' || task.status === 'cancelled');
  };

  const refreshSessions = async () => {
    const box = document.getElementById('sessions');
    if (!box) return;
    const res = await fetch(location.href, { credentials: 'same-origin' });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const fresh = doc.getElementById('sessions');
    if (fresh) {
      box.innerHTML = fresh.innerHTML;
      localTimes(box);
    }
  };

  const live = document.querySelector('.live');
  if (live && window.EventSource) {
    const source = new EventSource('/admin/events');
    source.onopen = () => { live.dataset.live = 'on'; };
    source.onerror = () => { live.dataset.live = 'off'; };
    source.addEventListener('task', (e) => onTask(JSON.parse(e.data)));
    source.addEventListener('incident', () => { refreshSessions(); });
  }

  document.addEventListener('submit', (e) => {
    const text = e.target.dataset && e.target.dataset.confirm;
    if (text && !window.confirm(text)) e.preventDefault();
  });

  setInterval(() => {
    for (const el of document.querySelectorAll('[data-until]')) {
      const s = Math.max(0, Math.round((Date.parse(el.dataset.until) - Date.now()) / 1000));
      el.textContent = s >= 3600 ? Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min'
        : s >= 60 ? Math.floor(s / 60) + ' min ' + (s % 60) + ' s' : s + ' s';
    }
  }, 1000);

  localTimes(document);
})();
`;
