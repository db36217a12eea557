/**
 * Who may use the Discord bot (DISCORD_ALLOWED_GUILDS, DISCORD_ALLOWED_USERS): in a server, the server or the user
 * must be listed; in a DM, the user; DISCORD_ADMIN_IDS always. Others get an ephemeral refusal in their language
 * and nothing is stored or generated. Both lists empty: everyone is served.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { snowflake } from '../fakes/discord/payloads.js';
import { type DiscordRig, startDiscordRig } from '../support/discord-harness.js';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const LISTED_USER = '300000000000000001';
const STRANGER = '300000000000000002';
const ADMIN = '300000000000000003';
const LISTED_GUILD = snowflake();

/** Sends `/video` and resolves with what the user was answered first: the accepted task, or a refusal. */
async function video(r: DiscordRig, userId: string, guildId: string | null | undefined, locale = 'en-US') {
  const sent = r.fake.slash({ name: 'video', options: { prompt: `a kite for ${userId}` }, userId, guildId, locale });
  // The first answer: the interaction's callback (the accepted task, answered directly, or a refusal) or, when the
  // bot deferred, the edit that brings the accepted task.
  const answer = await r.fake.waitFor(
    (q) =>
      q.path.includes(sent.token) &&
      ((q.method === 'POST' &&
        q.path.endsWith('/callback') &&
        (q.body?.data as { content?: string })?.content !== undefined) ||
        (q.method === 'PATCH' && /accepted|已接受/.test(String(q.body?.content)))),
  );
  const data = (answer.method === 'PATCH' ? answer.body : (answer.body?.data ?? {})) as {
    content?: string;
    flags?: number;
  };
  return /accepted|已接受/.test(String(data.content))
    ? { accepted: true }
    : { accepted: false, content: data.content, flags: data.flags };
}

describe('Discord allow-lists', () => {
  it('serves a listed server, a listed user anywhere and admins; refuses others in servers and DMs', async () => {
    rig = await startDiscordRig({
      env: {
        DISCORD_ALLOWED_GUILDS: LISTED_GUILD,
        DISCORD_ALLOWED_USERS: LISTED_USER,
        DISCORD_ADMIN_IDS: ADMIN,
        LOCAL_RENDER_S: '600',
      },
    });
    const fakeGuild = rig.fake.guildId; // not listed
    expect(await video(rig, LISTED_USER, fakeGuild)).toEqual({ accepted: true });
    expect(await video(rig, LISTED_USER, null)).toEqual({ accepted: true });
    expect(await video(rig, STRANGER, LISTED_GUILD)).toEqual({ accepted: true });
    expect(await video(rig, ADMIN, null)).toEqual({ accepted: true });

    const inServer = await video(rig, STRANGER, fakeGuild);
    expect(inServer).toEqual({
      accepted: false,
      content:
        'Sorry, this bot is private: it only works in the servers and for the people its owner has allowed. If you know the owner, ask them to add you.',
      flags: 64,
    });
    const inDm = await video(rig, STRANGER, null, 'zh-CN');
    expect(inDm).toMatchObject({ accepted: false, flags: 64 });
    expect(inDm.content).toMatch(/^抱歉，这是一个私人机器人/);

    // Four tasks: the stranger's only one is from the listed server.
    const owners = (await rig.core.service.list({})).tasks.map((t) => t.origin.userId);
    expect(owners.sort()).toEqual([LISTED_USER, LISTED_USER, STRANGER, ADMIN].sort());
  });

  it('with both lists empty, everyone is served', async () => {
    rig = await startDiscordRig({ env: { LOCAL_RENDER_S: '600' } });
    expect(await video(rig, STRANGER, null)).toEqual({ accepted: true });
  });
});
