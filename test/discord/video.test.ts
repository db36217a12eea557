// /video end to end: a real discord.js client against the fake Discord, a real core rendering real MP4s.
import { afterEach, describe, expect, it } from 'vitest';
import { type DiscordRig, startDiscordRig, taskAnswer } from '../support/discord-harness.js';
import { isMp4, sampleImage } from '../support/media-samples.js';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const isCallback = (token: string) => (r: { method: string; path: string }) =>
  r.method === 'POST' && r.path.includes(`/${token}/callback`);

describe('/video', () => {
  it('connects: IDENTIFY with the bot token and Guilds intent, then READY', async () => {
    rig = await startDiscordRig();
    const identify = rig.fake.gatewayOps.find((o) => o.op === 2)?.d as { token: string; intents: number };
    expect(identify.token).toBe(rig.fake.token);
    expect(identify.intents).toBe(1);
    expect(rig.bot.client.isReady()).toBe(true);
  });

  it('text only: answered within 3 s with id, position and estimate (no defer), then the MP4 is uploaded', async () => {
    rig = await startDiscordRig();
    const { fake, core } = rig;
    const sent = fake.slash({
      name: 'video',
      options: { prompt: 'a red fox in the snow' },
      userId: '200000000000000001',
    });
    const answer = await fake.waitFor(isCallback(sent.token));
    // Issue 15: the acknowledgement itself carries the task (type 4), so the id shows without a follow-up edit.
    expect(answer.body?.type).toBe(4);
    expect(answer.at - sent.sentAt).toBeLessThan(3000);

    const queued = await taskAnswer(fake, sent.token);
    expect(queued.at).toBe(answer.at);
    const id = /`([^`]+)`/.exec(String(queued.body?.content))![1]!;
    expect(String(queued.body?.content)).toMatch(/next in line|ahead of you/);
    expect(String(queued.body?.content)).toMatch(/estimating the wait/);
    // The reply's message id is kept for edits once the interaction token has expired.
    await expect
      .poll(async () => (await core.service.get(id)).origin.reply?.messageId)
      .toBe(fake.original(sent.token)!.id);
    expect(JSON.stringify(queued.body?.components)).toContain(`cancel:${id}`);

    const result = await fake.waitFor((r) => r.method === 'POST' && r.files.length > 0, 25_000);
    expect(result.path).toBe(`/webhooks/${fake.appId}/${sent.token}`);
    expect(String(result.body?.content)).toContain('<@200000000000000001>');
    expect(result.body?.allowed_mentions).toEqual({ users: ['200000000000000001'] });
    expect(isMp4(result.files[0]!.bytes)).toBe(true);
    expect((await core.service.get(id)).status).toBe('completed');
    await expect.poll(async () => (await core.service.get(id)).deliveredAt).not.toBeNull();
  });

  it('with an image from the CDN: downloads it and makes an image-to-video task', async () => {
    rig = await startDiscordRig();
    const { fake, core } = rig;
    const image = fake.addAttachment(sampleImage('png'), 'cat.png', 'image/png');
    const sent = fake.slash({ name: 'video', options: { prompt: 'the cat waves' }, image });
    const defer = await fake.waitFor(isCallback(sent.token));
    expect(defer.at - sent.sentAt).toBeLessThan(3000);
    const result = await fake.waitFor((r) => r.method === 'POST' && r.files.length > 0, 25_000);
    expect(isMp4(result.files[0]!.bytes)).toBe(true);
    const [task] = (await core.service.list({ platform: 'discord' })).tasks;
    expect(task?.kind).toBe('i2v');
    expect(task?.origin.reply).toMatchObject({
      appId: fake.appId,
      channelId: fake.channelId,
      sizeLimit: 10 * 1024 * 1024,
      lang: 'en',
    });
  });

  it('refuses a non-image attachment or one over the limit with a clear ephemeral reply, before any download', async () => {
    rig = await startDiscordRig({ env: { MAX_IMAGE_BYTES: '1000' } });
    const { fake, core } = rig;
    const pdf = fake.addAttachment(Buffer.from('%PDF-1.4'), 'a.pdf', 'application/pdf');
    const a = fake.slash({ name: 'video', options: { prompt: 'x' }, image: pdf });
    const refusal = await fake.waitFor(isCallback(a.token));
    const contentOf = (r: typeof refusal) => String((r.body?.data as { content?: string } | undefined)?.content);
    expect(refusal.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(contentOf(refusal)).toMatch(/not an image/);

    const big = fake.addAttachment(sampleImage('png'), 'big.png', 'image/png');
    const b = fake.slash({ name: 'video', options: { prompt: 'x' }, image: big });
    const tooBig = await fake.waitFor(isCallback(b.token));
    expect(contentOf(tooBig)).toMatch(/larger than the 1000 bytes limit/);
    expect(fake.requests.some((r) => r.path.startsWith('/cdn'))).toBe(false);
    expect((await core.service.list({})).total).toBe(0);
  });

  it('an attachment whose bytes are not an image gets an ephemeral error after the deferral', async () => {
    rig = await startDiscordRig();
    const { fake } = rig;
    const fakePng = fake.addAttachment(Buffer.from('not really a png at all'), 'x.png', 'image/png');
    const sent = fake.slash({ name: 'video', options: { prompt: 'x' }, image: fakePng });
    const followUp = await fake.waitFor(
      (r) => r.method === 'POST' && r.path === `/webhooks/${fake.appId}/${sent.token}`,
    );
    expect(followUp.body).toMatchObject({ flags: 64 });
    expect(String(followUp.body?.content)).toMatch(/not an image/);
    expect(fake.requests.some((r) => r.method === 'DELETE' && r.path.includes(sent.token))).toBe(true);
  });
});
