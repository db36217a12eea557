// Admin alerts of provider incidents through the real Discord adapter and the fake Discord (issue 11 item 4): a DM
// per incident to every DISCORD_ADMIN_IDS user, exactly once, also when the bot was down between incident and send.
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderIncident } from '../../src/providers/provider.js';
import { type DiscordFake, startDiscordFake } from '../fakes/discord/index.js';
import { type DiscordRig, startDiscordRig } from '../support/discord-harness.js';
import { reportingProvider } from '../support/test-core.js';

let fake: DiscordFake | undefined;
const rigs: DiscordRig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
  await fake?.close();
  fake = undefined;
});

const ADMINS = ['400000000000000001', '400000000000000002'];
const env = { DISCORD_ADMIN_IDS: ADMINS.join(','), DEFAULT_LOCALE: 'zh' };
const limited: ProviderIncident = {
  provider: 'doubao',
  subject: 'spare account',
  kind: 'rate_limited',
  code: '2005',
  message: 'Doubao asks this session to slow down.',
  action: 'wait, or add another session with `npm run session`.',
};

const dmsTo = (f: DiscordFake, userId: string) =>
  f.requests.filter(
    (r) => r.method === 'POST' && r.path === `/channels/${f.dmChannel(userId)}/messages` && r.status === 200,
  );

describe('admin alerts on Discord', () => {
  it('#11.4 an incident reaches every admin by DM exactly once, also across a restart between incident and send', async () => {
    fake = await startDiscordFake();
    const { provider, report } = reportingProvider();
    const first = await startDiscordRig({ fake, env, provider, keepData: true });
    await first.bot.stop(); // the bot goes down before the alert could go out
    report(limited);
    await first.core.dispose();
    expect(fake.requests.filter((r) => r.path === '/users/@me/channels')).toHaveLength(0);

    const second = await startDiscordRig({ fake, env, provider, dataDir: first.core.dataDir, keepData: true });
    rigs.push(second);
    await expect.poll(() => ADMINS.map((id) => dmsTo(fake!, id).length), { timeout: 10_000 }).toEqual([1, 1]);
    await rigs.pop()!.close();
    rigs.push(await startDiscordRig({ fake, env, provider, dataDir: first.core.dataDir }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const id of ADMINS) {
      const [dm, ...more] = dmsTo(fake, id);
      expect(more).toHaveLength(0);
      expect(dm!.body?.content).toBe(
        [
          '⚠️ **doubao · spare account**：被限流（代码 `2005`）。',
          '发生了什么：Doubao asks this session to slow down.',
          '怎么办：wait, or add another session with `npm run session`.',
        ].join('\n'),
      );
      expect(dm!.body?.allowed_mentions).toEqual({ parse: [] });
    }
  });

  it('#11.4 an admin whose DMs are closed is given up with the reason, not retried', async () => {
    const { provider, report } = reportingProvider();
    const rig = await startDiscordRig({ env, provider });
    rigs.push(rig);
    rig.fake.knobs.dmBlocked = true;
    report(limited);
    await expect
      .poll(async () => (await rig.core.store.deliveries({ incidentId: 1 })).map((d) => d.state), { timeout: 10_000 })
      .toEqual(['given_up', 'given_up']);
    expect((await rig.core.store.deliveries({ incidentId: 1 }))[0]!.givenUpReason).toMatch(
      /^Discord refused a DM to admin 4000+1: Cannot send messages to this user/,
    );
  });
});
