// Delivering results when the easy path is closed: expired interaction tokens, forbidden channels, blocked DMs,
// files over the upload limit, and 429s from Discord's REST API.
import { afterEach, describe, expect, it } from 'vitest';
import type { LoggedRequest } from '../fakes/discord/index.js';
import { type DiscordRig, startDiscordRig, taskAnswer } from '../support/discord-harness.js';
import { isMp4 } from '../support/media-samples.js';
import { startRefusingServer } from '../support/refusing-server.js';
import { scriptedProvider } from '../support/scripted-provider.js';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const USER = '300000000000000001';

/** Sends /video and resolves once the bot has answered with the task id. */
async function askForVideo(r: DiscordRig, extra: { attachmentSizeLimit?: number } = {}) {
  const sent = r.fake.slash({ name: 'video', options: { prompt: 'waves on a beach' }, userId: USER, ...extra });
  const queued = await taskAnswer(r.fake, sent.token);
  const id = /`([^`]+)`/.exec(String(queued.body?.content))![1]!;
  return { ...sent, id };
}

const posted = (path: string) => (r: LoggedRequest) => r.method === 'POST' && r.path === path && r.status === 200;

describe('Discord delivery', () => {
  it('token expired before completion: progress and the MP4 still reach the channel with the bot token', async () => {
    rig = await startDiscordRig();
    const { fake, core } = rig;
    const { id, token } = await askForVideo(rig);
    fake.knobs.tokensExpired = true;
    const result = await fake.waitFor(posted(`/channels/${fake.channelId}/messages`), 25_000);
    expect(isMp4(result.files[0]!.bytes)).toBe(true);
    expect(String(result.body?.content)).toContain(`<@${USER}>`);
    const replyId = (await core.service.get(id)).origin.reply?.messageId;
    expect(result.body?.message_reference).toEqual({ message_id: replyId, fail_if_not_exists: false });
    expect(fake.messages.get(String(replyId))?.content).toMatch(/finished/);
    // The dead token was tried once and recorded, never hammered.
    const refused = fake.requests.filter((r) => r.path.includes(token) && r.status === 401);
    expect(refused.length).toBe(1);
    expect((await core.service.get(id)).origin.reply?.tokenExpiresAt).toBe(0);
    const logs = core.logs();
    expect(logs).not.toContain(fake.token);
    expect(logs).not.toContain(token);
  });

  it('channel forbidden (403/50013) after the token expired: the result goes by DM', async () => {
    rig = await startDiscordRig();
    const { fake } = rig;
    await askForVideo(rig);
    fake.knobs.tokensExpired = true;
    fake.knobs.forbiddenChannels.add(fake.channelId);
    await fake.waitFor((r) => r.method === 'POST' && r.path === '/users/@me/channels', 25_000);
    const dm = fake.dmChannel(USER)!;
    const result = await fake.waitFor(posted(`/channels/${dm}/messages`));
    expect(isMp4(result.files[0]!.bytes)).toBe(true);
  });

  it('channel hidden (50001) and DMs refused (50007): the link stays on the task and is logged', async () => {
    rig = await startDiscordRig();
    const { fake, core } = rig;
    const { id } = await askForVideo(rig);
    fake.knobs.tokensExpired = true;
    fake.knobs.hiddenChannels.add(fake.channelId);
    fake.knobs.dmBlocked = true;
    await expect.poll(async () => (await core.service.deliveries(id))[0]?.state, { timeout: 25_000 }).toBe('given_up');
    expect((await core.service.deliveries(id))[0]!.givenUpReason).toMatch(
      /^neither the channel nor a DM accepted the result/,
    );
    const task = await core.service.get(id);
    expect(task.deliveredAt).toBeNull();
    expect(task.origin.reply?.undeliveredLink).toBe(`https://videos.example.test/videos/${task.videoFile}`);
    expect(core.logs()).toContain('the link is kept on the task');
  });

  it('a video over the attachment size limit is sent as a link', async () => {
    rig = await startDiscordRig();
    const { fake, core } = rig;
    const { id, token } = await askForVideo(rig, { attachmentSizeLimit: 1000 });
    const result = await fake.waitFor(posted(`/webhooks/${fake.appId}/${token}`), 25_000);
    expect(result.files).toHaveLength(0);
    const task = await core.service.get(id);
    expect(String(result.body?.content)).toContain(`https://videos.example.test/videos/${task.videoFile}`);
  });

  it('#12.10 a video that could not be copied here is delivered as the upstream link, saying it may expire', async () => {
    const upstream = await startRefusingServer();
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'succeeded', videoUrls: [upstream.expiredUrl] });
    try {
      rig = await startDiscordRig({ provider: () => provider });
      const { fake } = rig;
      const { token } = await askForVideo(rig);
      const result = await fake.waitFor(posted(`/webhooks/${fake.appId}/${token}`), 25_000);
      expect(result.files).toHaveLength(0);
      expect(String(result.body?.content)).toContain(upstream.expiredUrl);
      expect(String(result.body?.content)).toContain('could not keep a copy');
    } finally {
      await upstream.close();
    }
  });

  it('an upload Discord refuses as too large (413/40005) falls back to the link', async () => {
    rig = await startDiscordRig();
    const { fake } = rig;
    fake.knobs.uploadLimitBytes = 1000;
    const { token } = await askForVideo(rig);
    const result = await fake.waitFor(posted(`/webhooks/${fake.appId}/${token}`), 25_000);
    expect(result.files).toHaveLength(0);
    expect(String(result.body?.content)).toContain('https://videos.example.test/videos/');
    expect(fake.requests.some((r) => r.status === 413)).toBe(true);
  });

  it('survives 429s from the REST API (retry_after honoured by @discordjs/rest)', async () => {
    rig = await startDiscordRig();
    const { fake } = rig;
    fake.knobs.rateLimit = { pattern: /^(POST|PATCH) \/webhooks\//, count: 3, retryAfterS: 0.2 };
    const { token } = await askForVideo(rig);
    const result = await fake.waitFor(posted(`/webhooks/${fake.appId}/${token}`), 25_000);
    expect(isMp4(result.files[0]!.bytes)).toBe(true);
    expect(fake.requests.filter((r) => r.status === 429).length).toBe(3);
  });
});
