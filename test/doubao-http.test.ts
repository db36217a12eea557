import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../adapters/http/index.js';
import { createDoubaoProvider } from '../src/providers/doubao/index.js';
import { SESSION_EXPIRED, sessionIdOf } from '../src/providers/doubao/session-pool.js';
import { doubaoOptions } from '../src/providers/index.js';
import type { ProviderIncident, VideoProvider } from '../src/providers/provider.js';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { sessionIdCookie, writeSessions } from './fakes/doubao/sessions.js';
import { doubaoFakeEnv } from './support/doubao-setup.js';
import { isMp4, sampleImage } from './support/media-samples.js';
import { memoryLogger, startTestCore, testConfig } from './support/test-core.js';

interface SeedTask {
  conversation_id: string;
  message_id: string;
  status: string;
  video_urls: string[];
  retry_count: number;
  error: string | null;
}

/** A core with PROVIDER=doubao pointed at the fake, and its HTTP app (driven with inject, no port). */
async function startService(fake: DoubaoFake, env: Record<string, string> = {}, dataDir?: string) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'dvb-doubao-http-'));
  const fullEnv = { ...doubaoFakeEnv(fake), ...env };
  const providerLog = memoryLogger();
  const provider: VideoProvider = await createDoubaoProvider(doubaoOptions(testConfig(fullEnv, dir), providerLog.log));
  const core = await startTestCore({ env: fullEnv, dataDir: dir, provider: () => provider, keepData: true });
  const app = await buildHttpApp({
    service: core.service,
    config: core.config,
    log: core.log,
    videosDir: core.media.videosDir,
    providerStatus: () => provider.status!(),
  });
  return {
    core,
    app,
    provider,
    logs: () => core.logs() + providerLog.text(),
    async stop() {
      await app.close();
      await core.dispose();
      await provider.close?.();
    },
  };
}

async function generate(app: FastifyInstance, body: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: '/api/video-gen/generate', payload: body });
  return { status: res.statusCode, body: res.json() as Record<string, string> };
}

/** Lists tasks until every one is final (completed or failed), at most `ms`. */
async function waitForFinal(app: FastifyInstance, ms = 25_000): Promise<SeedTask[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { tasks } = (await app.inject({ url: '/api/video-gen/list' })).json() as { tasks: SeedTask[] };
    if (tasks.length > 0 && tasks.every((t) => t.status === 'completed' || t.status === 'failed')) return tasks;
    if (Date.now() > deadline) throw new Error(`tasks not final: ${JSON.stringify(tasks)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('PROVIDER=doubao through the seed HTTP API, against the fake', () => {
  let fake: DoubaoFake;
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  beforeAll(async () => {
    fake = await startDoubaoFake();
  });
  afterAll(() => fake.close());
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    Object.assign(fake.knobs, {
      completionFaults: [],
      httpFaults: [],
      readyDelayMs: 0,
      guestLimit: 2,
      dialect: 'both',
    });
    fake.knobs.expired.clear();
  });

  const withSessions = (counts: { users?: number; guests?: number }) => {
    const dir = mkdtempSync(join(tmpdir(), 'dvb-doubao-http-'));
    return { dir, sessions: writeSessions(join(dir, 'session.json'), counts) };
  };

  it.each(['2026', '2025'] as const)(
    '%s dialect: uploads, generates image- and text-to-video, and re-hosts the fake MP4 under DATA_DIR/videos',
    async (dialect) => {
      const { dir, sessions } = withSessions({ users: 2 });
      fake.knobs.dialect = dialect;
      fake.knobs.readyDelayMs = 1_500;
      service = await startService(fake, {}, dir);
      const { app } = service;

      const upload = await app.inject({
        method: 'POST',
        url: '/api/file/upload?file_type=2&file_name=cat.png',
        headers: { 'content-type': 'application/octet-stream' },
        payload: sampleImage('png'),
      });
      expect(upload.statusCode).toBe(200);
      const i2v = await generate(app, { prompt: '请将这张图片生成一个5秒的视频', image_attachment: upload.json() });
      expect(i2v.status).toBe(200);
      expect(i2v.body).toMatchObject({ success: true, task_status: 'pending' });
      expect(fake.conversations.get(i2v.body.conversation_id!)?.attachments).toHaveLength(1);
      const t2v = await generate(app, { prompt: '一只小猫在草地上奔跑' });
      expect(t2v.body.conversation_id).toMatch(/^\d{19}$/);

      for (const ids of [i2v.body, t2v.body]) {
        const deadline = Date.now() + 25_000;
        let task: SeedTask;
        do {
          await new Promise((r) => setTimeout(r, 250));
          const res = await app.inject({
            url: `/api/video-gen/status?conversation_id=${ids.conversation_id}&message_id=${ids.message_id}`,
          });
          task = (res.json() as { task: SeedTask }).task;
        } while (task.status !== 'completed' && task.status !== 'failed' && Date.now() < deadline);
        expect(task).toMatchObject({ status: 'completed', error: null });
        expect(task.video_urls[0]).toMatch(/\/videos\/[\w-]+\.mp4$/);
        expect(task.video_urls[1]).toMatch(
          dialect === '2026'
            ? /\/video\/tos\/cn\/[0-9a-f]+\/\?mime_type=video_mp4/
            : /\/douyinvod\/[0-9a-f]+\/video\.mp4$/,
        );
        const file = join(service.core.media.videosDir, task.video_urls[0]!.split('/').pop()!);
        expect(isMp4(readFileSync(file))).toBe(true);
      }
      const logs = service.logs();
      expect(logs).toContain('Doubao video requested');
      for (const s of sessions) {
        expect(logs).not.toContain(sessionIdCookie(s));
        expect(logs).not.toContain(s.x_flow_trace);
      }
    },
  );

  it('keeps the conversation→session binding across a restart', async () => {
    const { dir, sessions } = withSessions({ users: 4 });
    fake.knobs.readyDelayMs = 3_000;
    service = await startService(fake, {}, dir);
    const started = await generate(service.app, { prompt: 'a lighthouse at night' });
    const ownerCookie = fake.conversations.get(started.body.conversation_id!)!.owner;
    const owner = sessions.find((s) => sessionIdCookie(s) === ownerCookie)!;
    await service.stop(); // before the video is ready

    service = await startService(fake, {}, dir);
    const [task] = await waitForFinal(service.app);
    expect(task).toMatchObject({ status: 'completed', conversation_id: started.body.conversation_id });
    // The fake shows a conversation only to its owner, so completion means the owner's cookies were used.
    const stored = (await service.core.service.list({})).tasks[0]!;
    expect(stored.upstream?.sessionId).toBe(sessionIdOf(owner));
    expect(existsSync(join(dir, 'videos'))).toBe(true);
  });

  it('shows pool health at GET /api/sessions only with the API token', async () => {
    const { dir, sessions } = withSessions({ users: 1, guests: 1 });
    service = await startService(fake, { API_TOKEN: 'admin-token-for-tests' }, dir);
    expect((await service.app.inject({ url: '/api/sessions' })).statusCode).toBe(401);
    const res = await service.app.inject({
      url: '/api/sessions',
      headers: { authorization: 'Bearer admin-token-for-tests' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().sessions).toEqual(
      sessions.map((s, i) => ({
        id: sessionIdOf(s),
        label: `session ${sessionIdOf(s).slice(0, 8)}`,
        guest: i === 1,
        state: 'ok',
        since: expect.any(String),
      })),
    );
    for (const s of sessions) expect(res.body).not.toContain(s.cookie.slice(0, 20));
  });

  it('fails a refused request at once with the gateway message', async () => {
    const { dir } = withSessions({ users: 1 });
    // Refused in the 2026 dialect plainly and from the session's page (DOUBAO_TRANSPORT=auto), then the same in 2025.
    fake.knobs.completionFaults = ['gateway-error', 'gateway-error', 'gateway-error', 'gateway-error'];
    service = await startService(fake, {}, dir);
    const res = await generate(service.app, { prompt: 'x' });
    expect(res.status).toBe(502);
    expect(res.body.detail).toMatch(/^Doubao refused the request: content not allowed/);
  });

  it('fails with the `npm run session` instruction when the login expired (401 on the request)', async () => {
    const { dir, sessions } = withSessions({ users: 1 });
    fake.knobs.expired.set(sessionIdCookie(sessions[0]!), '401');
    service = await startService(fake, {}, dir);
    const res = await generate(service.app, { prompt: 'x' });
    expect(res).toMatchObject({ status: 502, body: { detail: SESSION_EXPIRED } });
  });

  it('fails a started task for good when its session is redirected to the login page', async () => {
    const { dir, sessions } = withSessions({ users: 1 });
    fake.knobs.readyDelayMs = 60_000;
    service = await startService(fake, {}, dir);
    expect((await generate(service.app, { prompt: 'x' })).status).toBe(200);
    fake.knobs.expired.set(sessionIdCookie(sessions[0]!), 'redirect');
    const [task] = await waitForFinal(service.app);
    expect(task).toMatchObject({ status: 'failed', error: SESSION_EXPIRED, retry_count: 1 });
    const health = await service.app.inject({ url: '/api/sessions' });
    expect(health.json()).toEqual({
      success: true,
      provider: 'doubao',
      sessions: [
        {
          id: sessionIdOf(sessions[0]!),
          label: `session ${sessionIdOf(sessions[0]!).slice(0, 8)}`,
          guest: false,
          state: 'expired',
          since: expect.any(String),
          lastCode: 'login redirect',
        },
      ],
      pages: { open: 0, opened: 0 },
      pageRoutes: {},
    });
    expect(health.body).not.toContain(sessionIdCookie(sessions[0]!));
  });

  it('1011 on a look: the task fails with the reason, the core hears one incident, a restarted core remembers', async () => {
    const { dir, sessions } = withSessions({ users: 1 });
    fake.knobs.readyDelayMs = 60_000;
    service = await startService(fake, {}, dir);
    const incidents: ProviderIncident[] = [];
    service.core.service.on('incident', (i) => incidents.push(i));
    expect((await generate(service.app, { prompt: 'x' })).status).toBe(200);
    fake.knobs.bodyFaults = [{ path: '/im/chain/single', code: 1011, message: 'not login' }];
    const [task] = await waitForFinal(service.app);
    expect(task).toMatchObject({ status: 'failed', error: SESSION_EXPIRED });
    expect(incidents).toEqual([
      expect.objectContaining({
        provider: 'doubao',
        kind: 'expired',
        code: '1011',
        action: expect.stringMatching(/npm run session/),
      }),
    ]);
    await service.stop();

    service = await startService(fake, {}, dir); // the same DATA_DIR: the state is in SQLite
    const health = (await service.app.inject({ url: '/api/sessions' })).json();
    expect(health.sessions).toMatchObject([{ id: sessionIdOf(sessions[0]!), state: 'expired', lastCode: '1011' }]);
    expect((await generate(service.app, { prompt: 'y' })).body).toMatchObject({ detail: SESSION_EXPIRED });
  });

  it('a captcha on a look pauses the session: the task ends with the risk-control reason, not "not ready"', async () => {
    const { dir } = withSessions({ users: 1 });
    fake.knobs.readyDelayMs = 600_000;
    service = await startService(fake, { DOUBAO_MAX_WAIT_S: '3' }, dir);
    const incidents: ProviderIncident[] = [];
    service.core.service.on('incident', (i) => incidents.push(i));
    expect((await generate(service.app, { prompt: 'x' })).status).toBe(200);
    fake.knobs.bodyFaults = [{ path: '/im/chain/single', captcha: true }];
    const [task] = await waitForFinal(service.app);
    expect(task).toMatchObject({ status: 'failed' });
    expect(task!.error).toMatch(/risk control paused the account this task uses.*gave up after 3 attempts/);
    expect(incidents.map((i) => [i.kind, i.code])).toEqual([['risk_control', 'captcha']]);
  });

  it('retries after a rate limit (2005), a 5xx and a truncated stream, then completes', async () => {
    const { dir } = withSessions({ users: 1 });
    fake.knobs.completionFaults = ['rate-limit-2005', 'truncated-before-start'];
    fake.knobs.httpFaults = [{ path: 'chat/completion', status: 502 }];
    service = await startService(fake, { DOUBAO_COOLDOWN_S: '0.5', DOUBAO_MAX_WAIT_S: '8' }, dir);
    const res = await generate(service.app, { prompt: 'x' });
    expect(res.status).toBe(200);
    const [task] = await waitForFinal(service.app);
    expect(task).toMatchObject({ status: 'completed', error: null });
    expect(task!.retry_count).toBeGreaterThanOrEqual(4);
  });

  it('fails after the last attempt while Doubao keeps answering 429, saying so', async () => {
    const { dir } = withSessions({ users: 1 });
    fake.knobs.httpFaults = Array.from({ length: 5 }, () => ({ path: 'chat/completion', status: 429 }));
    service = await startService(fake, { DOUBAO_COOLDOWN_S: '0', DOUBAO_MAX_WAIT_S: '2' }, dir);
    await generate(service.app, { prompt: 'x' });
    const [task] = await waitForFinal(service.app);
    expect(task).toMatchObject({ status: 'failed', retry_count: 2 });
    expect(task!.error).toMatch(/rate-limited this session \(code HTTP 429\)/);
  });

  it('fails with "video not ready" when the video never shows up', async () => {
    const { dir } = withSessions({ users: 1 });
    fake.knobs.readyDelayMs = 600_000;
    service = await startService(fake, { DOUBAO_MAX_WAIT_S: '2' }, dir);
    await generate(service.app, { prompt: 'x' });
    const [task] = await waitForFinal(service.app);
    expect(task).toMatchObject({ status: 'failed', error: 'video not ready after 2 attempts' });
  });

  it('drops a used-up guest and fails guest tasks once none is left', async () => {
    const { dir } = withSessions({ users: 1, guests: 1 });
    fake.knobs.guestLimit = 0;
    service = await startService(fake, {}, dir);
    await generate(service.app, { prompt: 'x', guest: true });
    const [task] = await waitForFinal(service.app);
    expect(task).toMatchObject({ status: 'failed', error: 'no Doubao guest session is available' });
    const saved = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as unknown[];
    expect(saved).toHaveLength(1);
  });
});
