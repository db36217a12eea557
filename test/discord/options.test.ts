/**
 * #15 in Discord: `/video` registered with `ratio` and `duration` choices (and `resolution` for Ark) — only what
 * the configured provider honours — and the picked options reaching the task and the provider; through
 * discord.js against the fake Discord with a real core.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REST } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { registerCommands } from '../../adapters/discord/index.js';
import { ARK_CAPABILITIES } from '../../src/providers/ark/index.js';
import { LOCAL_CAPABILITIES } from '../../src/providers/local/index.js';
import { type ArkFake, startArkFake } from '../fakes/ark/index.js';
import { type DiscordFake, startDiscordFake } from '../fakes/discord/index.js';
import { arkEnv, arkProvider } from '../support/ark-setup.js';
import { type DiscordRig, runRegisterScript, startDiscordRig, taskAnswer } from '../support/discord-harness.js';
import { waitFor } from '../support/test-core.js';
import { probeVideo } from '../support/video-probe.js';

let rig: DiscordRig | undefined;
let fake: DiscordFake | undefined;
let ark: ArkFake | undefined;
afterEach(async () => {
  await rig?.close();
  await fake?.close();
  await ark?.close();
  rig = undefined;
  fake = undefined;
  ark = undefined;
});

interface CommandJson {
  name: string;
  options?: { name: string; type: number; choices?: { name: string; value: string | number }[] }[];
}
const videoOf = (f: DiscordFake) =>
  (f.requests.find((r) => r.method === 'PUT')!.body as unknown as CommandJson[]).find((c) => c.name === 'video')!;

describe('#15 /video registration', () => {
  it('offers the local provider ratio and duration choices, and no resolution', async () => {
    fake = await startDiscordFake();
    const rest = new REST({ api: fake.apiBase }).setToken(fake.token);
    await registerCommands(rest, fake.appId, fake.guildId, LOCAL_CAPABILITIES);
    const video = videoOf(fake);
    expect(video.options?.map((o) => [o.name, o.type])).toEqual([
      ['prompt', 3],
      ['image', 11],
      ['ratio', 3],
      ['duration', 4],
    ]);
    expect(video.options?.[2]?.choices?.map((c) => c.value)).toEqual(['16:9', '9:16', '1:1', '4:3', '3:4', '21:9']);
    expect(video.options?.[2]?.choices?.[1]).toMatchObject({ name: '9:16 portrait (phones)', value: '9:16' });
    expect(video.options?.[3]?.choices).toMatchObject([
      { name: '5 s', value: 5 },
      { name: '10 s', value: 10 },
    ]);
  });

  it('adds resolution for Ark', async () => {
    fake = await startDiscordFake();
    const rest = new REST({ api: fake.apiBase }).setToken(fake.token);
    await registerCommands(rest, fake.appId, fake.guildId, ARK_CAPABILITIES);
    const resolution = videoOf(fake).options?.find((o) => o.name === 'resolution');
    expect(resolution?.choices?.map((c) => c.value)).toEqual(['480p', '720p', '1080p']);
  });

  it('npm run discord:register offers what PROVIDER honours (ark: resolution too)', async () => {
    fake = await startDiscordFake();
    await runRegisterScript(fake, { PROVIDER: 'ark', ARK_API_KEY: 'not-used-for-registration' });
    expect(videoOf(fake).options?.map((o) => o.name)).toEqual(['prompt', 'image', 'ratio', 'duration', 'resolution']);
  });
});

describe('#15 /video with options', () => {
  it('ratio 9:16: the task carries it and the uploaded MP4 is 720×1280', async () => {
    rig = await startDiscordRig();
    const sent = rig.fake.slash({ name: 'video', options: { prompt: 'a tall lighthouse', ratio: '9:16' } });
    const result = await rig.fake.waitFor(
      (r) => r.method === 'POST' && r.path.includes(sent.token) && r.files.length > 0,
      110_000,
    );
    const [task] = (await rig.core.service.list({ platform: 'discord' })).tasks;
    expect(task).toMatchObject({ prompt: 'a tall lighthouse', options: { ratio: '9:16' } });
    const dir = mkdtempSync(join(tmpdir(), 'dvb-discord-options-'));
    try {
      writeFileSync(join(dir, 'v.mp4'), result.files[0]!.bytes);
      expect(await probeVideo(join(dir, 'v.mp4'))).toMatchObject({ width: 720, height: 1280 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('with Ark: ratio, duration and resolution reach Ark', async () => {
    ark = await startArkFake({ queuedMs: 60_000 });
    rig = await startDiscordRig({ env: arkEnv(ark), provider: arkProvider });
    const sent = rig.fake.slash({
      name: 'video',
      options: { prompt: 'a harbour', ratio: '21:9', duration: 10, resolution: '480p' },
    });
    await taskAnswer(rig.fake, sent.token);
    // The answer comes as soon as the task is stored; the upstream start follows from the retry loop.
    await waitFor(
      () => ark!.tasks.length,
      (n) => n > 0,
      15_000,
    );
    expect(ark.tasks[0]?.body).toMatchObject({ ratio: '21:9', duration: 10, resolution: '480p' });
  });

  it('an option the provider lacks (a stale command list) is refused in the user’s language; nothing is made', async () => {
    rig = await startDiscordRig();
    const sent = rig.fake.slash({ name: 'video', options: { prompt: 'sharp', resolution: '1080p' }, locale: 'zh-CN' });
    const refusal = await rig.fake.waitFor(
      (r) => r.path.includes(sent.token) && /不能选择分辨率/.test(JSON.stringify(r.body)),
    );
    expect(JSON.stringify(refusal.body)).toContain('npm run discord:register');
    expect((await rig.core.service.list({})).total).toBe(0);
  });
});
