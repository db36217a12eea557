/** Admin commands work for TELEGRAM_ADMIN_IDS only; everyone else is refused politely and learns nothing. */
import { afterEach, describe, expect, it } from 'vitest';
import type { VideoProvider } from '../../src/providers/provider.js';
import { textMessage } from '../fakes/telegram/updates.js';
import { idleProvider } from '../support/idle-provider.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const admin = { chatId: 900, userId: 900, languageCode: 'en' };
const user = { chatId: 901, userId: 901, languageCode: 'en' };
const text = (c: { payload: Record<string, unknown> }) => String(c.payload.text);
const ENV = { TELEGRAM_ADMIN_IDS: '900,999', LOCAL_RENDER_S: '600', MAX_ATTEMPTS: '3', RETRY_INTERVAL_S: '5' };

async function userTask(harness: BotHarness, prompt: string) {
  harness.fake.pushUpdate(textMessage(user, `/video ${prompt}`));
  await harness.fake.waitFor('sendMessage', (c) => text(c).includes('accepted') && Number(c.payload.chat_id) === 901);
  const task = (await harness.core.service.list({ userId: '901' })).tasks.find((t) => t.prompt === prompt);
  if (!task) throw new Error(`no task for ${prompt}`);
  return task;
}

describe('admin commands', () => {
  it('refuses /tasks, /task and /stats to non-admins without leaking anything; /retry reaches only their own', async () => {
    h = await startBotHarness(ENV);
    const task = await userTask(h, 'secret prompt');
    for (const command of ['/tasks', `/task ${task.id}`, '/stats']) {
      h.fake.pushUpdate(textMessage({ ...user, chatId: 902 }, command));
    }
    await h.fake.waitFor('sendMessage', () => h.fake.calls('sendMessage', 902).length === 3);
    for (const reply of h.fake.calls('sendMessage', 902)) {
      expect(text(reply)).toBe('Sorry, that command is for the bot’s administrators.');
    }
    // Issue 15: owners retry their own tasks; someone else's is "not found", as for /cancel.
    h.fake.pushUpdate(textMessage({ chatId: 903, userId: 903, languageCode: 'en' }, `/retry ${task.id}`));
    const stranger = await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === 903);
    expect(text(stranger)).toMatch(/^Not found: there is no task /);
    await h.core.service.cancel(task.id, { admin: true });
    h.fake.pushUpdate(textMessage({ ...user, chatId: 904 }, `/retry ${task.id}`));
    const owner = await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === 904);
    expect(text(owner)).toBe(`🔁 Task ${task.id} queued again.`);
    expect(['pending', 'processing']).toContain((await h.core.service.get(task.id)).status);
  });

  it('admins get their own command menu', async () => {
    h = await startBotHarness(ENV);
    const scoped = h.fake.calls('setMyCommands').filter((c) => c.payload.scope);
    expect(scoped.map((c) => (c.payload.scope as { chat_id: string }).chat_id)).toEqual(['900', '999']);
    expect(JSON.stringify(scoped[0]!.payload.commands)).toContain('"tasks"');
  });

  it('/tasks lists everyone’s tasks, filtered by status and paged', async () => {
    // A provider whose jobs never finish: twelve tasks without twelve ffmpeg renders.
    const idle = (): VideoProvider => ({
      name: 'idle',
      uploadImage: async () => ({}),
      start: async () => ({ id: 'job' }),
      poll: async () => ({ state: 'running' }),
    });
    h = await startBotHarness({ ...ENV, USER_MAX_ACTIVE: '20' }, { provider: idle });
    for (let i = 0; i < 12; i++) {
      await h.core.service.submit({ prompt: `prompt ${i}`, origin: { platform: 'telegram', userId: '901' } });
    }
    h.fake.pushUpdate(textMessage(admin, '/tasks'));
    const page1 = await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Page 1/2'));
    expect(text(page1)).toContain('12 task(s)');
    expect(text(page1)).toContain('telegram:901');
    expect(text(page1)).toContain('/tasks 2');
    h.fake.pushUpdate(textMessage(admin, '/tasks 2'));
    const page2 = await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Page 2/2'));
    expect(text(page2).split('\n')).toHaveLength(3);
    h.fake.pushUpdate(textMessage(admin, '/tasks completed'));
    await h.fake.waitFor('sendMessage', (c) => text(c) === 'No tasks found.');
    h.fake.pushUpdate(textMessage(admin, '/tasks nonsense'));
    await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Usage: /tasks'));
  });

  it('/task shows the detail, /cancel cancels any task and /retry runs it again; /stats counts', async () => {
    h = await startBotHarness(ENV);
    const task = await userTask(h, 'a red balloon');
    h.fake.pushUpdate(textMessage(admin, `/task ${task.id}`));
    const detail = await h.fake.waitFor('sendMessage', (c) => text(c).includes(`${task.id} —`));
    expect(text(detail)).toContain('prompt: a red balloon');
    expect(text(detail)).toContain('owner: telegram:901');
    expect(text(detail)).not.toContain('statusMessageId');

    h.fake.pushUpdate(textMessage(admin, `/cancel ${task.id}`));
    await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === 900 && text(c).includes('cancelled'));
    expect((await h.core.service.get(task.id)).status).toBe('cancelled');
    await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === 901 && text(c).includes('was cancelled'));

    h.fake.pushUpdate(textMessage(admin, `/retry ${task.id}`));
    await h.fake.waitFor('sendMessage', (c) => text(c) === `🔁 Task ${task.id} queued again.`);
    expect((await h.core.service.get(task.id)).status).not.toBe('cancelled');

    h.fake.pushUpdate(textMessage(admin, '/retry nope'));
    await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Not found'));
    h.fake.pushUpdate(textMessage(admin, '/stats'));
    const stats = await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Provider: local'));
    expect(text(stats)).toMatch(/cancelled: 0/);
  });

  it('/stats lists the upstream sessions: state, since when, until when, last code — never a cookie', async () => {
    h = await startBotHarness(ENV, { provider: () => ({ ...idleProvider(), status: () => ({ sessions: SESSIONS }) }) });
    h.fake.pushUpdate(textMessage(admin, '/stats'));
    const stats = await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('Provider: idle'));
    expect(text(stats)).toContain('Upstream sessions:');
    expect(text(stats)).toContain(
      '• main account: cooling since 2026-11-30T10:00:00.000Z, until 2026-11-30T10:10:00.000Z (last code 710022004)',
    );
    expect(text(stats)).toContain('• session 1a2b3c4d: expired since 2026-11-30T09:00:00.000Z (last code 1011)');
    expect(text(stats)).not.toContain('sessionid');
  });
});

/** What a provider's status() shows of Doubao sessions (a cookie too, which must never reach a chat). */
const SESSIONS = [
  {
    id: 'aaaa',
    label: 'main account',
    state: 'cooling',
    since: '2026-11-30T10:00:00.000Z',
    until: '2026-11-30T10:10:00.000Z',
    lastCode: '710022004',
    cookie: 'sessionid=secret',
  },
  { id: '1a2b3c4d', label: 'session 1a2b3c4d', state: 'expired', since: '2026-11-30T09:00:00.000Z', lastCode: '1011' },
];
