// The owner's buttons: Cancel on the progress message, Retry on a failure; anyone else is refused.
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordFake } from '../fakes/discord/index.js';
import { type DiscordRig, firstButtonId, startDiscordRig, taskAnswer } from '../support/discord-harness.js';
import { idleProvider } from '../support/idle-provider.js';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const OWNER = '400000000000000001';
const OTHER = '400000000000000002';

const callbackOf = (f: DiscordFake, token: string) =>
  f.waitFor((r) => r.method === 'POST' && r.path.includes(`/${token}/callback`));

async function askForVideo(r: DiscordRig) {
  const sent = r.fake.slash({ name: 'video', options: { prompt: 'a lighthouse at night' }, userId: OWNER });
  const queued = await taskAnswer(r.fake, sent.token);
  return { ...sent, queued, messageId: r.fake.original(sent.token)!.id };
}

describe('task buttons', () => {
  it('Cancel by the owner cancels the task and the progress message says so', async () => {
    rig = await startDiscordRig({ provider: idleProvider });
    const { fake, core } = rig;
    const { queued, messageId } = await askForVideo(rig);
    const customId = firstButtonId(queued.body?.components)!;
    const click = fake.click(customId, messageId, OWNER);
    const ack = await callbackOf(fake, click.token);
    expect(ack.body).toMatchObject({ type: 5, data: { flags: 64 } });
    const id = customId.split(':')[1]!;
    await expect.poll(async () => (await core.service.get(id)).status).toBe('cancelled');
    await expect.poll(() => fake.messages.get(messageId)?.content).toMatch(/was cancelled/);
  });

  it('Cancel by someone else is refused and the task goes on', async () => {
    rig = await startDiscordRig({ provider: idleProvider });
    const { fake, core } = rig;
    const { queued, messageId } = await askForVideo(rig);
    const customId = firstButtonId(queued.body?.components)!;
    const click = fake.click(customId, messageId, OTHER);
    const refusal = await callbackOf(fake, click.token);
    expect(refusal.body).toMatchObject({
      type: 4,
      data: { flags: 64, content: 'Only the person who asked for this video can do that.' },
    });
    expect((await core.service.get(customId.split(':')[1]!)).status).not.toBe('cancelled');
  });

  it('a failure is explained with a Retry button that only the owner can use', async () => {
    rig = await startDiscordRig({ env: { MAX_ATTEMPTS: '1', LOCAL_RENDER_S: '30' } });
    const { fake, core } = rig;
    const { token } = await askForVideo(rig);
    const failure = await fake.waitFor(
      (r) =>
        r.method === 'POST' && r.path === `/webhooks/${fake.appId}/${token}` && /failed/.test(String(r.body?.content)),
      25_000,
    );
    expect(String(failure.body?.content)).toMatch(new RegExp(`<@${OWNER}> task .* failed: .+`));
    const retryId = firstButtonId(failure.body?.components)!;
    expect(retryId).toMatch(/^retry:/);
    const id = retryId.split(':')[1]!;
    const failureMessage = [...fake.messages.values()].find((m) => m.content === failure.body?.content)!;

    const stranger = fake.click(retryId, failureMessage.id, OTHER);
    expect((await callbackOf(fake, stranger.token)).body).toMatchObject({ data: { flags: 64 } });
    expect((await core.service.get(id)).status).toBe('failed');

    const owner = fake.click(retryId, failureMessage.id, OWNER);
    await fake.waitFor(
      (r) => r.method === 'PATCH' && r.path.includes(owner.token) && /queued again/.test(String(r.body?.content)),
    );
    expect(['pending', 'processing']).toContain((await core.service.get(id)).status);
  });
});
