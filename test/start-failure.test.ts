/**
 * The sentences a failed chat-adapter start is logged and reported with, from errors thrown by the real chat
 * libraries (grammY, discord.js) against an unresolvable host, a closed port, and the fakes refusing the token.
 */
import { Client, GatewayIntentBits } from 'discord.js';
import { Bot } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { redactToken } from '../adapters/telegram/redact-token.js';
import { describeStartFailure } from '../src/start-failure.js';
import { startDiscordFake } from './fakes/discord/index.js';
import { startTelegramFake } from './fakes/telegram/index.js';

const TOKEN = '4242:secret-token-value';
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function grammyError(apiRoot: string, token = TOKEN): Promise<unknown> {
  const bot = new Bot(token, { client: { apiRoot } });
  bot.api.config.use(redactToken(token));
  return bot.api.getMe().then(
    () => undefined,
    (error: unknown) => error,
  );
}

async function discordError(api: string, token: string): Promise<unknown> {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api } });
  closers.push(() => client.destroy());
  return client.login(token).then(
    () => undefined,
    (error: unknown) => error,
  );
}

const telegram = (host: string) => ({ host, tokenVariable: 'TELEGRAM_TOKEN', token: TOKEN });
const discord = (host: string) => ({ host, tokenVariable: 'DISCORD_TOKEN', token: 'x' });

describe('16. why a chat adapter could not start, in one sentence', () => {
  it('grammY: DNS failure and refused connection are expected and retryable, and never quote the token', async () => {
    const dns = describeStartFailure(
      await grammyError('http://telegram-down.invalid'),
      telegram('telegram-down.invalid'),
    );
    expect(dns).toEqual({
      reason: 'DNS lookup failed for telegram-down.invalid (ENOTFOUND)',
      permanent: false,
      expected: true,
    });
    const refused = describeStartFailure(await grammyError('http://127.0.0.1:1'), telegram('127.0.0.1:1'));
    expect(refused.reason).toBe('127.0.0.1:1 refused the connection (ECONNREFUSED)');
  });

  it('grammY: a refused token (401) is permanent; a 404 is retried', async () => {
    const fake = await startTelegramFake({ faults: { getMe: { code: 404, description: 'Not Found', times: 1 } } });
    closers.push(() => fake.close());
    const host = new URL(fake.apiRoot).host;
    expect(describeStartFailure(await grammyError(fake.apiRoot), telegram(host))).toEqual({
      reason: 'the token was refused (401 Unauthorized): check TELEGRAM_TOKEN',
      permanent: true,
      expected: true,
    });
    expect(describeStartFailure(await grammyError(fake.apiRoot, fake.token), telegram(host))).toEqual({
      reason: `${host} answered 404 Not Found to getMe`,
      permanent: false,
      expected: true,
    });
  });

  it('discord.js: DNS failure is retryable, an invalid token is permanent', async () => {
    const dns = describeStartFailure(await discordError('http://discord-down.invalid/api', 'a.b.c'), discord('x'));
    expect(dns).toMatchObject({ reason: 'DNS lookup failed for x (ENOTFOUND)', permanent: false });
    const fake = await startDiscordFake();
    closers.push(() => fake.close());
    const bad = describeStartFailure(await discordError(fake.apiBase, 'wrong.token.here'), discord('x'));
    expect(bad).toEqual({
      reason: 'the token was refused (401 Unauthorized): check DISCORD_TOKEN',
      permanent: true,
      expected: true,
    });
  });

  it('an error of unknown shape is unexpected (a bug worth a stack trace), retried, and the token is blanked', () => {
    const failure = describeStartFailure(new RangeError(`bad value ${TOKEN}`), telegram('h'));
    expect(failure).toEqual({ reason: 'RangeError: bad value <token>', permanent: false, expected: false });
  });
});
