// Replies follow interaction.locale: Chinese for zh-CN / zh-TW, English otherwise.
import { afterEach, describe, expect, it } from 'vitest';
import { type DiscordRig, startDiscordRig, taskAnswer } from '../support/discord-harness.js';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function queuedReply(r: DiscordRig, locale: string, userId: string) {
  const sent = r.fake.slash({ name: 'video', options: { prompt: 'a kite' }, locale, userId });
  const queued = await taskAnswer(r.fake, sent.token, /`/);
  return { ...sent, content: String(queued.body?.content), components: JSON.stringify(queued.body?.components) };
}

describe('locale', () => {
  it('answers zh-CN in Chinese and en-US in English, through to the finished video', async () => {
    rig = await startDiscordRig();
    const zh = await queuedReply(rig, 'zh-CN', '600000000000000001');
    expect(zh.content).toMatch(/任务 `.+` 已接受/);
    expect(zh.components).toContain('"label":"取消"');
    const en = await queuedReply(rig, 'en-US', '600000000000000002');
    expect(en.content).toMatch(/Task `.+` accepted/);
    expect(en.components).toContain('"label":"Cancel"');

    const done = await rig.fake.waitFor(
      (r) => r.method === 'POST' && r.path.endsWith(zh.token) && r.files.length > 0,
      25_000,
    );
    expect(String(done.body?.content)).toContain('你的视频生成好了');
  });

  it('refusals are in the user language too', async () => {
    rig = await startDiscordRig();
    const sent = rig.fake.slash({ name: 'stats', locale: 'zh-TW' });
    const reply = await rig.fake.waitFor((r) => r.method === 'POST' && r.path.includes(`/${sent.token}/callback`));
    expect(reply.body).toMatchObject({ data: { content: '这个命令仅限服务器管理员使用。' } });
  });
});
