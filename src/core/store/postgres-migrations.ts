/**
 * The PostgreSQL schema as an append-only list of migrations, recorded in `schema_migrations`. Version 1 is the
 * SQLite schema of src/core/migrations.ts as it stands after its eight migrations, translated: epoch milliseconds as
 * BIGINT, ISO times as TEXT (compared as strings exactly as in SQLite), JSON as JSONB, flags as BOOLEAN, a `seq`
 * column for insertion order (SQLite's rowid), identity ids, and `lease_owner` on deliveries (several processes
 * claim them here, so a claim names its owner). A later SQLite migration needs its counterpart appended here (each
 * later version below names the SQLite migration it follows); version 1 is never edited.
 *
 * `migrate` applies what is missing in one transaction under an advisory lock, so processes starting together
 * migrate once: the others wait for the lock, then find every version recorded.
 */
import type pg from 'pg';

/** The advisory lock key of migrations (any constant the application uses for nothing else). */
const MIGRATION_LOCK = 7_241_016_001;

export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE tasks (
     seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
     id TEXT PRIMARY KEY,
     provider TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('t2v', 'i2v')),
     prompt TEXT NOT NULL,
     guest BOOLEAN NOT NULL DEFAULT false,
     image_path TEXT,
     image_ref JSONB,
     conversation_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     section_id TEXT,
     upstream JSONB,
     upstream_id TEXT,
     upstream_ended BOOLEAN NOT NULL DEFAULT false,
     status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
     attempts INTEGER NOT NULL DEFAULT 0,
     max_attempts INTEGER NOT NULL,
     next_attempt_at BIGINT,
     lease_until BIGINT,
     lease_owner TEXT,
     lease_token BIGINT NOT NULL DEFAULT 0,
     claimed_at BIGINT,
     progress DOUBLE PRECISION,
     video_urls JSONB NOT NULL DEFAULT '[]',
     video_file TEXT,
     video_removed_at TEXT,
     error TEXT,
     platform TEXT NOT NULL,
     user_id TEXT NOT NULL,
     origin JSONB NOT NULL,
     request_key TEXT,
     delivered_at TEXT,
     generation INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX tasks_seed_ids ON tasks (conversation_id, message_id);
   CREATE INDEX tasks_user ON tasks (platform, user_id, created_at);
   CREATE INDEX tasks_created ON tasks (created_at);
   CREATE INDEX tasks_wake ON tasks (provider, (upstream IS NULL), next_attempt_at)
     WHERE status NOT IN ('completed','failed','cancelled') AND next_attempt_at IS NOT NULL;
   CREATE INDEX tasks_leases ON tasks (provider, (upstream IS NULL), lease_until)
     WHERE status NOT IN ('completed','failed','cancelled') AND lease_until IS NOT NULL;
   CREATE UNIQUE INDEX tasks_request_key ON tasks (request_key) WHERE request_key IS NOT NULL;
   CREATE INDEX tasks_upstream_id ON tasks (provider, upstream_id) WHERE upstream_id IS NOT NULL;
   CREATE INDEX tasks_live ON tasks (provider, created_at, upstream_id)
     WHERE status NOT IN ('completed','failed','cancelled');
   CREATE INDEX tasks_lease_owner ON tasks (lease_owner) WHERE lease_until IS NOT NULL;
   CREATE INDEX tasks_kept_videos ON tasks (updated_at) WHERE video_file IS NOT NULL AND video_removed_at IS NULL;
   CREATE INDEX tasks_kept_images ON tasks (status, updated_at) WHERE image_path IS NOT NULL;
   CREATE TABLE provider_state (
     provider TEXT NOT NULL,
     key TEXT NOT NULL,
     value JSONB NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (provider, key)
   );
   CREATE TABLE owners (
     id TEXT PRIMARY KEY,
     pid INTEGER NOT NULL,
     host TEXT NOT NULL,
     started_at BIGINT NOT NULL,
     heartbeat_at BIGINT NOT NULL
   );
   CREATE TABLE health_probe (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     written_at TEXT NOT NULL
   );
   CREATE TABLE incidents (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     provider TEXT NOT NULL,
     subject TEXT NOT NULL,
     kind TEXT NOT NULL,
     code TEXT,
     message TEXT NOT NULL,
     action TEXT,
     created_at TEXT NOT NULL
   );
   CREATE INDEX incidents_subject ON incidents (provider, subject, id);
   CREATE TABLE deliveries (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('result', 'alert')),
     platform TEXT NOT NULL,
     task_id TEXT,
     outcome TEXT CHECK (outcome IN ('completed', 'failed', 'cancelled')),
     generation INTEGER,
     incident_id BIGINT,
     recipient TEXT,
     state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'superseded', 'given_up')),
     tries INTEGER NOT NULL DEFAULT 0,
     next_try_at BIGINT NOT NULL,
     lease_until BIGINT,
     lease_owner TEXT,
     claim INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     given_up_reason TEXT,
     created_at TEXT NOT NULL,
     sent_at TEXT,
     done_at TEXT
   );
   CREATE UNIQUE INDEX deliveries_result ON deliveries (task_id, generation) WHERE kind = 'result';
   CREATE UNIQUE INDEX deliveries_alert ON deliveries (incident_id, platform, recipient) WHERE kind = 'alert';
   CREATE INDEX deliveries_due ON deliveries (platform, kind, next_try_at) WHERE state = 'pending';
   CREATE INDEX deliveries_task ON deliveries (task_id) WHERE task_id IS NOT NULL;`,
  // 2: the cluster-wide upstream limiter (postgres-limiter.ts), PostgreSQL only: one process needs no shared limiter.
  // A key's row is locked by whoever acquires, and says when its next start may be (database clock, epoch ms); a
  // slot names the owner (the store's process) and the keeper lock that proves the holding process is alive.
  `CREATE TABLE limiter_keys (
     key TEXT PRIMARY KEY,
     next_start_at BIGINT NOT NULL DEFAULT 0
   );
   CREATE TABLE limiter_slots (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     key TEXT NOT NULL,
     owner TEXT NOT NULL,
     keeper INTEGER NOT NULL,
     acquired_at BIGINT NOT NULL
   );
   CREATE INDEX limiter_slots_key ON limiter_slots (key);`,
  // 3: generation options (issue 15; SQLite's `video_options TEXT`): the ratio, duration and resolution a task asked
  // for, as JSON; NULL for tasks made before and for any that asked for none.
  'ALTER TABLE tasks ADD COLUMN video_options JSONB;',
  // 4: the admin page (issue 17; SQLite's `task_events`): every task event as a row, a `completed` one with how long its
  // run took (`run_ms`), read back by the admin page's history and time-to-video; failing deliveries by state. Times
  // and providers compare byte-wise ("C"), as SQLite compares text, whatever the database's default collation.
  `CREATE TABLE task_events (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     task_id TEXT NOT NULL,
     generation INTEGER NOT NULL,
     provider TEXT COLLATE "C" NOT NULL,
     event TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     progress DOUBLE PRECISION,
     note TEXT,
     run_ms BIGINT,
     at TEXT COLLATE "C" NOT NULL
   );
   CREATE INDEX task_events_task ON task_events (task_id, generation, event);
   CREATE INDEX task_events_completed ON task_events (at, provider, run_ms) WHERE event = 'completed';
   CREATE INDEX deliveries_failing ON deliveries (state, tries) WHERE state IN ('pending', 'given_up');`,
  // 5: who may use it and in their language (issue 15; SQLite's `user_limits` and `tasks.error_reason`): an admin's
  // limits for one chat user (null = the configured default) and their last daily reset; why a task failed as a code
  // and parameters (JSON), so each bot says it in its user's language.
  `CREATE TABLE user_limits (
     platform TEXT NOT NULL,
     user_id TEXT NOT NULL,
     max_active INTEGER,
     daily_limit INTEGER,
     daily_reset_at TEXT,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (platform, user_id)
   );
   ALTER TABLE tasks ADD COLUMN error_reason JSONB;`,
  // 6: control and live queue (issue 15; SQLite's `video_times` and `pending_photos`): when each task's upstream job
  // started and its video was ready (the wait estimate's history; `seq` orders ties as SQLite's rowid does), and a
  // Telegram photo waiting for its prompt, kept as JSON text as SQLite keeps it.
  `CREATE TABLE video_times (
     seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
     task_id TEXT PRIMARY KEY,
     provider TEXT NOT NULL,
     started_at BIGINT NOT NULL,
     done_at BIGINT
   );
   CREATE INDEX video_times_recent ON video_times (provider, done_at) WHERE done_at IS NOT NULL;
   CREATE TABLE pending_photos (
     key TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     photo TEXT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX pending_photos_expiry ON pending_photos (expires_at);`,
  // 7: the admin page's sign-in sessions (issue 16; SQLite's `admin_sessions`), so any process knows them; only a
  // hash of the session id is kept.
  `CREATE TABLE admin_sessions (
     id_hash TEXT PRIMARY KEY,
     csrf TEXT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);`,
];

/**
 * Brings the schema up to date; returns the versions this call applied (none when another process did it first).
 * Everything happens in one transaction: a failing migration leaves the schema as it was.
 */
export async function migrate(pool: pg.Pool, migrations: readonly string[] = PG_MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)',
    );
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    if (current > migrations.length) {
      throw new Error(
        `the database schema is at version ${current}, newer than this build knows (${migrations.length}): run the newer build`,
      );
    }
    const applied: number[] = [];
    for (const [index, sql] of migrations.entries()) {
      if (index < current) continue;
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [index + 1]);
      applied.push(index + 1);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The schema version recorded in the database (0 before the first migration). */
export async function schemaVersion(pool: pg.Pool): Promise<number> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (!exists.rows[0]?.t) return 0;
  const { rows } = await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return rows[0]?.v ?? 0;
}
