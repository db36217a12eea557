import { afterEach, describe, expect, it, vi } from 'vitest';
import { Conflict, InvalidInput, NotFound, QuotaExceeded } from '../src/core/errors.js';
import type { Task } from '../src/core/task.js';
import { sampleImage } from './support/media-samples.js';
import { scriptedProvider } from './support/scripted-provider.js';
import { startTestCore, type TestCore } from './support/test-core.js';

let core: TestCore | undefined;
afterEach(async () => {
  await core?.dispose();
  core = undefined;
});

const alice = { platform: 'telegram', userId: '1001', chatId: '1001' } as const;
const bob = { platform: 'telegram', userId: '1002', chatId: '1002' } as const;

async function scriptedCore(env: Record<string, string> = {}) {
  const provider = scriptedProvider();
  core = await startTestCore({ env: { FIRST_ATTEMPT_DELAY_S: '3600', ...env }, provider: () => provider });
  return { core, provider };
}

describe('GenerationService', () => {
  it('refuses a chat user over USER_MAX_ACTIVE, and lets them go on once a task ends', async () => {
    const { core } = await scriptedCore({ USER_MAX_ACTIVE: '2' });
    const first = await core.service.submit({ prompt: 'one', origin: alice });
    await core.service.submit({ prompt: 'two', origin: alice });
    await expect(core.service.submit({ prompt: 'three', origin: alice })).rejects.toThrow(QuotaExceeded);
    await expect(core.service.submit({ prompt: 'three', origin: alice })).rejects.toThrow(/limit is 2/);
    expect((await core.service.submit({ prompt: 'other user', origin: bob })).status).toBe('pending');
    await core.service.cancel(first.id, alice);
    expect((await core.service.submit({ prompt: 'three', origin: alice })).status).toBe('pending');
  });

  it('refuses a chat user over USER_DAILY_LIMIT in 24 hours, but never API clients', async () => {
    const { core } = await scriptedCore({ USER_MAX_ACTIVE: '10', USER_DAILY_LIMIT: '2' });
    for (const prompt of ['a', 'b']) await core.service.submit({ prompt, origin: alice });
    await expect(core.service.submit({ prompt: 'c', origin: alice })).rejects.toThrow(/2 videos in 24 hours/);
    for (let i = 0; i < 5; i++)
      await core.service.submit({ prompt: `api ${i}`, origin: { platform: 'http', userId: 'api' } });
    expect((await core.service.list({ platform: 'http' })).total).toBe(5);
  });

  it('checks prompts and images before storing anything', async () => {
    const { core } = await scriptedCore({ MAX_PROMPT_CHARS: '10', MAX_IMAGE_BYTES: '100000' });
    await expect(core.service.submit({ prompt: ' \n ', origin: alice })).rejects.toThrow(InvalidInput);
    await expect(core.service.submit({ prompt: 'x'.repeat(11), origin: alice })).rejects.toThrow(/11 characters/);
    const notImage = { bytes: new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>') };
    await expect(core.service.submit({ prompt: 'ok', image: notImage, origin: alice })).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA',
    });
    const tooBig = { bytes: new Uint8Array(100_001) };
    await expect(core.service.submit({ prompt: 'ok', image: tooBig, origin: alice })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    expect((await core.service.list()).total).toBe(0);
    const i2v = await core.service.submit({ prompt: 'ok', image: { bytes: sampleImage('png') }, origin: alice });
    expect(i2v).toMatchObject({ kind: 'i2v', imageRef: { uploaded: true } });
  });

  it('lets owners cancel and retry only their own tasks; admins any; unknown ids are NotFound', async () => {
    const { core } = await scriptedCore();
    const task = await core.service.submit({ prompt: 'mine', origin: alice });
    await expect(core.service.cancel(task.id, bob)).rejects.toThrow(NotFound);
    await expect(core.service.cancel('nope', { admin: true })).rejects.toThrow(NotFound);
    await expect(core.service.retry(task.id, alice)).rejects.toThrow(Conflict);
    expect((await core.service.cancel(task.id, alice)).status).toBe('cancelled');
    await expect(core.service.cancel(task.id, alice)).rejects.toThrow(/already cancelled/);
    expect((await core.service.retry(task.id, { admin: true })).status).toBe('pending');
  });

  it('emits typed events on every state change and tells the queue position', async () => {
    const { core } = await scriptedCore();
    const seen: string[] = [];
    for (const event of ['queued', 'started', 'cancelled'] as const) {
      core.service.on(event, (t: Task) => seen.push(`${event}:${t.prompt}`));
    }
    const a = await core.service.submit({ prompt: 'a', origin: alice });
    const b = await core.service.submit({ prompt: 'b', origin: bob });
    expect((await core.service.waitInfo(a)).ahead).toBe(0);
    expect((await core.service.waitInfo(b)).ahead).toBe(1);
    await core.service.cancel(a.id, { admin: true });
    expect(seen).toEqual(['queued:a', 'started:a', 'queued:b', 'started:b', 'cancelled:a']);
    expect((await core.service.waitInfo(await core.service.get(b.id))).ahead).toBe(0);
  });
});

describe('Outbox', () => {
  it('delivers each final task once, also those that finished while no adapter listened', async () => {
    const { core } = await scriptedCore();
    const early = await core.service.submit({ prompt: 'early', origin: alice });
    await core.service.cancel(early.id, { admin: true });
    const delivered: string[] = [];
    const stop = core.outbox.register('telegram', async (task) => {
      delivered.push(task.id);
    });
    const late = await core.service.submit({ prompt: 'late', origin: alice });
    await core.service.cancel(late.id, { admin: true });
    await vi.waitFor(() => expect(delivered).toEqual([early.id, late.id]));
    await stop();
    expect(await core.service.undelivered('telegram')).toEqual([]);
    const again: string[] = [];
    const stopAgain = core.outbox.register('telegram', async (task) => {
      again.push(task.id);
    });
    await stopAgain();
    expect(again).toEqual([]);
  });
});

describe('seed estimate', () => {
  it("says the window in the seed's words, in minutes or seconds as fits", async () => {
    const { estimatedTime } = await import('../adapters/http/seed-task.js');
    expect(estimatedTime({ firstS: 180, lastS: 900 })).toBe('预计3-15分钟完成');
    expect(estimatedTime({ firstS: 1, lastS: 5 })).toBe('预计1-5秒完成');
    expect(estimatedTime({ firstS: 15, lastS: 600 })).toBe('预计15秒-10分钟完成');
  });
});

describe('request keys', () => {
  it('answer a re-sent request with the task made the first time, without spending quota', async () => {
    const { core, provider } = await scriptedCore({ USER_MAX_ACTIVE: '1' });
    const first = await core.service.submit({ prompt: 'once', origin: alice, requestKey: 'telegram:1001:7' });
    const again = await core.service.submit({ prompt: 'once', origin: alice, requestKey: 'telegram:1001:7' });
    expect(again.id).toBe(first.id);
    expect((await core.service.list()).total).toBe(1);
    expect(provider.calls.filter((c) => c.method === 'start')).toHaveLength(1);
    await expect(
      core.service.submit({ prompt: 'other', origin: alice, requestKey: 'telegram:1001:8' }),
    ).rejects.toThrow(QuotaExceeded);
  });
});
