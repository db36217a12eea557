/**
 * A bot open to everyone (its allow-list empty) is worth one warning line at start-up, per bot; a bot with an
 * allow-list, or one that is not configured, is not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openBotWarnings } from '../src/startup-problems.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';

const TELEGRAM = { TELEGRAM_TOKEN: '123:abc' };
const DISCORD = { DISCORD_TOKEN: 'token', DISCORD_APP_ID: '1' };

let service: ServiceProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (service && service.child.exitCode === null) await service.terminate();
  if (dir) rmSync(dir, { recursive: true, force: true });
  service = dir = undefined;
});

describe('open bots', () => {
  it('one line per open bot, none once a list is set', () => {
    expect(openBotWarnings(loadConfig({ ...TELEGRAM, ...DISCORD }))).toEqual([
      'The Telegram bot is open to everyone who finds it (TELEGRAM_ALLOWED_CHATS is empty); list the chat ids that may use it',
      'The Discord bot is open to everyone who can reach it (DISCORD_ALLOWED_GUILDS and DISCORD_ALLOWED_USERS are empty); list the servers or users that may use it',
    ]);
    expect(openBotWarnings(loadConfig({ ...TELEGRAM, TELEGRAM_ALLOWED_CHATS: '1, -100200' }))).toEqual([]);
    expect(openBotWarnings(loadConfig({ ...DISCORD, DISCORD_ALLOWED_USERS: '42' }))).toEqual([]);
    expect(openBotWarnings(loadConfig({ ...DISCORD, DISCORD_ALLOWED_GUILDS: '43' }))).toEqual([]);
    expect(openBotWarnings(loadConfig({}))).toEqual([]);
    expect(loadConfig({ TELEGRAM_ALLOWED_CHATS: '1, -100200' }).TELEGRAM_ALLOWED_CHATS).toEqual(
      new Set(['1', '-100200']),
    );
  });

  it('npm start logs the warning', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-open-'));
    // A Bot API nobody answers on: the warning comes before the bot tries to connect.
    service = spawnService(dir, { ...TELEGRAM, TELEGRAM_API_ROOT: 'http://127.0.0.1:9' });
    const line = await service.waitForLog(/open to everyone/);
    expect(line.msg).toMatch(/^The Telegram bot is open to everyone/);
    expect(service.output()).not.toMatch(/Discord bot is open/);
  });
});
