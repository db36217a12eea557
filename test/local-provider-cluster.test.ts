/**
 * Issue 16: the local provider when several processes share one DATA_DIR — two provider instances on one work
 * folder stand for two processes. Each job is rendered once (claimed by an O_EXCL lock file next to the video), a
 * lock of a dead process is taken over, a failed render removes its lock, and two renders of one video (should
 * they still happen) both succeed. Renders are real (ffmpeg); a small shell wrapper around ffmpeg counts its runs
 * and records the lock files it finds while it runs, so the product carries no hook for these tests.
 */
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalProvider, type LocalProviderOptions } from '../src/providers/local/index.js';
import { renderVideo, textScene } from '../src/providers/local/render.js';
import { claimRender } from '../src/providers/local/render-lock.js';
import type { VideoProvider } from '../src/providers/provider.js';
import { pollUntilDone } from './provider-contract.js';
import { probeVideo } from './support/video-probe.js';

const dirs: string[] = [];
const providers: VideoProvider[] = [];

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close?.()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workFolder(): { workDir: string; videos: string } {
  const workDir = mkdtempSync(join(tmpdir(), 'dvb-local-cluster-'));
  dirs.push(workDir);
  return { workDir, videos: join(workDir, 'videos') };
}

interface Run {
  /** The lock files' contents found in the videos folder while this ffmpeg ran. */
  locks: { pid: number; host: string; since: string }[];
}

/**
 * An ffmpeg wrapper that appends one line per run (the lock files it sees) to a log, then, after `delayS`, runs
 * the real ffmpeg, or, with `fails`, complains and exits 1.
 */
function watchedFfmpeg(
  workDir: string,
  how: { fails?: boolean; delayS?: number } = {},
): { path: string; runs: () => Run[] } {
  const name = how.fails ? 'failing' : 'watched';
  const path = join(workDir, `${name}-ffmpeg.sh`);
  const log = join(workDir, `${name}-runs.log`);
  const videos = join(workDir, 'videos');
  const run = how.fails ? 'echo "boom: no such codec" >&2\nexit 1' : `exec "${ffmpeg.path}" "$@"`;
  const then = `sleep ${how.delayS ?? 0}\n${run}`;
  writeFileSync(
    path,
    `#!/bin/sh\necho "[$(cat "${videos}"/*.lock 2>/dev/null | tr '\\n' ',' | sed 's/,$//')]" >> "${log}"\n${then}\n`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    runs: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((line) => ({ locks: JSON.parse(line) }))
        : [],
  };
}

function provider(options: LocalProviderOptions): VideoProvider {
  const made = createLocalProvider({ captionFont: null, ...options });
  providers.push(made);
  return made;
}

/** A job as the database keeps it: any process may look at it. */
const job = (prompt: string) => ({ id: randomUUID(), prompt, startedAt: Date.now() });

/** What is left in the videos folder besides finished videos: locks, temporary files. */
const leftovers = (videos: string) => readdirSync(videos).filter((f) => !/^[0-9a-f-]{36}\.mp4$/.test(f));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('issue 16: the local provider on a DATA_DIR shared by several processes', () => {
  it('two renders of one video at once both succeed, leaving one finished video and no temporary file', async () => {
    const { videos } = workFolder();
    const output = join(videos, 'same.mp4');
    const shape = { width: 320, height: 180, seconds: 5 };
    const renders = [1, 2].map(() => renderVideo(ffmpeg.path, textScene('one video', undefined, shape), output));
    expect((await Promise.allSettled(renders)).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await probeVideo(output)).toMatchObject({ width: 320, height: 180 });
    expect(readdirSync(videos)).toEqual(['same.mp4']);
  }, 60_000);

  it('two processes looking at one job render it once, and both answer with the same finished video', async () => {
    const { workDir, videos } = workFolder();
    const watched = watchedFfmpeg(workDir);
    const first = provider({ workDir, ffmpegPath: watched.path });
    const second = provider({ workDir, ffmpegPath: watched.path });
    const ref = job('two processes, one render');
    const [a, b] = await Promise.all([pollUntilDone(first, ref, 480), pollUntilDone(second, ref, 480)]);
    expect(a.state).toBe('succeeded');
    expect(b).toEqual(a);
    expect(watched.runs()).toHaveLength(1);
    // The one render ran under its lock, which names this process.
    expect(watched.runs()[0]!.locks).toEqual([{ pid: process.pid, host: hostname(), since: expect.any(String) }]);
    const file = fileURLToPath(a.state === 'succeeded' ? a.videoUrls[0]! : '');
    expect(await probeVideo(file)).toMatchObject({ width: 640, height: 360 });
    expect(leftovers(videos)).toEqual([]); // the lock is gone with the render
  }, 150_000);

  it('keeps its lock fresh through a render longer than the stale time: the other process never takes it over', async () => {
    const { workDir, videos } = workFolder();
    const slow = watchedFfmpeg(workDir, { delayS: 2 });
    const timing = { lockRefreshMs: 100, lockStaleMs: 600 };
    const first = provider({ workDir, ffmpegPath: slow.path, ...timing });
    const second = provider({ workDir, ffmpegPath: slow.path, ...timing });
    const ref = job('a slow render');
    const [a, b] = await Promise.all([pollUntilDone(first, ref, 480, 100), pollUntilDone(second, ref, 480, 100)]);
    expect(a.state).toBe('succeeded');
    expect(b).toEqual(a);
    expect(slow.runs()).toHaveLength(1);
    expect(leftovers(videos)).toEqual([]);
  }, 150_000);

  it('waits while another live process holds the render; once that one dies (no more refreshes), takes it over', async () => {
    const { workDir, videos } = workFolder();
    const watched = watchedFfmpeg(workDir);
    const ref = job('the other process dies');
    mkdirSync(videos, { recursive: true });
    const lock = join(videos, `${ref.id}.lock`);
    const other = { pid: 999_999, host: 'other-machine', since: new Date().toISOString() };
    writeFileSync(lock, `${JSON.stringify(other)}\n`);
    const refreshing = setInterval(() => utimesSync(lock, new Date(), new Date()), 100);
    const local = provider({ workDir, ffmpegPath: watched.path, lockRefreshMs: 100, lockStaleMs: 800 });
    try {
      for (let i = 0; i < 8; i++) {
        expect(await local.poll(ref)).toEqual({ state: 'running' });
        await sleep(250);
      }
      expect(watched.runs()).toEqual([]);
      expect(JSON.parse(readFileSync(lock, 'utf8'))).toEqual(other);
    } finally {
      clearInterval(refreshing); // the other process is killed -9: its lock is no longer touched
    }
    expect((await pollUntilDone(local, ref, 480)).state).toBe('succeeded');
    expect(watched.runs()).toHaveLength(1);
    expect(watched.runs()[0]!.locks).toEqual([{ pid: process.pid, host: hostname(), since: expect.any(String) }]);
    expect(leftovers(videos)).toEqual([]);
  }, 150_000);

  it('a lock left by a dead process (not touched for long) is taken over by exactly one of two processes', async () => {
    const { workDir, videos } = workFolder();
    const watched = watchedFfmpeg(workDir);
    const ref = job('left behind by kill -9');
    mkdirSync(videos, { recursive: true });
    const lock = join(videos, `${ref.id}.lock`);
    writeFileSync(lock, `${JSON.stringify({ pid: 999_999, host: 'gone', since: new Date(0).toISOString() })}\n`);
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(lock, longAgo, longAgo);
    // The default timing: a lock untouched for 60 s is stale.
    const first = provider({ workDir, ffmpegPath: watched.path });
    const second = provider({ workDir, ffmpegPath: watched.path });
    const [a, b] = await Promise.all([pollUntilDone(first, ref, 480), pollUntilDone(second, ref, 480)]);
    expect(a.state).toBe('succeeded');
    expect(b).toEqual(a);
    expect(watched.runs()).toHaveLength(1);
    expect(watched.runs()[0]!.locks).toEqual([{ pid: process.pid, host: hostname(), since: expect.any(String) }]);
    expect(leftovers(videos)).toEqual([]);
  }, 150_000);

  it("many claims racing for one stale lock: exactly one wins, and the lock on disk is the winner's", async () => {
    const { videos } = workFolder();
    mkdirSync(videos, { recursive: true });
    const timing = { refreshMs: 1_000, staleMs: 5_000 };
    for (let round = 0; round < 20; round++) {
      const lock = join(videos, `race-${round}.lock`);
      writeFileSync(lock, '{"pid":999999,"host":"gone"}\n');
      const longAgo = new Date(Date.now() - 60_000);
      utimesSync(lock, longAgo, longAgo);
      const claims = await Promise.all(Array.from({ length: 12 }, () => claimRender(lock, timing)));
      const winners = claims.filter((c) => c !== undefined);
      expect(winners).toHaveLength(1);
      expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid });
      await winners[0]!.release();
      expect(existsSync(lock)).toBe(false);
    }
    expect(readdirSync(videos)).toEqual([]); // nothing moved aside is left behind
  });

  it('a render that fails removes its lock and its temporary file, and says why', async () => {
    const { workDir, videos } = workFolder();
    const failing = watchedFfmpeg(workDir, { fails: true, delayS: 0.5 });
    const local = provider({ workDir, ffmpegPath: failing.path });
    const ref = job('this render fails');
    const result = await pollUntilDone(local, ref);
    expect(result).toMatchObject({ state: 'failed', retryable: false });
    expect(result.state === 'failed' && result.reason).toMatch(/local renderer failed: boom/);
    expect(failing.runs()).toHaveLength(1);
    expect(failing.runs()[0]!.locks).toEqual([{ pid: process.pid, host: hostname(), since: expect.any(String) }]);
    expect(leftovers(videos)).toEqual([]);
  }, 60_000);
});
