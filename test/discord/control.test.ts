/**
 * Issue 15 on Discord: Again beside Retry (owner only), `/queue` with the asker's place and wait, live queue
 * positions in the `/video` reply, the direct answer that does not wait for the upstream, and the acknowledgement
 * first when the bot is behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordFake, LoggedRequest } from '../fakes/discord/index.js';
import { type DiscordRig, startDiscordRig, taskAnswer } from '../support/discord-harness.js';
import { idleProvider } from '../support/idle-provider.js';
import { scriptedProvider } from '../support/scripted-provider.js';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const OWNER = '410000000000000001';
const OTHER = '410000000000000002';

const callbackOf = (f: DiscordFake, token: string) =>
  f.waitFor((r) => r.method === 'POST' && r.path.includes(`/${token}/callback`));
const buttonIds = (components: unknown) =>
  ((components ?? []) as { components?: { custom_id?: string }[] }[]).flatMap((row) =>
    (row.components ?? []).map((b) => b.custom_id),
  );
const contentOf = (r: LoggedRequest) => String(r.body?.content ?? '');

async function askForVideo(r: DiscordRig, prompt: string, userId = OWNER) {
  const sent = r.fake.slash({ name: 'video', options: { prompt }, userId });
  const answer = await taskAnswer(r.fake, sent.token);
  const id = /`([^`]+)`/.exec(String(answer.body?.content))![1]!;
  return { ...sent, id, answer, messageId: r.fake.original(sent.token)!.id };
}

describe('Discord control and live queue', () => {
  it('a cancelled task keeps Retry and Again; Again is the owner’s and makes a new task with the same prompt', async () => {
    rig = await startDiscordRig({ provider: idleProvider });
    const { fake, core } = rig;
    const { id, messageId } = await askForVideo(rig, 'a paper boat on a stream');
    await core.service.cancel(id, { admin: true });
    await expect
      .poll(() => buttonIds(fake.messages.get(messageId)?.components))
      .toEqual([`retry:${id}`, `again:${id}`]);

    const stranger = fake.click(`again:${id}`, messageId, OTHER);
    expect((await callbackOf(fake, stranger.token)).body).toMatchObject({
      type: 4,
      data: { flags: 64, content: 'Only the person who asked for this video can do that.' },
    });
    expect((await core.service.list({})).total).toBe(1);

    const owner = fake.click(`again:${id}`, messageId, OWNER);
    const answer = await taskAnswer(fake, owner.token, /Same prompt again/);
    const newId = /task `([^`]+)`/.exec(contentOf(answer))![1]!;
    expect(newId).not.toBe(id);
    expect(await core.service.get(newId)).toMatchObject({ prompt: 'a paper boat on a stream', status: 'pending' });
    expect((await core.service.get(newId)).origin).toMatchObject({ platform: 'discord', userId: OWNER });
    expect(buttonIds(answer.body?.components)).toEqual([`cancel:${newId}`]);
  });

  it('/queue shows how many videos wait and the asker’s own place, ephemerally', async () => {
    rig = await startDiscordRig({ provider: idleProvider, env: { USER_MAX_ACTIVE: '5' } });
    const { fake, core } = rig;
    for (const userId of ['7', '8']) {
      await core.service.submit({ prompt: `someone else's ${userId}`, origin: { platform: 'discord', userId } });
      await new Promise((r) => setTimeout(r, 5));
    }
    const mine = await askForVideo(rig, 'my own video');
    const sent = fake.slash({ name: 'queue', userId: OWNER });
    const reply = await callbackOf(fake, sent.token);
    const data = reply.body?.data as { flags: number; embeds: { description: string }[] };
    expect(data.flags).toBe(64);
    expect(data.embeds[0]!.description).toContain('3 videos in the queue.');
    expect(data.embeds[0]!.description).toContain(`\`${mine.id}\``);
    expect(data.embeds[0]!.description).toMatch(/being made · estimating the wait…|2 ahead of you/);

    const empty = fake.slash({ name: 'queue', userId: OTHER });
    const none = (await callbackOf(fake, empty.token)).body?.data as { embeds: { description: string }[] };
    expect(none.embeds[0]!.description).toContain('You have no video in the queue.');
  });

  it('a waiting task’s reply gets its new place when the task ahead finishes, and only then', async () => {
    const provider = scriptedProvider({ maxRunning: 1 });
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] });
    rig = await startDiscordRig({ provider: () => provider });
    const asked = [];
    for (const [i, user] of ['420000000000000001', '420000000000000002', '420000000000000003'].entries()) {
      asked.push(await askForVideo(rig, `scene ${i}`, user));
      await new Promise((r) => setTimeout(r, 5));
    }
    const third = asked[2]!;
    expect(contentOf(third.answer)).toMatch(/2 ahead of you · estimating the wait…/);
    const moved = await rig.fake.waitFor(
      (r) => r.method === 'PATCH' && r.path.includes(third.token) && /is waiting/.test(contentOf(r)),
      20_000,
    );
    expect(contentOf(moved)).toMatch(/1 ahead of you · ready in (under a minute|about \d+ min)\./);
    expect(buttonIds(moved.body?.components)).toEqual([`cancel:${third.id}`]);
    await new Promise((r) => setTimeout(r, 2_000));
    const edits = rig.fake.requests.filter((r) => r.method === 'PATCH' && r.path.includes(third.token));
    expect(edits).toHaveLength(1);
  });

  it('an interaction reaching the bot late (a backlog) is acknowledged first, then answered by an edit', async () => {
    rig = await startDiscordRig({ provider: idleProvider });
    // Created 1.5 s ago: the bot is behind, so it does not spend the rest of Discord's 3 s before acknowledging.
    const sent = rig.fake.slash({ name: 'video', options: { prompt: 'late' }, userId: OWNER, createdAgoMs: 1_500 });
    const ack = await callbackOf(rig.fake, sent.token);
    expect(ack.body?.type).toBe(5);
    const answer = await taskAnswer(rig.fake, sent.token);
    expect(answer.method).toBe('PATCH');
    const id = /`([^`]+)`/.exec(contentOf(answer))![1]!;
    expect((await rig.core.service.get(id)).origin.reply?.messageId).toBe(rig.fake.original(sent.token)!.id);
  });

  it('a text-only /video answers without waiting for a slow upstream start', async () => {
    const provider = scriptedProvider();
    provider.delays.startMs = 2_500;
    rig = await startDiscordRig({ provider: () => provider });
    const sent = rig.fake.slash({ name: 'video', options: { prompt: 'slow upstream' }, userId: OWNER });
    const ack = await callbackOf(rig.fake, sent.token);
    expect(ack.body?.type).toBe(4);
    expect(ack.at - sent.sentAt).toBeLessThan(2_000);
  });
});
