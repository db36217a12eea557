/**
 * Odd input through the fake Discord: a 5 000-character prompt, emoji-only and right-to-left prompts, and `/task`
 * ids that look like SQL injection or path traversal. Clear replies; accepted prompts stored exactly; nothing
 * else stored or changed.
 */
import { afterEach, expect, it } from 'vitest';
import { ADMIN_PERMISSIONS, type DiscordFake } from '../fakes/discord/index.js';
import { type DiscordRig, startDiscordRig } from '../support/discord-harness.js';
import { idleProvider } from '../support/idle-provider.js';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** The first text the bot showed for an interaction: an edit of the deferred reply or a follow-up. */
async function answer(fake: DiscordFake, token: string): Promise<string> {
  const contentOf = (body: Record<string, unknown> | null | undefined) =>
    body?.content ?? (body?.data as { content?: unknown } | undefined)?.content;
  const reply = await fake.waitFor(
    (r) =>
      r.path.includes(token) &&
      ((r.method === 'PATCH' && r.path.endsWith('/messages/@original')) || r.method === 'POST') &&
      typeof contentOf(r.body) === 'string',
  );
  return String(contentOf(reply.body));
}

it('answers odd prompts clearly and stores accepted ones exactly', async () => {
  rig = await startDiscordRig({ provider: idleProvider, env: { USER_MAX_ACTIVE: '10' } });
  const { fake, core } = rig;
  const long = fake.slash({ name: 'video', options: { prompt: '长'.repeat(5_000) } });
  const refusal = await answer(fake, long.token);
  expect(refusal).toMatch(/5000 characters; the limit is 2000/);
  expect(refusal).not.toMatch(/\[object |\n\s+at |undefined/);
  expect((await core.service.list({})).total).toBe(0);

  const odd = ['🎬🐱🌅🔥', 'قطة تركب الأمواج عند الغروب', '\u202eevil\u202c cat', '@everyone <@&1> `code`'];
  for (const prompt of odd) {
    const sent = fake.slash({ name: 'video', options: { prompt } });
    expect(await answer(fake, sent.token)).toMatch(/accepted/);
  }
  expect((await core.service.list({})).tasks.map((t) => t.prompt).sort()).toEqual([...odd].sort());
});

it('treats injection-looking /task ids as plain text: "No such task.", nothing changed', async () => {
  rig = await startDiscordRig({ provider: idleProvider });
  const { fake, core } = rig;
  const task = await core.service.submit({ prompt: 'a calm lake', origin: { platform: 'discord', userId: '5' } });
  for (const id of ["' OR 1=1 --", '../../etc/passwd', `${task.id}%`, '%', '"; DROP TABLE tasks; --']) {
    const sent = fake.slash({ name: 'task', options: { id }, permissions: ADMIN_PERMISSIONS });
    expect(await answer(fake, sent.token), id).toBe('No such task.');
  }
  expect(await core.service.get(task.id)).toMatchObject({ status: 'pending', prompt: 'a calm lake' });
  expect((await core.service.list({})).total).toBe(1);
  expect(await core.store.integrityCheck()).toBe('ok');
});
