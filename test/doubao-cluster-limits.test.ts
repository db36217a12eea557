/**
 * Doubao's per-session limits across a cluster (issue 16): two Doubao providers, built by `createProvider` as two
 * processes sharing one PostgreSQL database build them (main.ts), each with its own PostgresLimiter on that
 * database, ask the fake Doubao for
 * videos with one session at once. With the shared limiter the fake sees that session's requests at least the
 * spacing apart and never more in flight than the session's concurrency, whichever provider sent them; with each
 * provider limiting only itself (no DATABASE_URL), the same load breaks both limits — which is what the wiring fixes.
 * Then the whole path: two `npm start` processes with DATABASE_URL and the Doubao provider keep the spacing between
 * them for tasks submitted over HTTP, and stop cleanly.
 * PostgreSQL is a throw-away cluster (test/support/postgres.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { UpstreamError } from '../src/core/errors.js';
import { PostgresLimiter } from '../src/core/index.js';
import { InProcessLimiter, type UpstreamLimiter } from '../src/core/upstream-limiter.js';
import { createLogger } from '../src/logger.js';
import { createProvider, type VideoProvider } from '../src/providers/index.js';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { sessionIdCookie, writeSessions } from './fakes/doubao/sessions.js';
import { doubaoFakeEnv } from './support/doubao-setup.js';
import { clusterForFile } from './support/postgres.js';
import { eventually, type ServiceProcess, spawnService } from './support/service-process.js';

const cluster = clusterForFile();

const SPACING_MS = 300;
/**
 * Spacing is kept between grants, by the database's clock; a request arrives a commit and a send later, which a busy
 * machine may delay by more for one call than for the next (up to ~190 ms seen with two service processes while
 * other test runs loaded the machine): one gap may look this much shorter, the whole run not. Without a shared
 * limiter, the two providers' requests arrive 1–10 ms apart.
 */
const JITTER_MS = 150;
/** Video requests each provider sends at once. */
const STARTS_EACH = 3;

let fake: DoubaoFake;
let dir: string;
const opened: { close(): Promise<void> }[] = [];
const services: ServiceProcess[] = [];

beforeAll(async () => {
  fake = await startDoubaoFake();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  for (const service of services.splice(0)) if (service.child.exitCode === null) await service.terminate();
  // Providers first: their last calls may still hold a limiter's slot.
  for (const part of opened.splice(0).reverse()) await part.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A sessions file with one logged-in session; returns the cookie the fake knows it by. */
function oneSession(): string {
  dir = mkdtempSync(join(tmpdir(), 'dvb-doubao-cluster-'));
  const [session] = writeSessions(join(dir, 'session.json'), { users: 1 });
  return sessionIdCookie(session!);
}

/**
 * Two providers on the one session, from the configuration `env` completes; each with its own limiter on one
 * shared database when `shared`, as main.ts opens one with DATABASE_URL.
 */
async function twoProviders(shared: boolean, env: Record<string, string>): Promise<VideoProvider[]> {
  const url = shared ? await cluster().createDatabase() : undefined;
  const providers: VideoProvider[] = [];
  for (let i = 0; i < 2; i++) {
    const limiter = url ? await PostgresLimiter.open(url, { recheckMs: 200 }) : undefined;
    if (limiter) opened.push(limiter);
    providers.push(await providerWith(limiter, env));
  }
  return providers;
}

/** A provider on the one session, built from the configuration `env` completes, as main.ts builds it. */
async function providerWith(limiter: UpstreamLimiter | undefined, env: Record<string, string> = {}) {
  const config = loadConfig({
    ...doubaoFakeEnv(fake),
    DOUBAO_SESSIONS_FILE: join(dir, 'session.json'),
    DOUBAO_TRANSPORT: 'http',
    DATA_DIR: dir,
    ...env,
  });
  const provider = await createProvider(config, createLogger('silent'), undefined, limiter);
  opened.push({ close: async () => provider.close?.() });
  return provider;
}

/** Both providers ask for `STARTS_EACH` videos at once; returns the arrival times of the session's requests. */
async function burst(providers: VideoProvider[], owner: string): Promise<number[]> {
  const from = fake.requests.length;
  const refs = await Promise.all(
    providers.flatMap((provider, p) =>
      Array.from({ length: STARTS_EACH }, (_, i) => provider.start({ prompt: `p${p}-${i}`, guest: false })),
    ),
  );
  expect(new Set(refs.map((r) => r.conversationId)).size).toBe(providers.length * STARTS_EACH);
  return fake.requests
    .slice(from)
    .filter((r) => r.owner === owner)
    .map((r) => r.at)
    .sort((a, b) => a - b);
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

/** Arrivals at least the spacing apart, give or take one delayed arrival; on the whole, never closer. */
function expectSpaced(times: number[]): void {
  expect(Math.min(...gaps(times))).toBeGreaterThanOrEqual(SPACING_MS - JITTER_MS);
  expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual((times.length - 1) * SPACING_MS - JITTER_MS);
}

describe('Doubao session limits across two providers on one database', () => {
  it.each([
    ['a shared PostgreSQL limiter', true],
    ['a limiter per process', false],
  ] as const)(
    'spacing of one session with %s',
    async (_name, shared) => {
      const owner = oneSession();
      const providers = await twoProviders(shared, {
        DOUBAO_MIN_SPACING_MS: String(SPACING_MS),
        DOUBAO_SESSION_CONCURRENCY: '2',
      });
      const times = await burst(providers, owner);
      expect(times.length).toBeGreaterThanOrEqual(providers.length * STARTS_EACH);
      if (shared) expectSpaced(times);
      // Each provider spaces only its own calls: the two fire at the session side by side.
      else expect(Math.min(...gaps(times))).toBeLessThan(SPACING_MS / 2);
    },
    60_000,
  );

  it.each([
    ['a shared PostgreSQL limiter', 1, true],
    ['a limiter per process', 2, false],
  ] as const)(
    'requests of one session in flight with %s: %i at most',
    async (_name, expected, shared) => {
      const owner = oneSession();
      fake.knobs.streamDelayMs = 40; // a video request streams for a while, so requests would overlap
      try {
        const providers = await twoProviders(shared, { DOUBAO_MIN_SPACING_MS: '0', DOUBAO_SESSION_CONCURRENCY: '1' });
        await burst(providers, owner);
      } finally {
        fake.knobs.streamDelayMs = 0;
      }
      expect(fake.maxInFlight(owner)).toBe(expected);
    },
    60_000,
  );
});

describe('the shared limiter failing', () => {
  it('a slot that cannot be taken (the database is gone) fails the call as transient, without calling Doubao', async () => {
    const owner = oneSession();
    const limiter = await PostgresLimiter.open(await cluster().createDatabase());
    const provider = await providerWith(limiter);
    await limiter.close();
    const from = fake.requests.length;
    const failed = await provider.start({ prompt: 'a lighthouse', guest: false }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(UpstreamError);
    expect((failed as UpstreamError).retryable).toBe(true);
    expect((failed as Error).message).toMatch(/request limit of the Doubao session could not be taken/);
    expect(fake.requests.slice(from).filter((r) => r.owner === owner)).toEqual([]);
  });

  it('a slot that cannot be let go does not undo a video Doubao accepted', async () => {
    oneSession();
    const inner = new InProcessLimiter();
    let releases = 0;
    const unreleasable: UpstreamLimiter = {
      acquire: async (key, rules, signal) => {
        const slot = await inner.acquire(key, rules, signal);
        return {
          release: async () => {
            releases++;
            await slot.release();
            throw new Error('Connection terminated unexpectedly');
          },
        };
      },
      close: () => inner.close(),
    };
    const provider = await providerWith(unreleasable);
    const ref = await provider.start({ prompt: 'a lighthouse', guest: false });
    expect(fake.conversations.has(ref.conversationId as string)).toBe(true);
    expect(releases).toBeGreaterThan(0);
  });
});

describe('two service processes with DATABASE_URL and the Doubao provider', () => {
  it('keep one session spaced between them for tasks submitted over HTTP, and stop cleanly', async () => {
    const owner = oneSession();
    const env = {
      ...doubaoFakeEnv(fake),
      DOUBAO_SESSIONS_FILE: join(dir, 'session.json'),
      DOUBAO_TRANSPORT: 'http',
      DOUBAO_MIN_SPACING_MS: String(SPACING_MS),
      DATABASE_URL: await cluster().createDatabase(),
    };
    const from = fake.requests.length;
    for (let i = 0; i < 2; i++) {
      const dataDir = join(dir, `process-${i}`);
      mkdirSync(dataDir);
      services.push(spawnService(dataDir, env));
    }
    const bases = await Promise.all(services.map((service) => service.baseUrl()));
    await Promise.all(
      bases.flatMap((base, p) =>
        Array.from({ length: STARTS_EACH }, async (_, i) => {
          const res = await request(`${base}/api/video-gen/generate`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ prompt: `process ${p} video ${i}` }),
          });
          expect(res.statusCode).toBe(200);
          await res.body.dump();
        }),
      ),
    );
    const sessionCalls = () => fake.requests.slice(from).filter((r) => r.owner === owner);
    const completions = () => sessionCalls().filter((r) => r.path.includes('completion')).length;
    await eventually('every video requested', () => completions() >= 2 * STARTS_EACH, 30_000);
    const stopped = await Promise.all(services.map((service) => service.terminate()));
    expect(stopped.map((s) => s.code)).toEqual([0, 0]);
    const times = sessionCalls()
      .map((r) => r.at)
      .sort((a, b) => a - b);
    expectSpaced(times);
    for (const service of services) expect(service.output()).not.toMatch(/stopping upstream limiter failed/);
  }, 90_000);
});
