/**
 * Issue 12, item 13 (outside the scheduler loop): a full disk. A write that cannot happen answers 507 with a
 * sentence and keeps nothing half-written; a render that fails for lack of space leaves no `.part.mp4` and the
 * task's reason says the disk is full. The first tests make the media writes fail the way a full disk does (a
 * 0-byte file, then ENOSPC); the last runs the real thing on a small tmpfs, where this machine allows mounting one.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toHttpReply } from '../adapters/http/error-reply.js';
import { StorageFull } from '../src/core/errors.js';
import { createLocalProvider } from '../src/providers/local/index.js';
import { sampleImage } from './support/media-samples.js';
import { scriptedProvider } from './support/scripted-provider.js';
import { startTestApi, type TestApi } from './support/test-api.js';

let api: TestApi | undefined;
let imageHost: Server | undefined;
let mounted: string | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
  await new Promise((resolve) => (imageHost ? imageHost.close(resolve) : resolve(undefined)));
  imageHost = undefined;
  if (mounted) {
    execFileSync('umount', [mounted]);
    rmSync(mounted, { recursive: true, force: true });
    mounted = undefined;
  }
});

async function post(path: string, body: Uint8Array | object) {
  const bytes = body instanceof Uint8Array;
  const res = await request(`${api!.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': bytes ? 'application/octet-stream' : 'application/json' },
    body: bytes ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, json: (await res.body.json()) as { detail?: string } & Record<string, unknown> };
}

/** Writes the way they go on a full disk: the file is created, then no byte fits. */
function fullDisk(switch_: { full: boolean }) {
  return async (path: string, bytes: Uint8Array) => {
    if (!switch_.full) return writeFile(path, bytes);
    await writeFile(path, new Uint8Array(0));
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
  };
}

describe('#12.13 disk full', () => {
  it('#12.13 an upload that cannot be written answers 507 with a sentence and leaves no 0-byte image', async () => {
    const disk = { full: true };
    api = await startTestApi({ provider: () => scriptedProvider(), core: { media: { write: fullDisk(disk) } } });
    const res = await post('/api/file/upload?file_type=2&file_name=cat.png', sampleImage('png'));
    expect(res.status).toBe(507);
    expect(res.json.detail).toBe("the server's disk is full, so the image could not be saved; try again later");
    expect(readdirSync(api.core.media.uploadsDir)).toEqual([]);
    expect(api.core.logs()).not.toContain('request failed');
    disk.full = false;
    expect((await post('/api/file/upload?file_type=2&file_name=cat.png', sampleImage('png'))).status).toBe(200);
  });

  it('#12.13 a generate whose image cannot be written answers 507 and stores no task', async () => {
    imageHost = createServer((_req, res) => res.end(sampleImage('png')));
    await new Promise<void>((resolve) => imageHost!.listen(0, '127.0.0.1', resolve));
    const imageUrl = `http://127.0.0.1:${(imageHost.address() as AddressInfo).port}/cat.png`;
    api = await startTestApi({
      env: { IMAGE_URL_ALLOW_PRIVATE: '1' },
      provider: () => scriptedProvider(),
      core: { media: { write: fullDisk({ full: true }) } },
    });
    const res = await post('/api/video-gen/generate', { prompt: 'a cat', image_url: imageUrl });
    expect(res.status).toBe(507);
    expect(res.json.detail).toMatch(/disk is full/);
    expect((await api.core.service.list()).total).toBe(0);
    expect(readdirSync(api.core.media.imagesDir)).toEqual([]);
  });

  it('#12.13 SQLite and file-system "no space" errors map to a 507 with a sentence', () => {
    const sqliteFull = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const reply = toHttpReply(new StorageFull('the task', { cause: sqliteFull }), 0);
    expect(reply).toEqual({
      status: 507,
      detail: "the server's disk is full, so the task could not be saved; try again later",
      code: 'STORAGE_FULL',
    });
  });
});

/** Mounts a tmpfs of `size` on a fresh folder; undefined where this machine does not allow it. */
function mountTmpfs(size: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'dvb-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

/** Fills the file system of `dir` until only about `leaveBytes` are free. */
function fill(dir: string, name: string, leaveBytes = 0): void {
  const fd = openSync(join(dir, name), 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leaveBytes));
  closeSync(fd);
}

const canMount = (() => {
  const dir = mountTmpfs('1m');
  if (dir) {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
  return dir !== undefined;
})();

describe.skipIf(!canMount)('#12.13 disk full, for real (a small tmpfs)', () => {
  it('#12.13 a render that fails for lack of space leaves no .part.mp4 and the task says the disk is full', async () => {
    mounted = mountTmpfs('2m')!;
    // Only the renderer's folder is on the full disk: the database keeps working (the scheduler loop's own
    // handling of a full database is another item's).
    fill(mounted, 'filler');
    const env = { MAX_ATTEMPTS: '2', FIRST_ATTEMPT_DELAY_S: '2', RETRY_INTERVAL_S: '2' };
    const renders = join(mounted, 'local');
    api = await startTestApi({
      env,
      provider: () => createLocalProvider({ workDir: renders, ffmpegPath: ffmpeg.path }),
    });
    const { core } = api;
    expect((await post('/api/video-gen/generate', { prompt: 'a render with no room' })).status).toBe(200);
    const task = (await core.service.list()).tasks[0]!;
    await vi.waitFor(async () => expect((await core.service.get(task.id)).status).toBe('failed'), 30_000);
    expect((await core.service.get(task.id)).error).toMatch(/disk is full/);
    expect(readdirSync(join(renders, 'videos'))).toEqual([]);
  });

  it('#12.13 with DATA_DIR on a full disk, uploads and generates answer 507 and the API stays up', async () => {
    mounted = mountTmpfs('4m')!;
    api = await startTestApi({ provider: () => scriptedProvider(), dataDir: join(mounted, 'data') });
    const { core } = api;
    fill(mounted, 'filler');
    const upload = await post('/api/file/upload?file_type=2&file_name=cat.png', sampleImage('png'));
    expect(upload.status).toBe(507);
    expect(upload.json.detail).toMatch(/disk is full/);
    expect(readdirSync(core.media.uploadsDir)).toEqual([]);
    const generate = await post('/api/video-gen/generate', { prompt: 'no room for the task' });
    expect(generate.status).toBe(507);
    expect(generate.json.detail).toBe("the server's disk is full, so the task could not be saved; try again later");
    expect((await request(`${api.base}/healthz`)).statusCode).toBe(200);
    rmSync(join(mounted, 'filler'));
    expect((await post('/api/video-gen/generate', { prompt: 'room again' })).status).toBe(200);
  });
});
