// Control over one's own task, in the core: owners (and admins) cancel, retry and ask "again"; others are refused
// as if the task did not exist; a photo waiting for its prompt is kept in the database with an expiry.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Conflict, mayControl, NotFound } from '../src/core/index.js';
import { idleProvider } from './support/idle-provider.js';
import { sampleImage } from './support/media-samples.js';
import { startTestCore, type TestCore } from './support/test-core.js';

let core: TestCore | undefined;
afterEach(async () => {
  await core?.dispose();
  core = undefined;
});

const owner = { platform: 'telegram', userId: '11', chatId: '11' } as const;
const ownerActor = { platform: 'telegram', userId: '11' } as const;
const stranger = { platform: 'telegram', userId: '12' } as const;

describe('task control rules', () => {
  it('the owner may retry their own failed or cancelled task; a stranger is told there is no such task', async () => {
    core = await startTestCore({ provider: idleProvider });
    const task = await core.service.submit({ prompt: 'a red kite', origin: owner });
    expect(mayControl(task, ownerActor)).toBe(true);
    expect(mayControl(task, stranger)).toBe(false);
    expect(mayControl(task, { admin: true })).toBe(true);
    await core.service.cancel(task.id, ownerActor);
    await expect(core.service.retry(task.id, stranger)).rejects.toBeInstanceOf(NotFound);
    const retried = await core.service.retry(task.id, ownerActor);
    expect(retried.status).toBe('pending');
  });

  it('"again" makes a new task with the same prompt and a copy of the same image', async () => {
    core = await startTestCore({ provider: idleProvider });
    const image = sampleImage('png');
    const first = await core.service.submit({ prompt: 'waves on rocks', image: { bytes: image }, origin: owner });
    await expect(core.service.again(first.id, stranger, { origin: { ...stranger } })).rejects.toBeInstanceOf(NotFound);
    const again = await core.service.again(first.id, ownerActor, { origin: owner, requestKey: 'again-1' });
    expect(again.id).not.toBe(first.id);
    expect(again).toMatchObject({ prompt: 'waves on rocks', kind: 'i2v' });
    expect(again.imagePath).not.toBe(first.imagePath);
    expect(readFileSync(again.imagePath!)).toEqual(readFileSync(first.imagePath!));
    // The same press delivered twice (same request key) makes one task.
    const twice = await core.service.again(first.id, ownerActor, { origin: owner, requestKey: 'again-1' });
    expect(twice.id).toBe(again.id);
  });

  it('"again" without the image any more is a clear conflict', async () => {
    core = await startTestCore({ provider: idleProvider });
    const first = await core.service.submit({ prompt: 'p', image: { bytes: sampleImage('png') }, origin: owner });
    await core.service.cancel(first.id, ownerActor);
    await core.media.removeImage(first.imagePath!);
    await expect(core.service.again(first.id, ownerActor, { origin: owner })).rejects.toBeInstanceOf(Conflict);
  });
});

describe('photos waiting for their prompt', () => {
  it('are given back once, only to their user, and not after they expire', async () => {
    let now = Date.now();
    core = await startTestCore({ provider: idleProvider, core: { now: () => now } });
    const photo = { fileId: 'f1', photoMessageId: 5 };
    await core.service.keepPendingPhoto('1:9', '11', photo, 60_000);
    expect(await core.service.takePendingPhoto('1:9', '12')).toBeUndefined();
    expect(await core.service.takePendingPhoto('1:9', '11')).toEqual(photo);
    expect(await core.service.takePendingPhoto('1:9', '11')).toBeUndefined();

    await core.service.keepPendingPhoto('1:10', '11', photo, 60_000);
    now += 61_000;
    expect(await core.service.takePendingPhoto('1:10', '11')).toBeUndefined();
    // Keeping another removes the expired ones.
    await core.service.keepPendingPhoto('1:11', '11', photo, 60_000);
    expect(await core.store.countPendingPhotos()).toBe(1);
  });
});
