/**
 * Issue 12, item 12: retention. Videos older than VIDEO_RETENTION_DAYS go (their links answer 410), uploads after
 * an hour, a task's image when the task no longer needs it, files nobody refers to; one copy per video; a sweep at
 * start-up and every interval; `/metrics` reports the bytes kept. Time moves through the core's `now`, file ages
 * through their mtimes.
 */
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Retention } from '../src/core/retention.js';
import { sampleImage } from './support/media-samples.js';
import { permanent, scriptedProvider } from './support/scripted-provider.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { startTestCore, type TestCore } from './support/test-core.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

let core: TestCore | undefined;
let api: TestApi | undefined;
afterEach(async () => {
  await core?.dispose();
  await api?.close();
  core = api = undefined;
});

/** A clock the test moves forward; the core's store, scheduler and sweep read it. */
function shiftableClock() {
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  return clock;
}

const origin = { platform: 'http', userId: 'api' } as const;

function makeOld(path: string, ageMs: number): void {
  const at = new Date(Date.now() - ageMs);
  utimesSync(path, at, at);
}

describe('#12.12 retention', () => {
  it('#12.12 an expired video link answers 410 with a sentence; VIDEO_RETENTION_DAYS=0 keeps videos', async () => {
    const clock = shiftableClock();
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] });
    api = await startTestApi({
      env: { VIDEO_RETENTION_DAYS: '30' },
      provider: () => provider,
      core: { now: clock.now },
    });
    const { core: c, base } = api;
    const task = await c.service.submit({ prompt: 'kept for a while', origin });
    await vi.waitFor(async () => expect((await c.service.get(task.id)).status).toBe('completed'), 10_000);
    const link = `${base}/videos/${(await c.service.get(task.id)).videoFile}`;
    expect((await request(link)).statusCode).toBe(200);

    clock.offsetMs = 29 * DAY;
    await c.retention.sweep();
    expect((await request(link)).statusCode).toBe(200);

    clock.offsetMs = 31 * DAY;
    expect(await c.retention.sweep()).toMatchObject({ videos: 1 });
    const gone = await request(link);
    expect(gone.statusCode).toBe(410);
    expect(((await gone.body.json()) as { detail: string }).detail).toBe(
      'this video has been removed (videos are kept for 30 days after they are made); generate it again',
    );
    expect(readdirSync(c.media.videosDir)).toEqual([]);
    expect((await request(`${base}/videos/nothing.mp4`)).statusCode).toBe(404);

    const keepForever = new Retention({ store: c.store, media: c.media, log: c.log }, { videoRetentionDays: 0 });
    expect(await keepForever.sweep()).toMatchObject({ videos: 0 });
  });

  it('#12.12 an expired video goes with the download it was converted from (videos/<id>.original.mp4)', async () => {
    const clock = shiftableClock();
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] });
    core = await startTestCore({ provider: () => provider, core: { now: clock.now } });
    const task = await core.service.submit({ prompt: 'converted once', origin });
    await vi.waitFor(async () => expect((await core!.service.get(task.id)).status).toBe('completed'), 10_000);
    // What MediaStore keeps when it converted an HEVC download to H.264 (see test/playable-video.test.ts).
    writeFileSync(core.media.originalVideoPath(task.id), 'the HEVC download');
    clock.offsetMs = 31 * DAY;
    expect(await core.retention.sweep()).toMatchObject({ videos: 1 });
    expect(readdirSync(core.media.videosDir)).toEqual([]);
  });

  it('#12.12 unused uploads are removed after an hour, and files no task refers to', async () => {
    const clock = shiftableClock();
    core = await startTestCore({ provider: () => scriptedProvider(), core: { now: clock.now } });
    const upload = await core.service.storeImage(sampleImage('png'));
    const stray = join(core.media.imagesDir, 'left-by-a-crash.png');
    writeFileSync(stray, sampleImage('png'));
    const partial = join(core.media.videosDir, 'abc.mp4.part');
    writeFileSync(partial, 'half a video');
    await core.retention.sweep();
    expect(existsSync(upload.path) && existsSync(stray) && existsSync(partial)).toBe(true);

    clock.offsetMs = HOUR + 60_000;
    expect(await core.retention.sweep()).toMatchObject({ uploads: 1, strays: 2 });
    expect(existsSync(upload.path) || existsSync(stray) || existsSync(partial)).toBe(false);
  });

  it("#12.12 a final task's image goes after the retry window (a completed one's too, for Again), and retry then says so", async () => {
    const clock = shiftableClock();
    // One upstream job at a time, so a task can be cancelled before its image was uploaded.
    const provider = scriptedProvider({ maxRunning: 1 });
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] }, permanent('refused'));
    core = await startTestCore({ provider: () => provider, core: { now: clock.now } });
    const c = core;
    const image = { bytes: sampleImage('png') };
    const done = await c.service.submit({ prompt: 'completes', image, origin });
    await vi.waitFor(async () => expect((await c.service.get(done.id)).status).toBe('completed'), 10_000);
    // Kept for "again" (issue 15) until the window ends, like a failed task's.
    expect((await c.service.get(done.id)).imagePath).toBe(done.imagePath);

    const failed = await c.service.submit({ prompt: 'fails', image, origin });
    await vi.waitFor(async () => expect((await c.service.get(failed.id)).status).toBe('failed'), 10_000);
    const running = await c.service.submit({ prompt: 'holds the one slot', image, origin });
    const waiting = await c.service.submit({ prompt: 'never started', image, origin });
    await c.service.cancel(waiting.id, { admin: true });
    await c.retention.sweep();
    for (const task of [failed, running, waiting]) expect(existsSync(task.imagePath!)).toBe(true);

    expect(existsSync(done.imagePath!)).toBe(true);

    clock.offsetMs = DAY + HOUR;
    expect(await c.retention.sweep()).toMatchObject({ images: 3 });
    for (const task of [done, failed, waiting]) {
      expect(existsSync(task.imagePath!)).toBe(false);
      expect((await c.service.get(task.id)).imagePath).toBeNull();
    }
    expect(existsSync(running.imagePath!)).toBe(true); // a live task keeps its image
    // A retry of a task never uploaded needs the image: it says it is gone. One already uploaded goes on without it.
    await expect(c.service.retry(waiting.id, { admin: true })).rejects.toThrow(/image of task .* is no longer kept/);
    expect((await c.service.retry(failed.id, { admin: true })).status).toBe('pending');
  });

  it("#12.12 one copy per video: the local provider's render is moved, not copied", async () => {
    core = await startTestCore();
    const c = core;
    const task = await c.service.submit({ prompt: 'a single copy', origin });
    await vi.waitFor(async () => expect((await c.service.get(task.id)).status).toBe('completed'), 30_000);
    expect(existsSync(join(c.media.videosDir, (await c.service.get(task.id)).videoFile!))).toBe(true);
    const renders = join(c.dataDir, 'local', 'videos');
    expect(readdirSync(renders).filter((f) => f.endsWith('.mp4'))).toEqual([]);
  });

  it('#12.12 /metrics shows the bytes kept: videos, images, uploads', async () => {
    const provider = scriptedProvider();
    provider.pollScript.push({ state: 'succeeded', videoUrls: [provider.videoUrl] });
    api = await startTestApi({ env: { FIRST_ATTEMPT_DELAY_S: '0' }, provider: () => provider });
    const { core: c, base } = api;
    const upload = await c.service.storeImage(sampleImage('png'));
    const finished = await c.service.submit({ prompt: 'p', image: { bytes: sampleImage('jpg') }, origin });
    await vi.waitFor(async () => expect((await c.service.get(finished.id)).status).toBe('completed'), 10_000);
    const video = join(c.media.videosDir, (await c.service.get(finished.id)).videoFile!);
    // The completed task keeps its image for "again" (issue 15); one waiting task holds another.
    const held = await c.service.submit({ prompt: 'q', image: { bytes: sampleImage('jpg') }, origin });
    const text = await (await request(`${base}/metrics`)).body.text();
    expect(text).toContain(`video_storage_bytes{kind="videos"} ${statSync(video).size}`);
    const images = statSync(held.imagePath!).size + statSync(finished.imagePath!).size;
    expect(text).toContain(`video_storage_bytes{kind="images"} ${images}`);
    expect(text).toContain(`video_storage_bytes{kind="uploads"} ${statSync(upload.path).size}`);
  });

  it('#12.12 the sweep runs at start-up and then every interval, and stops when asked', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dvb-'));
    mkdirSync(join(dataDir, 'uploads'));
    const before = join(dataDir, 'uploads', `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}.png`);
    writeFileSync(before, sampleImage('png'));
    makeOld(before, 2 * HOUR);
    core = await startTestCore({ dataDir, provider: () => scriptedProvider() });
    await vi.waitFor(() => expect(existsSync(before)).toBe(false));
    await core.dispose();
    core = undefined;

    const c = await startTestCore({ provider: () => scriptedProvider() });
    const sweeper = new Retention(
      { store: c.store, media: c.media, log: c.log },
      { videoRetentionDays: 30, sweepIntervalMs: 100 },
    );
    sweeper.start();
    const later = (await c.service.storeImage(sampleImage('png'))).path;
    makeOld(later, 2 * HOUR);
    await vi.waitFor(() => expect(existsSync(later)).toBe(false));
    await sweeper.stop();
    const afterStop = (await c.service.storeImage(sampleImage('png'))).path;
    makeOld(afterStop, 2 * HOUR);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(existsSync(afterStop)).toBe(true);
    await c.dispose();
  });
});
