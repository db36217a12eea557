/**
 * The prompt block-list (PROMPT_BLOCKLIST_FILE): how a file is read (words, /regex/flags, comments), what matches
 * (case-insensitive substrings, Chinese, full-width letters, a zero-width space), and that a blocked prompt is
 * refused before anything is stored or sent upstream — over HTTP (400, the seed's `{detail}` plus a code), through
 * the Telegram bot in the user's language — and counted in /metrics. A bad regex stops start-up with one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { BlocklistInvalid, PromptBlocklist } from '../src/core/index.js';
import { textMessage } from './fakes/telegram/updates.js';
import { spawnService } from './support/service-process.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { type BotHarness, startBotHarness } from './telegram/harness.js';

const LIST = [
  '# words and phrases',
  'Forbidden',
  '',
  '违禁词',
  '  spaced phrase  ',
  '/\\bkill(ing)?\\b/i',
  '/^exact$/',
].join('\n');

let api: TestApi | undefined;
let bot: BotHarness | undefined;
let dir: string | undefined;
afterEach(async () => {
  await api?.close();
  await bot?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  api = bot = dir = undefined;
});

function listFile(text = LIST): string {
  dir = mkdtempSync(join(tmpdir(), 'dvb-blocklist-'));
  const file = join(dir, 'blocklist.txt');
  writeFileSync(file, text);
  return file;
}

describe('reading and matching', () => {
  const list = PromptBlocklist.parse(LIST);

  it.each([
    ['a FORBIDDEN thing', true],
    ['not forbiddenly innocent', true],
    ['一个违禁词的视频', true],
    ['ｆｏｒｂｉｄｄｅｎ in full-width letters', true],
    ['forb\u200Bidden with a zero-width space', true],
    ['a spaced phrase inside', true],
    ['Killing time', true],
    ['skilled painter', false],
    ['exact', true],
    ['not exact', false],
    ['a cat surfing at sunset', false],
    ['# words and phrases', false],
  ])('%j → %s', (prompt, blocked) => {
    expect(list.check(prompt, 'http')).toBe(blocked);
  });

  it('counts what it refused, per platform', () => {
    const fresh = PromptBlocklist.parse(LIST);
    fresh.check('forbidden', 'telegram');
    fresh.check('forbidden', 'telegram');
    fresh.check('fine', 'telegram');
    fresh.check('违禁词', 'discord');
    expect(Object.fromEntries(fresh.blocked)).toEqual({ telegram: 2, discord: 1 });
    expect(fresh.size).toBe(5);
  });

  it('a bad regex is refused naming its line; a missing file is refused too', () => {
    expect(() => PromptBlocklist.parse('fine\n/(unclosed/\n')).toThrow(BlocklistInvalid);
    expect(() => PromptBlocklist.parse('fine\n/(unclosed/\n')).toThrow(
      /^PROMPT_BLOCKLIST_FILE line 2: \/\(unclosed\/ is not a valid regular expression/,
    );
    expect(() => PromptBlocklist.load('/nonexistent/blocklist.txt')).toThrow(/cannot be read \(ENOENT\)/);
  });
});

describe('where it applies', () => {
  it('HTTP: 400 with the seed’s detail and code PROMPT_BLOCKED; nothing stored; counted in /metrics', async () => {
    api = await startTestApi({ env: { PROMPT_BLOCKLIST_FILE: listFile() } });
    const res = await request(`${api.base}/api/video-gen/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a forbidden dance' }),
    });
    expect(res.statusCode).toBe(400);
    const body = (await res.body.json()) as { detail: string; code: string };
    expect(body).toEqual({
      detail: 'the prompt contains words this service does not accept; please rephrase it',
      code: 'PROMPT_BLOCKED',
    });
    expect(JSON.stringify(body)).not.toMatch(/forbidden|违禁/i);
    expect((await api.core.service.list({})).total).toBe(0);
    const metrics = await (await request(`${api.base}/metrics`)).body.text();
    expect(metrics).toContain('video_prompts_blocked_total{platform="http"} 1');
    const ok = await request(`${api.base}/api/video-gen/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a cat surfing' }),
    });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });

  it('Telegram: a Chinese user is told in Chinese, without the list; nothing reaches the core’s tasks', async () => {
    bot = await startBotHarness({ PROMPT_BLOCKLIST_FILE: listFile() });
    bot.fake.pushUpdate(textMessage({ chatId: 821, userId: 821, languageCode: 'zh' }, '/video 一个违禁词的视频'));
    const reply = await bot.fake.waitFor('sendMessage', (c) => c.payload.chat_id === 821);
    expect(String(reply.payload.text)).toBe('抱歉，无法处理：提示词包含本服务不接受的内容，请换个说法。');
    expect((await bot.core.service.list({})).total).toBe(0);
    expect(bot.core.service.promptsBlocked()).toEqual({ telegram: 1 });
  });

  it('a bad regex stops start-up with one line', async () => {
    const file = listFile('ok\n/[z-a]/\n');
    const service = spawnService(dir!, { PROMPT_BLOCKLIST_FILE: file });
    expect(await service.exited).toBe(1);
    expect(service.output()).toMatch(
      /^PROMPT_BLOCKLIST_FILE \(.*blocklist\.txt\) line 2: \/\[z-a\]\/ is not a valid regular expression/m,
    );
    expect(service.output()).not.toMatch(/^\s+at /m);
  });
});
