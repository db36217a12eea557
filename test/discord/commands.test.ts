// Command registration and the admin commands: payload shape, guild vs global scope, and permission checks in
// the handlers (a non-admin is refused even when a server admin made the command visible to everyone).
import { REST } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { registerCommands } from '../../adapters/discord/index.js';
import { ADMIN_PERMISSIONS, type DiscordFake, startDiscordFake } from '../fakes/discord/index.js';
import { type DiscordRig, runRegisterScript, startDiscordRig } from '../support/discord-harness.js';
import { idleProvider } from '../support/idle-provider.js';

let rig: DiscordRig | undefined;
let fake: DiscordFake | undefined;
afterEach(async () => {
  await rig?.close();
  await fake?.close();
  rig = undefined;
  fake = undefined;
});

const callbackOf = (f: DiscordFake, token: string) =>
  f.waitFor((r) => r.method === 'POST' && r.path.includes(`/${token}/callback`));
const editOf = (f: DiscordFake, token: string) =>
  f.waitFor((r) => r.method === 'PATCH' && r.path.includes(`/${token}/messages/@original`));

describe('command registration', () => {
  it('PUTs every command in the guild, with options and Manage Server on the admin commands', async () => {
    fake = await startDiscordFake();
    const rest = new REST({ api: fake.apiBase }).setToken(fake.token);
    expect(await registerCommands(rest, fake.appId, fake.guildId)).toBe(7);
    const put = fake.requests.find((r) => r.method === 'PUT')!;
    expect(put.path).toBe(`/applications/${fake.appId}/guilds/${fake.guildId}/commands`);
    const body = put.body as unknown as {
      name: string;
      options?: { name: string; type: number; required?: boolean }[];
      default_member_permissions?: string | null;
    }[];
    expect(body.map((c) => c.name)).toEqual(['video', 'mytasks', 'queue', 'tasks', 'task', 'stats', 'quota']);
    expect(body[0]?.options).toMatchObject([
      { name: 'prompt', type: 3, required: true },
      { name: 'image', type: 11 },
    ]);
    for (const admin of body.slice(3)) expect(admin.default_member_permissions).toBe('32');
    for (const open of body.slice(0, 3)) expect(open.default_member_permissions ?? null).toBeNull();
  });

  it('npm run discord:register registers globally without DISCORD_GUILD_ID', async () => {
    fake = await startDiscordFake();
    const stdout = await runRegisterScript(fake);
    expect(stdout).toContain('registered 7 commands globally');
    expect(fake.requests.find((r) => r.method === 'PUT')?.path).toBe(`/applications/${fake.appId}/commands`);
  });
});

describe('admin commands', () => {
  it('a member without Manage Server is refused /tasks, /task and /stats even though the command reached the bot', async () => {
    rig = await startDiscordRig();
    for (const name of ['tasks', 'task', 'stats']) {
      const sent = rig.fake.slash({ name, options: name === 'task' ? { id: 'abc' } : {} });
      const reply = await callbackOf(rig.fake, sent.token);
      expect(reply.body).toMatchObject({
        type: 4,
        data: { flags: 64, content: 'This command is for server managers only.' },
      });
    }
  });

  it('Manage Server sees /tasks paged, /task with admin buttons and /stats', async () => {
    rig = await startDiscordRig({ provider: idleProvider, env: { USER_MAX_ACTIVE: '20' } });
    const { fake, core } = rig;
    for (let i = 0; i < 12; i++) {
      await core.service.submit({ prompt: `clip ${i}`, origin: { platform: 'discord', userId: '5' } });
    }
    const list = fake.slash({ name: 'tasks', permissions: ADMIN_PERMISSIONS });
    const page1 = await editOf(fake, list.token);
    const embed = (page1.body!.embeds as { description: string; footer: { text: string } }[])[0]!;
    expect(embed.footer.text).toBe('1–10 of 12');
    expect(embed.description.split('\n')).toHaveLength(10);
    const next = JSON.stringify(page1.body?.components);
    expect(next).toContain('tasks:10:-:-');

    const original = fake.original(list.token)!;
    const click = fake.click('tasks:10:-:-', original.id, '100000000000000001', { permissions: ADMIN_PERMISSIONS });
    const update = await callbackOf(fake, click.token);
    expect(update.body).toMatchObject({ type: 7 });
    expect(JSON.stringify(update.body)).toContain('11–12 of 12');

    const id = (await core.service.list({})).tasks[0]!.id;
    const detail = fake.slash({ name: 'task', options: { id }, permissions: ADMIN_PERMISSIONS });
    const shown = await editOf(fake, detail.token);
    expect(JSON.stringify(shown.body?.components)).toContain(`admin-cancel:${id}`);

    const stats = fake.slash({ name: 'stats', permissions: ADMIN_PERMISSIONS });
    const counts = await editOf(fake, stats.token);
    const fields = (counts.body!.embeds as { fields: { name: string; value: string }[] }[])[0]!.fields;
    expect(fields.find((f) => f.name === 'Provider')?.value).toBe('idle');
    const active = fields.filter((f) => f.name === 'waiting' || f.name === 'generating');
    expect(active.reduce((n, f) => n + Number(f.value), 0)).toBe(12);
  });

  it('/stats shows the upstream sessions, never a cookie', async () => {
    const sessions = [
      {
        id: 'a',
        label: 'main account',
        state: 'paused',
        since: '2026-11-30T10:00:00.000Z',
        lastCode: '710022002',
        cookie: 'sessionid=x',
      },
    ];
    rig = await startDiscordRig({ provider: () => ({ ...idleProvider(), status: () => ({ sessions }) }) });
    const stats = rig.fake.slash({ name: 'stats', permissions: ADMIN_PERMISSIONS });
    const shown = await editOf(rig.fake, stats.token);
    const fields = (shown.body!.embeds as { fields: { name: string; value: string }[] }[])[0]!.fields;
    expect(fields.find((f) => f.name === 'Upstream sessions')?.value).toBe(
      'main account: paused since 2026-11-30T10:00:00.000Z (last code 710022002)',
    );
    expect(JSON.stringify(shown.body)).not.toContain('sessionid');
  });

  it('DISCORD_ADMIN_IDS grants the admin commands without Manage Server; admin Cancel works on any task', async () => {
    rig = await startDiscordRig({ provider: idleProvider, env: { DISCORD_ADMIN_IDS: '700000000000000007' } });
    const { fake, core } = rig;
    const task = await core.service.submit({ prompt: 'p', origin: { platform: 'discord', userId: '5' } });
    const detail = fake.slash({ name: 'task', options: { id: task.id }, userId: '700000000000000007' });
    await editOf(fake, detail.token);
    const click = fake.click(`admin-cancel:${task.id}`, fake.original(detail.token)!.id, '700000000000000007');
    await editOf(fake, click.token);
    expect((await core.service.get(task.id)).status).toBe('cancelled');
    const stranger = fake.click(`admin-retry:${task.id}`, fake.original(detail.token)!.id, '800000000000000008');
    expect((await callbackOf(fake, stranger.token)).body).toMatchObject({
      data: { flags: 64, content: 'This command is for server managers only.' },
    });
    expect((await core.service.get(task.id)).status).toBe('cancelled');
  });

  it('/task with an unknown id says so ephemerally', async () => {
    rig = await startDiscordRig();
    const sent = rig.fake.slash({ name: 'task', options: { id: 'nope' }, permissions: ADMIN_PERMISSIONS });
    const edit = await editOf(rig.fake, sent.token);
    expect(edit.body?.content).toBe('No such task.');
  });
});
