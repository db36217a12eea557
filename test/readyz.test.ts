/**
 * `GET /readyz` (issue 12, case 16): 200 only when the database takes writes, the provider is ready and every chat
 * adapter is up; otherwise 503 with the state of each part. A real core on a temporary DATA_DIR, the real HTTP app.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../adapters/http/index.js';
import type { AdapterStatus } from '../src/adapter-supervisor.js';
import { createLogger } from '../src/logger.js';
import { createDoubaoProvider } from '../src/providers/doubao/index.js';
import { createReadiness } from '../src/readiness.js';
import { writeSessions } from './fakes/doubao/sessions.js';
import { startTestCore, type TestCore } from './support/test-core.js';

let core: TestCore | undefined;
afterEach(async () => {
  await core?.dispose();
  core = undefined;
});

function adapter(name: string, status: Partial<AdapterStatus>) {
  return {
    name,
    status: (): AdapterStatus => ({ state: 'up', since: '2026-01-01T00:00:00.000Z', failures: 0, ...status }),
  };
}

async function readyz(c: TestCore, readiness: ReturnType<typeof createReadiness>) {
  const app = await buildHttpApp({
    service: c.service,
    config: c.config,
    log: createLogger('silent'),
    videosDir: c.media.videosDir,
    readiness,
  });
  const res = await app.inject({ method: 'GET', url: '/readyz' });
  const docs = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
  await app.close();
  return { status: res.statusCode, body: res.json(), docs };
}

describe('16. GET /readyz', () => {
  it('answers 200 when the database takes writes, the provider is ready and every adapter is up', async () => {
    core = await startTestCore();
    const store = core.store;
    const { status, body, docs } = await readyz(
      core,
      createReadiness({
        probeWrite: () => store.probeWrite(),
        provider: { name: 'local' },
        adapters: [adapter('telegram', {}), adapter('discord', {})],
      }),
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      ready: true,
      parts: {
        database: { ready: true },
        provider: { ready: true, name: 'local' },
        telegram: { ready: true, state: 'up', since: '2026-01-01T00:00:00.000Z', failures: 0 },
        discord: { ready: true, state: 'up', since: '2026-01-01T00:00:00.000Z', failures: 0 },
      },
    });
    expect(Object.keys(docs.paths)).toContain('/readyz');
  });

  it('answers 503 naming the part that is not up: an adapter retrying, the provider, the database', async () => {
    core = await startTestCore();
    const store = core.store;
    const retrying = adapter('discord', {
      state: 'retrying',
      failures: 4,
      lastError: 'DNS lookup failed for discord.com (ENOTFOUND)',
      nextTryAt: '2026-01-01T00:00:08.000Z',
    });
    const first = await readyz(
      core,
      createReadiness({ probeWrite: () => store.probeWrite(), provider: { name: 'local' }, adapters: [retrying] }),
    );
    expect(first.status).toBe(503);
    expect(first.body.ready).toBe(false);
    expect(first.body.parts.database).toEqual({ ready: true });
    expect(first.body.parts.discord).toMatchObject({
      ready: false,
      state: 'retrying',
      lastError: 'DNS lookup failed for discord.com (ENOTFOUND)',
    });

    const provider = { name: 'doubao', ready: () => ({ ready: false, reason: 'no live Doubao session' }) };
    const second = await readyz(
      core,
      createReadiness({ probeWrite: () => store.probeWrite(), provider, adapters: [] }),
    );
    expect(second.status).toBe(503);
    expect(second.body.parts.provider).toEqual({ ready: false, name: 'doubao', reason: 'no live Doubao session' });

    const broken = {
      name: 'doubao',
      ready: (): { ready: boolean } => {
        throw new Error('session file unreadable');
      },
    };
    const fourth = await readyz(core, createReadiness({ probeWrite: async () => {}, provider: broken, adapters: [] }));
    expect(fourth.status).toBe(503);
    expect(fourth.body.parts.provider.reason).toBe('its readiness check failed: session file unreadable');

    // A database that takes no writes (here: closed under the service's feet).
    await store.close();
    const third = await readyz(
      core,
      createReadiness({ probeWrite: () => store.probeWrite(), provider: { name: 'local' }, adapters: [] }),
    );
    expect(third.status).toBe(503);
    expect(third.body.parts.database.ready).toBe(false);
    expect(third.body.parts.database.error).toMatch(/not open/);
  });

  it('probes the database at most once per interval, however often it is asked', async () => {
    let writes = 0;
    let now = 0;
    const readiness = createReadiness({
      probeWrite: async () => {
        writes++;
        await new Promise((r) => setTimeout(r, 20)); // a database that takes its time to answer
      },
      provider: { name: 'local' },
      adapters: [],
      probeIntervalMs: 1000,
      now: () => now,
    });
    // Fifty asks at once (a flood of probes while the write is under way), then fifty more one after another.
    const answers = await Promise.all(Array.from({ length: 50 }, () => readiness()));
    for (let i = 0; i < 50; i++) answers.push(await readiness());
    expect(writes).toBe(1);
    expect(answers.every((a) => a.ready)).toBe(true);
    now = 1000;
    await readiness();
    expect(writes).toBe(2);
  });

  it('the Doubao provider is ready only with a live session', async () => {
    core = await startTestCore();
    const sessionsFile = join(core.dataDir, 'session.json');
    const doubao = (file: string) =>
      createDoubaoProvider({
        sessionsFile: file,
        baseUrl: 'http://127.0.0.1:9',
        imagexUrl: 'http://127.0.0.1:9',
        uploadUrl: 'http://127.0.0.1:9',
        chromiumPath: '/usr/bin/chromium',
      });
    const none = await doubao(sessionsFile);
    expect(none.ready?.()).toEqual({ ready: false, reason: 'no live Doubao session: run `npm run session`' });
    await none.close?.();
    writeSessions(sessionsFile, { users: 1 });
    const one = await doubao(sessionsFile);
    expect(one.ready?.()).toEqual({ ready: true });
    await one.close?.();
  });
});
