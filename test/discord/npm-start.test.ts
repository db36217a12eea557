// The service as `npm start` runs it (src/main.ts in a child process), pointed at the fake Discord with short
// timings: /video with an image ends with a playable MP4 in the channel.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type DiscordFake, startDiscordFake } from '../fakes/discord/index.js';
import { isMp4, sampleImage } from '../support/media-samples.js';

let fake: DiscordFake | undefined;
let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('npm start answers /video with an image with a playable MP4 in the channel', async () => {
  fake = await startDiscordFake();
  dir = mkdtempSync(join(tmpdir(), 'dvb-start-'));
  const root = join(import.meta.dirname, '../..');
  child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'src/main.ts')], {
    cwd: dir,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dir,
      PORT: '0',
      PROVIDER: 'local',
      FIRST_ATTEMPT_DELAY_S: '1',
      RETRY_INTERVAL_S: '1',
      DISCORD_TOKEN: fake.token,
      DISCORD_APP_ID: fake.appId,
      DISCORD_API_BASE: fake.apiBase,
    },
  });
  await fake.whenReady();
  const image = fake.addAttachment(sampleImage('jpg'), 'photo.jpg', 'image/jpeg');
  const sent = fake.slash({ name: 'video', options: { prompt: 'the photo comes alive' }, image });
  const result = await fake.waitFor(
    (r) => r.method === 'POST' && r.path.endsWith(sent.token) && r.files.length > 0,
    25_000,
  );
  expect(result.files[0]!.filename).toMatch(/\.mp4$/);
  expect(isMp4(result.files[0]!.bytes)).toBe(true);
});
