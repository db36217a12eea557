// Delivery across a restart: a task that completes while the bot is down is delivered exactly once when it
// comes back (by webhook while the stored interaction token lives, by channel message after).
import { afterEach, describe, expect, it } from 'vitest';
import { type DiscordFake, startDiscordFake } from '../fakes/discord/index.js';
import { type DiscordRig, startDiscordRig, taskAnswer } from '../support/discord-harness.js';
import { isMp4 } from '../support/media-samples.js';

let fake: DiscordFake | undefined;
const rigs: DiscordRig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
  await fake?.close();
  fake = undefined;
});

async function completeWhileDown(f: DiscordFake) {
  const first = await startDiscordRig({ fake: f, keepData: true });
  const sent = f.slash({ name: 'video', options: { prompt: 'rain on a window' }, userId: '500000000000000001' });
  await taskAnswer(f, sent.token);
  const [task] = (await first.core.service.list({ platform: 'discord' })).tasks;
  await first.bot.stop(); // the bot goes down; the core keeps working
  await expect.poll(async () => (await first.core.service.get(task!.id)).status, { timeout: 20_000 }).toBe('completed');
  expect((await first.core.service.get(task!.id)).deliveredAt).toBeNull();
  await first.core.dispose();
  return { dataDir: first.core.dataDir, id: task!.id, token: sent.token };
}

const uploads = (f: DiscordFake) =>
  f.requests.filter((r) => r.method === 'POST' && r.files.length > 0 && r.status === 200);

describe('restart between completion and delivery', () => {
  it('delivers exactly once through the stored interaction token', async () => {
    fake = await startDiscordFake();
    const { dataDir, id, token } = await completeWhileDown(fake);
    expect(uploads(fake)).toHaveLength(0);

    const second = await startDiscordRig({ fake, dataDir, keepData: true });
    rigs.push(second);
    await expect.poll(async () => (await second.core.service.get(id)).deliveredAt, { timeout: 10_000 }).not.toBeNull();
    await rigs.pop()!.close();

    rigs.push(await startDiscordRig({ fake, dataDir }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = uploads(fake);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe(`/webhooks/${fake.appId}/${token}`);
    expect(isMp4(sent[0]!.files[0]!.bytes)).toBe(true);
  });

  it('uses the channel when the stored token has expired meanwhile', async () => {
    fake = await startDiscordFake();
    const { dataDir, id } = await completeWhileDown(fake);
    fake.knobs.tokensExpired = true;
    const second = await startDiscordRig({ fake, dataDir });
    rigs.push(second);
    await expect.poll(async () => (await second.core.service.get(id)).deliveredAt, { timeout: 10_000 }).not.toBeNull();
    const sent = uploads(fake);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe(`/channels/${fake.channelId}/messages`);
  });
});
