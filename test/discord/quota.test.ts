/**
 * `/quota` for Discord admins (Manage Server or DISCORD_ADMIN_IDS, as the other admin commands): subcommands
 * through discord.js against the fake, limits kept by the core; `reset` really lets a user submit again; a
 * Chinese-speaking user over a limit is told why in Chinese only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PERMISSIONS } from '../fakes/discord/index.js';
import { user } from '../fakes/discord/payloads.js';
import { type DiscordRig, startDiscordRig } from '../support/discord-harness.js';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const USER = '310000000000000001';
const ADMIN = '310000000000000002';

/** Sends `/video` and resolves with the text the user was shown first (accepted, or the ephemeral refusal). */
async function video(r: DiscordRig, locale = 'en-US'): Promise<string> {
  const sent = r.fake.slash({ name: 'video', options: { prompt: 'a kite' }, userId: USER, locale });
  // The accepted task comes as the interaction's direct answer (or an edit, when the bot deferred); a refusal as the
  // ephemeral callback or follow-up.
  const answer = await r.fake.waitFor(
    (q) =>
      q.path.includes(sent.token) &&
      ((q.method === 'PATCH' && /`/.test(String(q.body?.content))) ||
        (q.method === 'POST' && q.path.endsWith('/callback') && typeof contentOf(q.body?.data) === 'string') ||
        (q.method === 'POST' && !q.path.endsWith('/callback') && q.body?.content !== undefined)),
  );
  return String(answer.path.endsWith('/callback') ? contentOf(answer.body?.data) : answer.body?.content);
}

const contentOf = (data: unknown) => (data as { content?: unknown } | undefined)?.content;

/** Runs `/quota <sub> user:<USER> …` as `by` and resolves with the (ephemeral) answer's text. */
async function quota(
  r: DiscordRig,
  sub: string,
  extra: { name: string; type: number; value: number }[] = [],
  by = ADMIN,
) {
  const sent = r.fake.slash({
    name: 'quota',
    userId: by,
    permissions: by === ADMIN ? ADMIN_PERMISSIONS : undefined,
    rawOptions: [{ name: sub, type: 1, options: [{ name: 'user', type: 6, value: USER }, ...extra] }],
    resolved: { users: { [USER]: user(USER) } },
  });
  const answer = await r.fake.waitFor(
    (q) =>
      q.path.includes(sent.token) &&
      ((q.method === 'PATCH' && q.body?.content !== undefined) ||
        (q.method === 'POST' && (q.body?.data as { content?: string } | undefined)?.content !== undefined)),
  );
  return String(answer.body?.content ?? (answer.body?.data as { content?: string } | undefined)?.content);
}

describe('/quota on Discord', () => {
  it('reset lets a user over the daily limit submit again; set and default change their limits', async () => {
    rig = await startDiscordRig({ env: { USER_DAILY_LIMIT: '1', USER_MAX_ACTIVE: '5', LOCAL_RENDER_S: '600' } });
    expect(await video(rig)).toMatch(/accepted/);
    expect(await video(rig)).toBe('Limit reached: you reached the limit of 1 videos in 24 hours; try again later.');
    expect(await quota(rig, 'reset')).toBe(
      `<@${USER}>: today’s count is reset; they may make 1 more videos in the next 24 hours.`,
    );
    expect(await video(rig)).toMatch(/accepted/);
    const daily = { name: 'daily', type: 4, value: 3 };
    expect(await quota(rig, 'set', [{ name: 'active', type: 4, value: 2 }, daily])).toBe(
      `<@${USER}>: at most 2 at once (2 now), 3 in 24 hours (1 used).`,
    );
    expect(await video(rig)).toBe(
      'Limit reached: you already have 2 videos in progress (the limit is 2); wait for one to finish.',
    );
    expect(await quota(rig, 'default')).toBe(
      `<@${USER}>: at most 5 at once (2 now), 1 in 24 hours (1 used) — the defaults.`,
    );
    expect(await quota(rig, 'show')).toContain('the defaults');
  });

  it('is refused to members without Manage Server', async () => {
    rig = await startDiscordRig();
    expect(
      await quota(
        rig,
        'set',
        [
          { name: 'active', type: 4, value: 50 },
          { name: 'daily', type: 4, value: 50 },
        ],
        USER,
      ),
    ).toBe('This command is for server managers only.');
    expect((await rig.core.service.userQuota('discord', USER)).custom).toBe(false);
  });

  it('a zh-CN user over the daily limit is told why in Chinese only', async () => {
    rig = await startDiscordRig({ env: { USER_DAILY_LIMIT: '1', LOCAL_RENDER_S: '600' } });
    expect(await video(rig, 'zh-CN')).toMatch(/已接受/);
    const refusal = await video(rig, 'zh-CN');
    expect(refusal).toBe('已达上限：你已达到 24 小时内 1 个视频的上限，请稍后再试。');
    expect(refusal).not.toMatch(/[A-Za-z]{2,}/);
  });
});
