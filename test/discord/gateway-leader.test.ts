/**
 * Issue 16: with several processes (DATABASE_URL), exactly one holds Discord's gateway — the leader of
 * `discord-gateway`, elected through a PostgreSQL advisory lock (a throw-away cluster) — while every process
 * delivers over REST. Two real Discord adapters (each with its own core, as two processes have) against the fake
 * Discord: one gateway connection at a time; the leader's database connection cut → it lets the gateway go, keeps
 * delivering over REST, and the other takes the gateway within seconds and answers commands.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaderElection } from '../../src/core/index.js';
import type { LeadRole } from '../../src/leadership.js';
import { type DiscordFake, startDiscordFake } from '../fakes/discord/index.js';
import { startDiscordBot, taskAnswer } from '../support/discord-harness.js';
import { clusterForFile } from '../support/postgres.js';
import { eventually } from '../support/service-process.js';
import { finished, waitFor } from '../support/test-core.js';

const cluster = clusterForFile();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const leadRoleOn =
  (url: string): LeadRole =>
  (role, lead) =>
    new LeaderElection(url, { role, lead, retryMs: 200, checkMs: 500, takeoverDelayMs: 100 });

/** Ends the database connection that holds the gateway's leader lock, as a network cut would. */
async function cutLeaderConnection(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`,
    );
  } finally {
    await client.end();
  }
}

async function twoBots(fake: DiscordFake, url: string) {
  const bots = [];
  for (let i = 0; i < 2; i++) {
    const bot = await startDiscordBot(fake, { leadRole: leadRoleOn(url) });
    cleanups.push(() => bot.close());
    bots.push(bot);
  }
  return bots;
}

describe('Discord with several processes (issue 16)', () => {
  it('one process holds the gateway; cut from the database it lets go, still delivers, and the other takes over', async () => {
    const url = await cluster().createDatabase('discord_gateway');
    const fake = await startDiscordFake();
    cleanups.push(() => fake.close());
    const bots = await twoBots(fake, url);
    await eventually('one gateway connection', () => fake.readyClients() === 1, 15_000);
    await new Promise((r) => setTimeout(r, 1_000)); // the follower keeps trying for the lock meanwhile
    expect(fake.readyClients()).toBe(1);
    const leader = bots.find((b) => b.bot.client.isReady())!;
    const follower = bots.find((b) => b !== leader)!;
    expect(follower.bot.client.isReady()).toBe(false);

    await cutLeaderConnection(url);
    await eventually('the other process holds the gateway', () => follower.bot.client.isReady(), 15_000);
    await eventually('one gateway connection again', () => fake.readyClients() === 1, 15_000);
    expect(leader.bot.client.isReady()).toBe(false);

    // The new leader takes commands, through to the finished video.
    const { token } = fake.slash({ name: 'video', options: { prompt: 'a kite over the sea' } });
    await taskAnswer(fake, token);
    await taskAnswer(fake, token, /finished|完成/, 60_000);

    // The process that let the gateway go still delivers over REST with the bot token (to the channel).
    const task = await leader.core.service.submit({
      prompt: 'a lighthouse at dusk',
      origin: {
        platform: 'discord',
        userId: '100000000000000002',
        chatId: fake.channelId,
        reply: {
          appId: fake.appId,
          token: 'itok.expired',
          tokenExpiresAt: 0,
          channelId: fake.channelId,
          messageId: null,
          sizeLimit: 8 * 1024 * 1024,
          lang: 'en',
        },
      },
    });
    await waitFor(() => leader.core.service.get(task.id), finished, 60_000);
    await eventually(
      'the result posted to the channel',
      () =>
        fake.requests.some(
          (r) => r.method === 'POST' && r.path.endsWith(`/channels/${fake.channelId}/messages`) && r.status < 300,
        ),
      30_000,
    );
  }, 120_000);
});
