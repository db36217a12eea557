/**
 * Replies in the user's language all the way through: the core's refusals and a task's failure reason arrive as a
 * code with parameters and the bot words them in Chinese for a `zh` user, with no English reason left in
 * (before, a Chinese reply read "抱歉，无法处理：you already have 1 videos…").
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DoubaoFake, startDoubaoFake } from '../fakes/doubao/index.js';
import { sessionIdCookie, writeSessions } from '../fakes/doubao/sessions.js';
import { textMessage } from '../fakes/telegram/updates.js';
import { doubaoProvider } from '../support/doubao-setup.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness | undefined;
let doubao: DoubaoFake | undefined;
afterEach(async () => {
  await h?.close();
  await doubao?.close();
  h = undefined;
  doubao = undefined;
});

const text = (c: { payload: Record<string, unknown> }) => String(c.payload.text);
const mei = { chatId: 811, userId: 811, languageCode: 'zh-hans' };
const LATIN = /[A-Za-z]{2,}/;

describe('in the user’s language', () => {
  it('a Chinese-speaking user over the daily limit is told why in Chinese only', async () => {
    h = await startBotHarness({ USER_DAILY_LIMIT: '1', LOCAL_RENDER_S: '600' });
    h.fake.pushUpdate(textMessage(mei, '/video 第一只猫'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('已接受'));
    h.fake.pushUpdate(textMessage(mei, '/video 第二只猫'));
    const refusal = await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('抱歉'));
    expect(text(refusal)).toBe('抱歉，无法处理：你已达到 24 小时内 1 个视频的上限，请稍后再试。');
    expect(text(refusal)).not.toMatch(LATIN);
  });

  it('the active limit, a prompt too long and an unknown task are worded in Chinese as well', async () => {
    h = await startBotHarness({ USER_MAX_ACTIVE: '1', LOCAL_RENDER_S: '600', MAX_PROMPT_CHARS: '10' });
    h.fake.pushUpdate(textMessage(mei, '/video 一只猫'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('已接受'));
    h.fake.pushUpdate(textMessage(mei, '/video 一只狗'));
    h.fake.pushUpdate(
      textMessage({ ...mei, chatId: 812, userId: 812 }, '/video 这是一个超过十个字符的很长很长的提示词'),
    );
    h.fake.pushUpdate(textMessage({ ...mei, chatId: 813, userId: 813 }, '/cancel nosuchtask'));
    const [active, long, unknown] = await Promise.all(
      [811, 812, 813].map((chat) =>
        h!.fake.waitFor('sendMessage', (c) => c.payload.chat_id === chat && !text(c).includes('已接受')),
      ),
    );
    expect(text(active!)).toBe('抱歉，无法处理：你已有 1 个视频正在生成（上限 1 个），请等其中一个完成。');
    expect(text(long!)).toBe('抱歉，无法处理：提示词有 19 个字符，上限为 10。');
    expect(text(unknown!)).toBe('未找到：没有任务 nosuchtask。');
  });

  it('a task failed by an expired Doubao session tells a Chinese user, in Chinese, that the operator was called', async () => {
    doubao = await startDoubaoFake({ dialect: '2026' });
    doubao.knobs.readyDelayMs = 60_000;
    const sessionsFile = join(mkdtempSync(join(tmpdir(), 'dvb-lang-')), 'session.json');
    const [session] = writeSessions(sessionsFile, { users: 1 });
    const env = {
      PROVIDER: 'doubao',
      DOUBAO_SESSIONS_FILE: sessionsFile,
      DOUBAO_BASE_URL: doubao.baseUrl,
      DOUBAO_IMAGEX_URL: doubao.imagexUrl,
      DOUBAO_UPLOAD_URL: doubao.uploadUrl,
      DOUBAO_PAGE_WAIT_S: '1',
      DOUBAO_MIN_SPACING_MS: '0',
      DOUBAO_FIRST_CHECK_S: '1',
      DOUBAO_POLL_INTERVAL_S: '1',
      DOUBAO_MAX_WAIT_S: '60',
    };
    h = await startBotHarness(env, {
      provider: doubaoProvider,
    });
    h.fake.pushUpdate(textMessage(mei, '/video 一只猫在冲浪'));
    await h.fake.waitFor('sendMessage', (c) => text(c).includes('已接受'));
    doubao.knobs.expired.set(sessionIdCookie(session!), 'redirect');
    const failed = await h.fake.waitFor('sendMessage', (c) => text(c).startsWith('❌'), 30_000);
    expect(text(failed)).toMatch(/^❌ 任务 \S+ 失败：视频服务需要管理员处理，已通知管理员，请稍后再试。/);
    expect(text(failed)).not.toContain('npm run session');
    const [task] = (await h.core.service.list({})).tasks;
    expect(task?.errorReason).toEqual({ code: 'SESSION_EXPIRED', params: {} });
  });
});
