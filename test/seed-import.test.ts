import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support/test-api.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
});

const seedFile = {
  '7401_9901': {
    conversation_id: '7401',
    message_id: '9901',
    status: 'completed',
    video_urls: ['https://v26-show.douyinvod.com/abc/video.mp4'],
    retry_count: 2,
    max_retries: 5,
    created_at: '2025-10-01T12:00:00',
    updated_at: '2025-10-01T12:06:00',
    error: null,
  },
  '7402_9902': {
    conversation_id: '7402',
    message_id: '9902',
    status: 'processing',
    video_urls: [],
    retry_count: 3,
    max_retries: 10,
    error: null,
  },
};

it("adopts the seed service's video_links.json through `npm run demo -- --import`, once", async () => {
  api = await startTestApi();
  const { core, app, base } = api;
  const file = join(mkdtempSync(join(tmpdir(), 'dvb-import-')), 'video_links.json');
  writeFileSync(file, JSON.stringify(seedFile));
  const run = () =>
    promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'adapters/cli/index.ts', '--api', base, '--import', file],
      {
        env: { ...process.env, PORT: '0' },
      },
    );

  expect((await run()).stdout).toContain('imported 2, skipped 0');
  expect((await run()).stdout).toContain('imported 0, skipped 2');

  const done = await core.service.getBySeedIds('7401', '9901');
  expect(done).toMatchObject({
    provider: 'doubao',
    status: 'completed',
    attempts: 2,
    videoUrls: seedFile['7401_9901'].video_urls,
  });
  const open = await core.service.getBySeedIds('7402', '9902');
  // This service runs the local provider: the unfinished Doubao task fails at once, as at start-up, and keeps its
  // upstream reference for a retry under PROVIDER=doubao.
  expect(open).toMatchObject({ provider: 'doubao', status: 'failed', attempts: 0, maxAttempts: 10 });
  expect(open.error).toMatch(/doubao provider, which is no longer configured/);
  expect(open.upstream).toMatchObject({ conversationId: '7402', messageId: '9902' });
  expect(await core.service.undelivered('cli')).toEqual([]);

  const bad = await app.inject({ method: 'POST', url: '/api/video-gen/import', payload: { x: { status: 'weird' } } });
  expect(bad.statusCode).toBe(422);
  expect(bad.json().detail).toMatch(/conversation_id|status/);
});
