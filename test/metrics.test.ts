/**
 * `/metrics` of a real running service, scraped over a socket and read as Prometheus reads it: process defaults,
 * tasks by status, the time-to-video histogram per provider, looks, upstream errors by provider and code, deliveries
 * and failed deliveries per platform, Doubao session states, and one registry per service (two services in one
 * process keep their own figures). Tasks run for real: the local provider renders with ffmpeg, Ark and Doubao are
 * their fakes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryRefused, type Task } from '../src/core/index.js';
import { type ArkFake, startArkFake } from './fakes/ark/index.js';
import { arkEnv, arkProvider } from './support/ark-setup.js';
import { type DoubaoUpstream, startDoubaoUpstream } from './support/doubao-setup.js';
import { type Exposition, parseExposition, scrape } from './support/prometheus-text.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { finished, waitFor } from './support/test-core.js';

const apis: TestApi[] = [];
let ark: ArkFake | undefined;
let doubao: DoubaoUpstream | undefined;

afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
  await ark?.close();
  await doubao?.close();
  ark = undefined;
  doubao = undefined;
});

async function serve(options: Parameters<typeof startTestApi>[0] = {}): Promise<TestApi> {
  const api = await startTestApi(options);
  apis.push(api);
  return api;
}

const telegramUser = { platform: 'telegram', userId: '1001', chatId: '1001' } as const;
const discordUser = { platform: 'discord', userId: '2002', chatId: '77' } as const;

/** Scrapes until `done` holds (or 20 s pass) and returns the last scrape for the test to check. */
async function scrapeUntil(base: string, done: (e: Exposition) => boolean): Promise<Exposition> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const e = await scrape(base);
    if (done(e) || Date.now() > deadline) return e;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function untilFinished(api: TestApi, ids: string[], timeoutMs = 60_000): Promise<Task[]> {
  const tasks = await waitFor(
    () => Promise.all(ids.map((id) => api.core.service.get(id))),
    (ts) => ts.every(finished),
    timeoutMs,
  );
  expect(tasks.map((t) => t.status)).toEqual(ids.map(() => 'completed'));
  return tasks;
}

describe('reading the exposition as Prometheus does', () => {
  it("reads prom-client's `Nan` (an event-loop lag mean before its first sample) and infinities in any case", () => {
    const e = parseExposition('nodejs_eventloop_lag_mean_seconds Nan\nup_a +Inf\nup_b -inf\nup_c 1.5e3\n');
    expect(e.value('nodejs_eventloop_lag_mean_seconds')).toBeNaN();
    expect([e.value('up_a'), e.value('up_b'), e.value('up_c')]).toEqual([Infinity, -Infinity, 1500]);
    expect(() => parseExposition('up_d seven')).toThrow('unreadable value in: up_d seven');
  });
});

describe('/metrics (prom-client, one registry per service)', () => {
  it('counts real tasks: statuses, time to video, looks, deliveries sent, retried and refused', async () => {
    const api = await serve({ core: { outbox: { retryBaseMs: 50, retryMaxMs: 50 } } });
    let telegramTries = 0;
    api.core.outbox.register('telegram', async () => {
      telegramTries++;
      if (telegramTries === 1) throw new Error('ETIMEDOUT: Telegram did not answer'); // tried again
    });
    api.core.outbox.register('discord', async () => {
      throw new DeliveryRefused('Unknown Channel');
    });
    const started = Date.now();
    const submitted = [
      await api.core.service.submit({ prompt: 'a kite over the sea', origin: telegramUser }),
      await api.core.service.submit({ prompt: 'a red balloon', origin: telegramUser }),
      await api.core.service.submit({ prompt: 'a paper boat', origin: discordUser }),
    ];
    const tasks = await untilFinished(
      api,
      submitted.map((t) => t.id),
    );
    // Deliveries end after the tasks: the telegram one tried again, the discord one refused.
    const exposition = await scrapeUntil(
      api.base,
      (e) =>
        e.value('video_deliveries_total', { platform: 'telegram', kind: 'result' }) === 2 &&
        e.value('video_delivery_failures_total', { platform: 'discord', kind: 'result', outcome: 'given_up' }) === 1,
    );

    expect(exposition.value('video_tasks', { status: 'completed' })).toBe(3);
    expect(exposition.value('video_tasks', { status: 'pending' })).toBe(0);
    expect(exposition.types.get('video_time_to_video_seconds')).toBe('histogram');
    expect(exposition.value('video_time_to_video_seconds_count', { provider: 'local' })).toBe(3);
    const sum = exposition.value('video_time_to_video_seconds_sum', { provider: 'local' })!;
    // Each task's seconds from creation to its video, as the tasks' own timestamps tell them.
    const expected = tasks.reduce((s, t) => s + (Date.parse(t.updatedAt) - Date.parse(t.createdAt)) / 1000, 0);
    expect(sum).toBeGreaterThan(0);
    expect(Math.abs(sum - expected)).toBeLessThan(0.5);
    expect(sum).toBeLessThanOrEqual((3 * (Date.now() - started)) / 1000);
    expect(exposition.value('video_time_to_video_seconds_bucket', { provider: 'local', le: '+Inf' })).toBe(3);
    // Every task was looked at at least once before it was found ready.
    expect(exposition.value('video_looks_total', { provider: 'local' })).toBeGreaterThanOrEqual(3);
    expect(exposition.value('video_deliveries_total', { platform: 'telegram', kind: 'result' })).toBe(2);
    expect(
      exposition.value('video_delivery_failures_total', { platform: 'telegram', kind: 'result', outcome: 'retry' }),
    ).toBe(1);
    expect(
      exposition.value('video_delivery_failures_total', { platform: 'discord', kind: 'result', outcome: 'given_up' }),
    ).toBe(1);
    expect(exposition.value('video_deliveries_total', { platform: 'discord', kind: 'result' })).toBeUndefined();
    expect(exposition.value('video_storage_bytes', { kind: 'videos' })).toBeGreaterThan(1000);
    // prom-client's process defaults.
    expect(exposition.value('process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(exposition.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(exposition.value('process_cpu_seconds_total')).toBeGreaterThan(0);
  }, 90_000);

  it('keeps one registry per service: two services in one process report their own tasks', async () => {
    const first = await serve();
    const second = await serve();
    const task = await first.core.service.submit({ prompt: 'only in the first', origin: telegramUser });
    await untilFinished(first, [task.id]);
    const [a, b] = [await scrape(first.base), await scrape(second.base)];
    expect(a.value('video_tasks', { status: 'completed' })).toBe(1);
    expect(b.value('video_tasks', { status: 'completed' })).toBe(0);
    expect(a.value('video_time_to_video_seconds_count', { provider: 'local' })).toBe(1);
    expect(b.value('video_time_to_video_seconds_count', { provider: 'local' })).toBeUndefined();
    expect(b.value('video_looks_total', { provider: 'local' })).toBe(0);
  }, 60_000);

  it("counts Ark's errors by code (429, then a content-policy refusal) and times its videos", async () => {
    ark = await startArkFake({ rateLimitNext: 1 });
    const api = await serve({ env: arkEnv(ark), provider: arkProvider });
    const ok = await api.core.service.submit({ prompt: 'a lighthouse at dusk', origin: telegramUser });
    await untilFinished(api, [ok.id]);
    ark.knobs.createError = {
      status: 400,
      code: 'InputTextSensitiveContentDetected',
      message: 'the prompt may contain sensitive content',
    };
    const refused = await api.core.service.submit({ prompt: 'something refused', origin: telegramUser });
    await waitFor(() => api.core.service.get(refused.id), finished);
    expect((await api.core.service.get(refused.id)).status).toBe('failed');

    const m = await scrape(api.base);
    expect(m.value('video_upstream_errors_total', { provider: 'ark', code: 'RateLimitExceeded' })).toBe(1); // Ark's code of its 429
    expect(m.value('video_upstream_errors_total', { provider: 'ark', code: 'InputTextSensitiveContentDetected' })).toBe(
      1,
    );
    expect(m.value('video_time_to_video_seconds_count', { provider: 'ark' })).toBe(1);
    expect(m.value('video_tasks', { status: 'failed' })).toBe(1);
  }, 60_000);

  it("reports Doubao's session states and the code that made a session rest", async () => {
    doubao = await startDoubaoUpstream({}, { DOUBAO_COOLDOWN_S: '600' });
    doubao.fake.knobs.bodyFaults = [{ path: 'chat/completion', code: 710022004 }];
    const api = await serve({ env: doubao.env, provider: doubao.provider });
    const before = await scrape(api.base);
    expect(before.value('video_provider_sessions', { provider: 'doubao', state: 'ok' })).toBe(1);
    expect(before.value('video_provider_sessions', { provider: 'doubao', state: 'cooling' })).toBe(0);

    await api.core.service.submit({ prompt: 'a kite', origin: telegramUser });
    const seen = await scrapeUntil(
      api.base,
      (e) => e.value('video_provider_sessions', { provider: 'doubao', state: 'cooling' }) === 1,
    );
    expect(seen.value('video_provider_sessions', { provider: 'doubao', state: 'cooling' })).toBe(1);
    expect(seen.value('video_provider_sessions', { provider: 'doubao', state: 'ok' })).toBe(0);
    expect(seen.value('video_upstream_errors_total', { provider: 'doubao', code: '710022004' })).toBe(1);
  }, 60_000);

  it('docs/grafana-dashboard.json charts only series the service exposes', async () => {
    const api = await serve();
    const task = await api.core.service.submit({ prompt: 'a kite', origin: telegramUser });
    await untilFinished(api, [task.id]);
    const exposed = await scrape(api.base);
    const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, '../docs/grafana-dashboard.json'), 'utf8'));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
      p.targets.map((t) => t.expr),
    );
    const names = new Set(exprs.flatMap((e) => e.match(/\b(?:video|process|nodejs)_[a-z0-9_]+/g) ?? []));
    expect(names.size).toBeGreaterThan(8);
    for (const name of names) {
      const family = name.replace(/_(bucket|sum|count)$/, '');
      expect(exposed.types.has(family), `${name} is not exposed`).toBe(true);
    }
  }, 60_000);
});
