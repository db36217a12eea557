/**
 * Ark after a crash and after an end upstream (issue 12, cases 6 and 7), through the real core and the Ark client
 * against the fake Ark: start-up recovery adopts only an unambiguous Ark task (two interrupted starts in one window
 * are started again, so Bob never gets Alice's fox), and a retry after a cancel or a failure on Ark starts a new Ark
 * task instead of polling the ended one.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type ArkFake, startArkFake } from './fakes/ark/index.js';
import { arkEnv, arkProvider } from './support/ark-setup.js';
import { finished, startTestCore, type TestCore, waitFor } from './support/test-core.js';

let fake: ArkFake | undefined;
let core: TestCore | undefined;

afterEach(async () => {
  await core?.dispose();
  await fake?.close();
  core = fake = undefined;
});

const promptOf = (fake: ArkFake, arkId: string) =>
  (fake.tasks.find((t) => t.id === arkId)?.body.content[0] as { text: string } | undefined)?.text;

/** A task a dead process claimed and was starting on Ark when it died (the Ark id was never stored). */
async function insertInterrupted(target: TestCore, id: string, prompt: string, claimedAt: number) {
  await target.store.insert({
    id,
    provider: 'ark',
    kind: 't2v',
    prompt,
    guest: false,
    imagePath: null,
    imageRef: null,
    conversationId: `${id}-c`,
    messageId: `${id}-m`,
    sectionId: null,
    upstream: null,
    status: 'pending',
    attempts: 0,
    maxAttempts: 10,
    nextAttemptAt: claimedAt,
    leaseUntil: claimedAt + target.scheduler.leaseMs,
    leaseOwner: 'a-process-that-died',
    claimedAt,
    progress: null,
    videoUrls: [],
    videoFile: null,
    error: null,
    origin: { platform: 'telegram', userId: id },
    deliveredAt: null,
  });
}

/** Creates an Ark task straight on the fake, as the dead process's start did. */
async function createOnArk(arkFake: ArkFake, prompt: string): Promise<string> {
  const res = await request(`${arkFake.apiUrl}/contents/generations/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${arkFake.knobs.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'seedance-t2v-test', content: [{ type: 'text', text: prompt }] }),
  });
  return ((await res.body.json()) as { id: string }).id;
}

describe('ark start-up recovery adopts only unambiguous matches (case 6)', () => {
  it('two interrupted starts in one window: Bob never gets Alice’s fox; both are started again', async () => {
    fake = await startArkFake({ queuedMs: 0, runningMs: 0 });
    const env = arkEnv(fake);
    const before = await startTestCore({ env, provider: arkProvider, keepData: true });
    // Bob's start began first, but his image upload was slow: Alice's create reached Ark first.
    await insertInterrupted(before, 'bob', 'Bob: a lighthouse in a storm', Date.now());
    await insertInterrupted(before, 'alice', 'Alice: a red fox in the snow', Date.now() + 500);
    const fox = await createOnArk(fake, 'Alice: a red fox in the snow');
    await new Promise((r) => setTimeout(r, 100));
    const lighthouse = await createOnArk(fake, 'Bob: a lighthouse in a storm');
    await before.dispose();

    core = await startTestCore({ env, provider: arkProvider, dataDir: before.dataDir });
    const bob = await waitFor(() => core!.service.get('bob'), finished);
    const alice = await waitFor(() => core!.service.get('alice'), finished);
    expect(bob.status).toBe('completed');
    expect(alice.status).toBe('completed');
    expect(bob.upstream!.id).not.toBe(fox);
    expect(promptOf(fake, bob.upstream!.id)).toBe('Bob: a lighthouse in a storm');
    expect(promptOf(fake, alice.upstream!.id)).toBe('Alice: a red fox in the snow');
    expect([bob.upstream!.id, alice.upstream!.id]).not.toContain(lighthouse);
    expect(fake.tasks).toHaveLength(4);
  });
});

describe('retry after an end on Ark starts a new Ark task (case 7)', () => {
  async function setup(knobs: Parameters<typeof startArkFake>[0]) {
    fake = await startArkFake(knobs);
    core = await startTestCore({ env: arkEnv(fake), provider: arkProvider });
    const task = await core.service.submit({
      prompt: 'a kite over the dunes',
      origin: { platform: 'http', userId: 'a' },
    });
    return { fake, core, task };
  }

  it('retrying a task cancelled on Ark starts a new Ark task instead of polling the deleted one', async () => {
    const { fake, core, task } = await setup({ queuedMs: 60_000 });
    const first = task.upstream!.id;
    await core.service.cancel(task.id, { admin: true });
    expect(fake.statusOf(first)).toBe('cancelled');
    await core.service.retry(task.id, { admin: true });
    fake.knobs.queuedMs = 0;
    const done = await waitFor(() => core.service.get(task.id), finished);
    expect(done.status).toBe('completed');
    expect(done.upstream!.id).not.toBe(first);
    expect(fake.tasks).toHaveLength(2);
  });

  it('retrying a task that failed on Ark starts a new Ark task', async () => {
    const { fake, core, task } = await setup({
      queuedMs: 0,
      runningMs: 0,
      failWith: { code: 'InternalServiceError', message: 'generation failed' },
    });
    const failed = await waitFor(() => core.service.get(task.id), finished);
    expect(failed).toMatchObject({ status: 'failed', upstreamEnded: true });
    await core.service.retry(task.id, { admin: true });
    await waitFor(
      () => fake.tasks.length,
      (n) => n === 2,
    );
    const again = await waitFor(() => core.service.get(task.id), finished);
    expect(fake.tasks).toHaveLength(2);
    expect(again.upstream!.id).toBe(fake.tasks[1]!.id);
    expect(again.attempts).toBeLessThanOrEqual(2);
  });
});
