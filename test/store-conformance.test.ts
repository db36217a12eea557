/**
 * One list of cases for every task store (issue 16): the SQLite store behind the async contract and the PostgreSQL
 * store (a throw-away cluster from test/support/postgres.ts; without the server binaries these tests fail and say
 * how to get them). The cases state what the SQLite store does today — tasks, filters and paging, expectations,
 * claims, fenced leases, take-over of a gone owner, deliveries, incidents, provider state, counts, retention — so
 * the PostgreSQL store is held to the same answers. "Two processes" is two pools on PostgreSQL; on SQLite (one
 * process per file) it is two callers racing in one process. The cases only PostgreSQL can have (live owners side
 * by side, migrations raced by several processes, wake-ups across processes) follow in their own block. The shared
 * cases live in test/support/store-cases-tasks.ts, store-cases-outbox.ts, store-cases-admin.ts (the admin page's reads) and
 * store-cases-users.ts (per-user limits) and store-cases-queue.ts (live queue, waiting photos).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskStoreAsync } from '../src/core/store/contract.js';
import { PostgresTaskStore } from '../src/core/store/postgres.js';
import { migrate, PG_MIGRATIONS } from '../src/core/store/postgres-migrations.js';
import { SqliteTaskStoreAsync } from '../src/core/store/sqlite-async.js';
import { LeaseLost, TaskStore } from '../src/core/store.js';
import { type PostgresCluster, startPostgres } from './support/postgres.js';
import { ADMIN_CASES } from './support/store-cases-admin.js';
import { OUTBOX_CASES } from './support/store-cases-outbox.js';
import { QUEUE_CASES } from './support/store-cases-queue.js';
import { TASK_CASES } from './support/store-cases-tasks.js';
import { USER_CASES } from './support/store-cases-users.js';
import { clock, type Fixture, now, OWNER_TIMEOUT_MS, START, task, until } from './support/store-conformance.js';

const opened: TaskStoreAsync[] = [];

function sqliteFixture(): Fixture {
  let dir: string | undefined;
  return {
    name: 'SQLite',
    setup: async () => undefined,
    teardown: async () => undefined,
    fresh: async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = mkdtempSync(join(tmpdir(), 'dvb-conformance-'));
    },
    open: async () => {
      const store = new SqliteTaskStoreAsync(new TaskStore(join(dir!, 'tasks.db'), now));
      opened.push(store);
      return store;
    },
    peer: async (store) => store,
    kill: async (store) => {
      opened.splice(opened.indexOf(store), 1);
      await store.close();
    },
  };
}

/** One cluster for the file, started by the first block that needs it (a missing server fails that block). */
let clusterStart: Promise<PostgresCluster> | undefined;
const sharedCluster = () => {
  clusterStart ??= startPostgres().then((cluster) => {
    console.info(`PostgreSQL test cluster up in ${cluster.startMs} ms`);
    return cluster;
  });
  return clusterStart;
};
afterAll(async () => {
  await (await clusterStart?.catch(() => undefined))?.stop();
});

/** The PostgreSQL store; with `icuLocale`, on databases whose default collation is that locale's, not C. */
function postgresFixture(icuLocale?: string): Fixture {
  let cluster: PostgresCluster | undefined;
  let url = '';
  const open = async () => {
    const store = await PostgresTaskStore.open(url, { now, ownerTimeoutMs: OWNER_TIMEOUT_MS, poolSize: 4 });
    opened.push(store);
    return store;
  };
  return {
    name: icuLocale ? `PostgreSQL, ${icuLocale} collation` : 'PostgreSQL',
    setup: async () => {
      cluster = await sharedCluster();
    },
    teardown: async () => undefined,
    fresh: async () => {
      url = await cluster!.createDatabase(undefined, { icuLocale });
    },
    open,
    peer: () => open(),
    kill: async (store) => {
      opened.splice(opened.indexOf(store), 1);
      await store.close();
    },
  };
}

async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
}

// An operator's database sorts text by its own collation (en-US puts 'b' before 'Z'); the answers must not change.
describe.each([sqliteFixture(), postgresFixture(), postgresFixture('en-US')])(
  'task store conformance: $name',
  (fixture) => {
    beforeAll(() => fixture.setup(), 60_000);
    afterAll(() => fixture.teardown());
    afterEach(closeAll);

    for (const c of [...TASK_CASES, ...OUTBOX_CASES, ...ADMIN_CASES, ...USER_CASES, ...QUEUE_CASES]) {
      it(c.name, async () => {
        clock.at = START;
        await fixture.fresh();
        await c.run(fixture);
      });
    }
  },
);

describe('PostgreSQL: what only a shared store has', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await sharedCluster();
  }, 60_000);
  afterEach(closeAll);

  const openAt = async (url: string) => {
    const store = await PostgresTaskStore.open(url, { now, ownerTimeoutMs: OWNER_TIMEOUT_MS, poolSize: 4 });
    opened.push(store);
    return store;
  };

  it('processes starting together migrate once: one applies the schema, the others find it done', async () => {
    const url = await cluster.createDatabase();
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 2 }));
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool)));
      const versions = PG_MIGRATIONS.map((_, index) => index + 1);
      expect(applied.filter((done) => done.length > 0)).toEqual([versions]);
      const { rows } = await pools[0]!.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows).toEqual(versions.map((version) => ({ version })));
      expect(await migrate(pools[0]!, [...PG_MIGRATIONS, 'SELECT 1'])).toEqual([versions.length + 1]);
      await expect(migrate(pools[1]!)).rejects.toThrow(/newer than this build knows/);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('a database an older build migrated (versions 1–2) is brought up to date with its tasks kept', async () => {
    const url = await cluster.createDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      expect(await migrate(pool, PG_MIGRATIONS.slice(0, 2))).toEqual([1, 2]);
      await pool.query(
        `INSERT INTO tasks (id, provider, kind, prompt, conversation_id, message_id, status, max_attempts, platform,
           user_id, origin, created_at, updated_at)
         VALUES ('old', 'p', 't2v', 'made before', 'c', 'm', 'failed', 5, 'http', 'u', '{"platform":"http","userId":"u"}',
           '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z')`,
      );
    } finally {
      await pool.end();
    }
    const store = await openAt(url);
    expect(await store.integrityCheck()).toBe('ok');
    expect(await store.get('old')).toMatchObject({ prompt: 'made before', options: null, errorReason: null });
    expect(await store.taskEvents('old')).toEqual([]);
    expect(await store.userLimits('http', 'u')).toBeUndefined();
    expect(await store.countPendingPhotos()).toBe(0);
  });

  it('a failing migration leaves the schema as it was', async () => {
    const url = await cluster.createDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await expect(migrate(pool, ['CREATE TABLE a (x int)', 'CREATE TABLE b (x nonsense)'])).rejects.toThrow();
      const { rows } = await pool.query(
        "SELECT to_regclass('a')::text AS a, to_regclass('schema_migrations')::text AS m",
      );
      expect(rows).toEqual([{ a: null, m: null }]);
    } finally {
      await pool.end();
    }
  });

  it('a live owner keeps its leases when another process takes over; they go once it falls silent', async () => {
    const url = await cluster.createDatabase();
    const a = await openAt(url);
    const b = await openAt(url);
    await a.insert(task('held'));
    await a.claimDue('p', 'unstarted', 600_000, 1);
    clock.at += OWNER_TIMEOUT_MS / 2;
    await a.heartbeat();
    clock.at += OWNER_TIMEOUT_MS / 2 + 1; // b's registration is older than the timeout, a's heartbeat is not
    expect(await b.takeOverLeases({ provider: 'p', holdUnstarted: false, leaseMs: 1 })).toEqual([]);
    expect(await b.get('held')).toMatchObject({ leaseOwner: a.owner, leaseToken: 1 });
    await a.update('held', { attempts: 1 }, { token: 1 });
    clock.at += OWNER_TIMEOUT_MS + 1; // a fell silent; b beats
    await b.heartbeat();
    const held = await b.takeOverLeases({ provider: 'p', holdUnstarted: true, leaseMs: 5_000 });
    expect(held).toMatchObject([{ id: 'held', leaseOwner: b.owner, leaseToken: 2 }]);
    await expect(a.update('held', { attempts: 2 }, { token: 1 })).rejects.toBeInstanceOf(LeaseLost);
    // The silent owner comes back: its heartbeat registers it again, its old token stays refused.
    await a.heartbeat();
    await expect(a.renewLease('held', 1, 1_000)).rejects.toBeInstanceOf(LeaseLost);
  });

  it('a task created or retried by one process wakes the subscribers of the others', async () => {
    const url = await cluster.createDatabase();
    const listener = await openAt(url);
    const writer = await openAt(url);
    const heard: string[] = [];
    await listener.subscribeTaskWakeups((w) => heard.push(w.id));
    await writer.insert(task('a'));
    await writer.update('a', { status: 'cancelled' });
    await writer.update('a', { status: 'pending' });
    await until(() => heard.length >= 2);
    expect(heard).toEqual(['a', 'a']);
  });

  it('a subscription listens again after its connection is cut', async () => {
    const url = await cluster.createDatabase();
    const listener = await openAt(url);
    const heard: string[] = [];
    await listener.subscribeTaskWakeups((w) => heard.push(w.id));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()",
      );
      await new Promise((r) => setTimeout(r, 1_500)); // the retry comes a second later
      await listener.insert(task('after-cut'));
      await until(() => heard.includes('after-cut'));
    } finally {
      await admin.end();
    }
  });

  it('an unreachable database fails open() with the driver’s error, leaving nothing running', async () => {
    const url = cluster.url.replace(/:\d+\//, ':1/');
    await expect(PostgresTaskStore.open(url)).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});
