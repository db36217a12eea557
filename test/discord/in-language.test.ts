/**
 * A task's failure reason reaches a Discord user in their client's language: the core records a code, the bot
 * words it (no English reason for a zh-CN client, the upstream's own words only when they are Chinese).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type DiscordRig, startDiscordRig } from '../support/discord-harness.js';
import { scriptedProvider } from '../support/scripted-provider.js';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const FAST = { FIRST_ATTEMPT_DELAY_S: '0.05', RETRY_INTERVAL_S: '0.05', MAX_ATTEMPTS: '2' };

async function failureShown(locale: string, reason: string): Promise<string> {
  const provider = scriptedProvider();
  provider.pollScript.push({ state: 'failed', reason, retryable: false });
  rig = await startDiscordRig({ env: FAST, provider: () => provider });
  const sent = rig.fake.slash({ name: 'video', options: { prompt: 'a kite' }, locale });
  const failed = await rig.fake.waitFor(
    (q) => q.method === 'POST' && q.path.endsWith(sent.token) && /❌|failed|失败/.test(String(q.body?.content)),
  );
  return String(failed.body?.content);
}

describe('failure reasons on Discord', () => {
  it('zh-CN: a refusal in English upstream words is said in Chinese without them', async () => {
    const content = await failureShown('zh-CN', 'the input text may contain sensitive information');
    expect(content).toMatch(/任务 `\S+` 失败：视频服务拒绝了这个请求。可以点下面的按钮重试。$/);
    expect(content.replace(/<@\d+>|`\S+`/g, '')).not.toMatch(/[A-Za-z]{2,}/);
  });

  it('en-US: the upstream’s words are kept', async () => {
    const content = await failureShown('en-US', 'the input text may contain sensitive information');
    expect(content).toMatch(
      /failed: the video service refused it \(the input text may contain sensitive information\)\./,
    );
  });
});
